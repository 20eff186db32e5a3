/**
 * The einsum equations of MultiHeadAttention, as Keras builds them: projections that map the
 * feature axis to [heads, channels] (and back), and the score and combine equations over the
 * attention axes, every other axis but the channels one riding along as a batch axis.
 */

const letter = (i: number): string => String.fromCharCode(97 + i);

/**
 * A projection `free…bound…, bound…out… -> free…out…`: the input keeps its first `free` axes,
 * contracts `bound` axes with the kernel, and gains `out` axes, which also get the bias.
 * `projection(2, 1, 2)` is 'abc,cde->abde' with bias axes 'de'.
 */
export function projection(free: number, bound: number, out: number): { equation: string; biasAxes: string } {
  const f = Array.from({ length: free }, (_, i) => letter(i)).join('');
  const b = Array.from({ length: bound }, (_, i) => letter(free + i)).join('');
  const o = Array.from({ length: out }, (_, i) => letter(free + bound + i)).join('');
  return { equation: `${f}${b},${b}${o}->${f}${o}`, biasAxes: o };
}

/**
 * For projected tensors of `rank` ([batch, …, heads, channels]) attending over `axes`: `scores`
 * takes (key, query) to [batch-like axes, query's attention axes, key's attention axes], the
 * heads among the batch-like axes; `combine` takes (probabilities, value) back to the query's
 * layout. For rank 4 and axes [1]: 'aecd,abcd->acbe' and 'acbe,aecd->abcd'.
 */
export function attentionEquations(rank: number, axes: readonly number[]): { scores: string; combine: string; scoresRank: number } {
  const target = Array.from({ length: rank }, (_, i) => letter(i));
  const batchLike = target.map((_, i) => i).filter((i) => !axes.includes(i) && i !== rank - 1);
  let next = rank;
  const source = target.map((c, i) => (axes.includes(i) ? letter(next++) : c));
  const product = [...batchLike.map((i) => target[i]), ...axes.map((i) => target[i]), ...axes.map((i) => source[i])].join('');
  const [t, s] = [target.join(''), source.join('')];
  return { scores: `${s},${t}->${product}`, combine: `${product},${s}->${t}`, scoresRank: product.length };
}
