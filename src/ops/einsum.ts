import { ENGINE } from '../engine.js';
import { fail, fmtShape } from '../errors.js';
import { eye } from '../creation.js';
import type { Dim } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { asTensor, type TensorLike } from '../convert.js';
import { multiply } from './binary.js';
import { cast, resultType } from './select.js';
import { sum } from './reduce.js';
import { BROADCAST_TO, product, reshape, transpose } from './movement.js';
import { matmulTransposed } from './matmul.js';

/** A tensor with one label per axis. */
interface Term {
  t: Tensor;
  labels: string[];
}

const OP = 'einsum';

// the axes of an ellipsis get labels no subscript can spell, the same ones counted from the
// right in every operand, so that ellipsis axes line up (and broadcast) as in NumPy
const ellipsisLabels = (n: number): string[] => Array.from({ length: n }, (_, i) => String.fromCharCode(0x100 + n - 1 - i));
const isEllipsis = (l: string): boolean => l.charCodeAt(0) >= 0x100;
const show = (l: string): string => (isEllipsis(l) ? '...' : l);

/** A subscript as [letters] or [before, after] an ellipsis. */
function splitSpec(spec: string): string[] {
  const parts = spec.split('...');
  if (parts.length > 2) fail(OP, `'${spec}' has more than one ellipsis`);
  for (const c of parts.join('')) if (!/[a-zA-Z]/.test(c)) fail(OP, `subscripts must be letters, got '${c}' in '${spec}'`);
  return parts;
}

const labelsOf = (parts: string[], ellipsis: number): string[] =>
  parts.length === 1 ? [...parts[0]] : [...parts[0], ...ellipsisLabels(ellipsis), ...parts[1]];

/** Input and output labels; the implicit output is the ellipsis, then the labels used once, sorted. */
function parse(subscripts: string, ranks: readonly number[]): { inputs: string[][]; output: string[] } {
  const sides = subscripts.replace(/\s/g, '').split('->');
  if (sides.length > 2) fail(OP, `'${subscripts}' has more than one '->'`);
  const specs = sides[0].split(',');
  if (specs.length !== ranks.length) fail(OP, `'${subscripts}' has ${specs.length} operand(s), got ${ranks.length} tensor(s)`);
  let ellipsis = 0;
  const inputs = specs.map((spec, i) => {
    const parts = splitSpec(spec);
    const e = ranks[i] - parts.join('').length;
    if (e < 0 || (parts.length === 1 && e !== 0)) fail(OP, `'${spec}' does not fit operand ${i} of rank ${ranks[i]}`);
    ellipsis = Math.max(ellipsis, e);
    return labelsOf(parts, e);
  });
  const all = inputs.flat();
  if (sides.length === 1) {
    const once = [...new Set(all)].filter((l) => !isEllipsis(l) && all.indexOf(l) === all.lastIndexOf(l)).sort();
    return { inputs, output: [...ellipsisLabels(ellipsis), ...once] };
  }
  const output = labelsOf(splitSpec(sides[1]), ellipsis);
  for (const l of output) if (!all.includes(l)) fail(OP, `output subscript '${l}' appears in no input of '${subscripts}'`);
  if (new Set(output).size !== output.length) fail(OP, `output subscripts repeat in '${subscripts}'`);
  return { inputs, output };
}

/** Each label's size; size 1 broadcasts against any other. */
function labelSizes(terms: readonly Term[]): Map<string, Dim> {
  const sizes = new Map<string, Dim>();
  terms.forEach(({ t, labels }, i) =>
    labels.forEach((l, k) => {
      const d = t.shape[k] as Dim;
      const known = sizes.get(l);
      if (known === undefined || known === 1 || (known === null && d !== 1)) sizes.set(l, d);
      else if (d !== 1 && d !== null && d !== known) {
        fail(OP, `subscript '${show(l)}' has size ${known} in one operand and ${d} in operand ${i} (shape ${fmtShape(t.shape)})`);
      }
    }),
  );
  return sizes;
}

/** Broadcasts size-1 axes, takes diagonals of repeated labels, and sums labels nothing else needs. */
function prepare({ t, labels }: Term, sizes: Map<string, Dim>, needed: Set<string>): Term {
  if (labels.some((l, i) => t.shape[i] === 1 && sizes.get(l) !== 1)) {
    t = ENGINE.run(BROADCAST_TO, [t], { shape: labels.map((l, i) => (t.shape[i] === 1 ? sizes.get(l)! : t.shape[i])) });
  }
  for (let q = labels.findIndex((l, i) => labels.indexOf(l) !== i); q >= 0; q = labels.findIndex((l, i) => labels.indexOf(l) !== i)) {
    // the diagonal: everything off it masked to 0, then one of the two axes summed away
    const p = labels.indexOf(labels[q]);
    const n = t.shape[p] as Dim;
    if (n === null) fail(OP, `cannot take the diagonal of '${show(labels[q])}', whose size is unknown`);
    t = sum(multiply(t, reshape(eye(n, n, 0, t.dtype), labels.map((_, i) => (i === p || i === q ? n : 1)))), q);
    labels = labels.filter((_, i) => i !== q);
  }
  const unused = labels.flatMap((l, i) => (needed.has(l) ? [] : [i]));
  if (unused.length > 0) {
    t = sum(t, unused);
    labels = labels.filter((l) => needed.has(l));
  }
  return { t, labels };
}

/**
 * `term` as a batch of matrices [...batch, rows, cols] over the labels `rows` and `cols`, read
 * transposed when its axes already lie as [...batch, cols, rows] (no copy).
 */
function asMatrices(term: Term, batch: string[], rows: string[], cols: string[]): { t: Tensor; transposed: boolean } {
  const inPlace = (order: string[]) => order.every((l, i) => term.labels.indexOf(l) === i);
  const transposed = !inPlace([...batch, ...rows, ...cols]) && inPlace([...batch, ...cols, ...rows]);
  const dims = (ls: string[]) => ls.map((l) => term.t.shape[term.labels.indexOf(l)] as Dim);
  const [first, second] = transposed ? [cols, rows] : [rows, cols];
  return { t: arrange(term, [...batch, ...first, ...second], [...dims(batch), product(dims(first)), product(dims(second))]), transposed };
}

/** The axes of `term` in the order of `labels`, reshaped to `shape`. */
const arrange = (term: Term, labels: string[], shape: Dim[]): Tensor =>
  reshape(transpose(term.t, labels.map((l) => term.labels.indexOf(l))), shape);

/** One batched matmul: shared labels still needed are batch axes, the other shared ones are summed. */
function contract(a: Term, b: Term, needed: Set<string>): Term {
  const shared = a.labels.filter((l) => b.labels.includes(l));
  const batch = shared.filter((l) => needed.has(l));
  const summed = shared.filter((l) => !needed.has(l));
  const freeA = a.labels.filter((l) => !shared.includes(l));
  const freeB = b.labels.filter((l) => !shared.includes(l));
  const dim = (l: string) => (a.labels.includes(l) ? a.t.shape[a.labels.indexOf(l)] : b.t.shape[b.labels.indexOf(l)]) as Dim;
  const labels = [...batch, ...freeA, ...freeB];
  if (summed.length === 0) {
    // nothing to sum ('bi,bi->bi', 'i,j->ij'): an elementwise product is cheaper than 1×1 matmuls
    const ones = (ls: string[]) => ls.map(() => 1);
    const ta = arrange(a, [...batch, ...freeA], [...batch.map(dim), ...freeA.map(dim), ...ones(freeB)]);
    const tb = arrange(b, [...batch, ...freeB], [...batch.map(dim), ...ones(freeA), ...freeB.map(dim)]);
    return { t: multiply(ta, tb), labels };
  }
  const ma = asMatrices(a, batch, freeA, summed);
  const mb = asMatrices(b, batch, summed, freeB);
  const out = matmulTransposed(ma.t, mb.t, ma.transposed, mb.transposed);
  return { t: reshape(out, labels.map(dim)), labels };
}

/**
 * Einstein summation (numpy.einsum): each operand's axes are labelled by letters, labels shared
 * between operands multiply, labels absent from the output are summed. Supports an explicit
 * (`->`) or implicit output, `...` for leading or trailing axes, repeated labels in one operand
 * (diagonals) and any number of operands, contracted left to right as batched matmuls.
 * @example
 * kiln.ops.einsum('ij,jk->ik', a, b);          // matmul(a, b)
 * kiln.ops.einsum('bhqd,bhkd->bhqk', q, k);    // attention scores
 */
export function einsum(subscripts: string, ...operands: TensorLike[]): Tensor {
  if (typeof subscripts !== 'string') fail(OP, `expected a subscripts string first, got ${typeof subscripts}`);
  if (operands.length === 0) fail(OP, 'expected at least one operand');
  const ts = operands.map((x) => asTensor(x, OP));
  const dtype = resultType(...ts.map((t) => t.dtype));
  if (dtype === 'bool') fail(OP, 'expected numeric operands, got bool; cast them to a number dtype first');
  const { inputs, output } = parse(subscripts, ts.map((t) => t.rank));
  const raw = ts.map((t, i) => ({ t: cast(t, dtype), labels: inputs[i] }));
  const sizes = labelSizes(raw);
  const neededBeside = (others: readonly Term[]) => new Set([...output, ...others.flatMap((o) => o.labels)]);
  let terms = raw.map((term, i) => prepare(term, sizes, neededBeside(raw.filter((_, j) => j !== i))));
  while (terms.length > 1) {
    const [a, b, ...rest] = terms;
    terms = [contract(a, b, neededBeside(rest)), ...rest];
  }
  const [{ t, labels }] = terms;
  return transpose(t, output.map((l) => labels.indexOf(l)));
}
