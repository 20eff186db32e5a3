/**
 * Gradients at the edges of each op's domain (issue #17): bases at and below 0, ties, kinks,
 * zeros in a product, ±Infinity, saturation at ±800, -Infinity logits and NaN inputs, where the
 * finite-difference tests in test/gradients.test.ts never draw. Every expected value is derived
 * by hand in the comment beside it, never produced by kiln, and follows the rules that sit beside
 * each op in src/ops/*.ts (TF's and Keras's choices at the kinks). Each case is the gradient of
 * sum(w · f(x)), w all ones (dy = 1) unless given, on every available backend in float32, and in
 * float64 on reference; cases that run a fused kernel are checked with fused kernels on and off.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import type { Tensor } from '../../index.js';

const { ops } = kiln;

type FloatDType = 'float32' | 'float64';

interface Case {
  name: string;
  f: (...xs: Tensor[]) => Tensor;
  /** The values of each differentiated input, 1-d unless `shapes` says otherwise. */
  x: number[][];
  shapes?: number[][];
  /** Weights on f's output, flattened; all ones (dy = 1) when left out. */
  w?: number[];
  /** The gradient of sum(w · f(x)) with respect to each input, derived by hand. */
  dx: number[][];
  /** f's value, flattened, where the edge shows in the value too (NaN kept, ±Infinity). */
  y?: number[];
  /** f runs a fused kernel: checked with fused kernels on and off. */
  fused?: boolean;
}

const LN2 = Math.log(2);
const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
const INF = Infinity;

const CASES: Case[] = [
  // ---- pow: d/dx x^y = y·x^(y-1); d/dy x^y = x^y·log x where x > 0, else 0 (TF's guard)
  // x = -2, y = 3: (-2)^3 = -8; d/dx = 3·(-2)² = 12; log(-2) is undefined, so d/dy = 0
  { name: 'pow at a negative base, odd integer exponent', f: ops.power, x: [[-2], [3]], y: [-8], dx: [[12], [0]] },
  // x = -3, y = 2: 9; d/dx = 2·(-3) = -6; d/dy = 0 (x < 0)
  { name: 'pow at a negative base, even integer exponent', f: ops.power, x: [[-3], [2]], y: [9], dx: [[-6], [0]] },
  // x = 0, y = 2: 0; d/dx = 2·0¹ = 0; d/dy = 0 (x = 0: 0^y·log 0 would be 0·-∞)
  { name: 'pow at base 0, exponent 2', f: ops.power, x: [[0], [2]], y: [0], dx: [[0], [0]] },
  // x = 0, y = 0.5: sqrt(0) = 0; d/dx = 0.5·0^(-0.5) = +∞; d/dy = 0
  { name: 'pow at base 0, exponent 0.5', f: ops.power, x: [[0], [0.5]], y: [0], dx: [[INF], [0]] },
  // x = 2, y = 0: 1; d/dx = 0·2^(-1) = 0; d/dy = 2^0·log 2 = log 2
  { name: 'pow at exponent 0', f: ops.power, x: [[2], [0]], y: [1], dx: [[0], [LN2]] },

  // ---- abs: sign(x), which is 0 at ±0 and (documented in unary.ts) at NaN
  { name: 'abs at 0 and -0', f: ops.abs, x: [[0, -0]], dx: [[0, 0]] },
  // |NaN| = NaN; the gradient is dy·sign(NaN) = 0 (sign gives 0 for NaN, by design)
  { name: 'abs at NaN', f: ops.abs, x: [[NaN]], y: [NaN], dx: [[0]] },

  // ---- relu family: the gradient at each kink is 0 (TF's ReluGrad and Relu6Grad)
  // relu = x <= 0 ? 0 : x: at 0 the 0 branch, gradient 0; at -1: 0, at 2: 1
  { name: 'relu at 0', f: ops.relu, x: [[0, -1, 2]], y: [0, 0, 2], dx: [[0, 0, 1]] },
  // NaN <= 0 is false, so relu(NaN) takes the x branch: NaN stays NaN (documented in
  // activations.ts) and where passes dy = 1 to that branch
  { name: 'relu at NaN', f: ops.relu, x: [[NaN]], y: [NaN], dx: [[1]] },
  // relu6 at 0 and 6 (both kinks): 0; inside (3): 1; beyond (7): 0
  { name: 'relu6 at 0 and 6', f: ops.relu6, x: [[0, 6, 3, 7]], y: [0, 6, 3, 6], dx: [[0, 0, 1, 0]] },
  // NaN fails both x <= 0 and x >= 6: the x branch, value NaN, gradient 1
  { name: 'relu6 at NaN', f: ops.relu6, x: [[NaN]], y: [NaN], dx: [[1]] },
  // x > 0 ? x : 0.2·x: at 0 the slope branch, 0.2 (TF's LeakyReluGrad: features > 0)
  { name: 'leakyRelu at 0', f: (x) => ops.leakyRelu(x), x: [[0]], dx: [[0.2]] },
  // hardSigmoid = relu6(x + 3) / 6: kinks at x = -3 and 3 give 0; at 0 the slope 1/6
  { name: 'hardSigmoid at its kinks', f: ops.hardSigmoid, x: [[-3, 3, 0]], y: [0, 1, 0.5], dx: [[0, 0, 1 / 6]] },
  // x·hardSigmoid(x): hardSigmoid(0) + 0·(1/6) = 0.5
  { name: 'hardSilu at 0', f: ops.hardSilu, x: [[0]], dx: [[0.5]] },

  // ---- elu = x <= 0 ? alpha·expm1(min(x, 0)) : x
  // at 0 the expm1 branch: alpha·e^0 = alpha (Keras's TF elu: where(x > 0, …, alpha·elu)); alpha 1: 1
  { name: 'elu at 0', f: (x) => ops.elu(x), x: [[0]], y: [0], dx: [[1]] },
  { name: 'elu at 0, alpha 0.5', f: (x) => ops.elu(x, 0.5), x: [[0]], y: [0], dx: [[0.5]] },
  // at 1000 the x branch, 1; the discarded expm1 branch sees min(1000, 0) = 0, so no ∞·0 = NaN
  { name: 'elu at 1000', f: (x) => ops.elu(x), x: [[1000]], y: [1000], dx: [[1]] },
  // at -∞: expm1(-∞) = -1, its gradient e^x = 0
  { name: 'elu at -Infinity', f: (x) => ops.elu(x), x: [[-INF]], y: [-1], dx: [[0]] },
  // NaN <= 0 is false: the x branch (documented in activations.ts), value NaN, gradient 1
  { name: 'elu at NaN', f: (x) => ops.elu(x), x: [[NaN]], y: [NaN], dx: [[1]] },

  // ---- maximum/minimum: a tie sends the whole gradient to the first operand (TF, Keras)
  // maximum([1, 2], [1, 3]): tie at 0 → a gets 1; at 1 b wins → b gets 1
  { name: 'maximum with a tie', f: ops.maximum, x: [[1, 2], [1, 3]], y: [1, 3], dx: [[1, 0], [0, 1]] },
  // minimum([1, 2], [1, 0]): tie at 0 → a; at 1 b is smaller → b
  { name: 'minimum with a tie', f: ops.minimum, x: [[1, 2], [1, 0]], y: [1, 0], dx: [[1, 0], [0, 1]] },
  // maximum(x, 0) at x = 0: x is the first operand, so it takes the whole gradient (unlike relu)
  { name: 'maximum(x, 0) at 0', f: (x) => ops.maximum(x, 0), x: [[0]], dx: [[1]] },
  // maximum(0, x) at x = 0: x is the second operand, so it gets nothing
  { name: 'maximum(0, x) at 0', f: (x) => ops.maximum(0, x), x: [[0]], dx: [[0]] },
  // clip = minimum(maximum(x, 0), 1): at either bound x is the first operand of each, gradient 1
  // (TF's clip_by_value); outside [0, 1]: 0; inside: 1
  { name: 'clip at its bounds', f: (x) => ops.clip(x, 0, 1), x: [[0, 1, -2, 3, 0.5]], y: [0, 1, 0, 1, 0.5], dx: [[1, 1, 0, 0, 1]] },

  // ---- max/min reductions: a tie splits dy evenly among the extreme positions (TF)
  // max([1, 3, 3]) = 3, held twice: 1/2 each
  { name: 'max with a tie', f: (x) => ops.max(x), x: [[1, 3, 3]], y: [3], dx: [[0, 0.5, 0.5]] },
  // max([∞, ∞, 1]) = ∞, held twice: 1/2 each (∞ = ∞ is a tie like any other)
  { name: 'max with a tie at Infinity', f: (x) => ops.max(x), x: [[INF, INF, 1]], y: [INF], dx: [[0.5, 0.5, 0]] },
  // min([2, 2, 2, 5]) = 2, held three times: 1/3 each
  { name: 'min with a three-way tie', f: (x) => ops.min(x), x: [[2, 2, 2, 5]], y: [2], dx: [[1 / 3, 1 / 3, 1 / 3, 0]] },
  // per row, weighted [1, 3]: row 0 max 2 twice → 1/2 each; row 1 max 5 twice → 3/2 each
  {
    name: 'max over an axis with ties, weighted', f: (x) => ops.max(x, 1),
    x: [[2, 2, 1, 0, 5, 5]], shapes: [[2, 3]], w: [1, 3], y: [2, 5], dx: [[0.5, 0.5, 0, 0, 1.5, 1.5]],
  },
  // per row, weighted [2, 1]: row 0 min -1 twice → 1 each; row 1 min 0 once → 1
  {
    name: 'min over an axis with ties, weighted', f: (x) => ops.min(x, 1),
    x: [[-1, 4, -1, 0, 7, 9]], shapes: [[2, 3]], w: [2, 1], y: [-1, 0], dx: [[1, 0, 1, 1, 0, 0]],
  },

  // ---- prod: d/dx_i = the product of the others
  // [2, 3, 4] (no zero): [3·4, 2·4, 2·3] = [12, 8, 6]
  { name: 'prod without zeros', f: (x) => ops.prod(x), x: [[2, 3, 4]], y: [24], dx: [[12, 8, 6]] },
  // [2, 0, 3] (one zero): only the zero's position is non-zero, 2·3 = 6
  { name: 'prod with one zero', f: (x) => ops.prod(x), x: [[2, 0, 3]], y: [0], dx: [[0, 6, 0]] },
  // [0, 2, 0] (two zeros): every product of the others holds a zero
  { name: 'prod with two zeros', f: (x) => ops.prod(x), x: [[0, 2, 0]], y: [0], dx: [[0, 0, 0]] },
  // per row: [2, 0, 3] → [0, 6, 0]; [0, 0, 1] → 0s; [1, 2, 4] → [8, 4, 2]
  {
    name: 'prod over an axis with zeros', f: (x) => ops.prod(x, 1),
    x: [[2, 0, 3, 0, 0, 1, 1, 2, 4]], shapes: [[3, 3]], y: [0, 0, 8], dx: [[0, 6, 0, 0, 0, 0, 8, 4, 2]],
  },

  // ---- roots, logs, exponentials at the ends of their domains
  // d sqrt(x) = 1/(2·sqrt x): at 0, 1/0 = +∞; at 4, 1/4
  { name: 'sqrt at 0', f: ops.sqrt, x: [[0, 4]], y: [0, 2], dx: [[INF, 0.25]] },
  // d log x = 1/x: at 0, +∞; at -2 (value NaN), -1/2
  { name: 'log at 0 and at a negative', f: ops.log, x: [[0, -2]], y: [-INF, NaN], dx: [[INF, -0.5]] },
  // d log1p x = 1/(1 + x): at -1, 1/0 = +∞
  { name: 'log1p at -1', f: ops.log1p, x: [[-1]], y: [-INF], dx: [[INF]] },
  // d e^x = e^x: at -∞, 0; at 0, 1
  { name: 'exp at -Infinity', f: ops.exp, x: [[-INF, 0]], y: [0, 1], dx: [[0, 1]] },
  // d expm1 x = e^x: at 0, 1; at -∞, 0; at 1, e
  { name: 'expm1 at 0, -Infinity and 1', f: ops.expm1, x: [[0, -INF, 1]], y: [0, -1, Math.E - 1], dx: [[1, 0, Math.E]] },
  // d(1/x) = -1/x²: at 0, -∞
  { name: 'reciprocal at 0', f: ops.reciprocal, x: [[0]], y: [INF], dx: [[-INF]] },
  // d x^(-1/2) = -1/(2·x^(3/2)): at 0, -∞
  { name: 'rsqrt at 0', f: ops.rsqrt, x: [[0]], y: [INF], dx: [[-INF]] },
  // d x² = 2x: at 0, 0; at -3, -6
  { name: 'square at 0', f: ops.square, x: [[0, -3]], y: [0, 9], dx: [[0, -6]] },

  // ---- saturating functions: exactly 0 far out, never NaN
  // d tanh = 1 - tanh²: tanh(±∞) = tanh(±800) = ±1 → 0; at 0, 1
  {
    name: 'tanh at ±Infinity and ±800', f: ops.tanh,
    x: [[INF, -INF, 800, -800, 0]], y: [1, -1, 1, -1, 0], dx: [[0, 0, 0, 0, 1]],
  },
  // d σ = σ(1 - σ): σ(±∞) and σ(±800) are 1 or 0 (e^-800 underflows), so 0; at 0, 1/4
  {
    name: 'sigmoid at ±Infinity and ±800', f: ops.sigmoid,
    x: [[INF, -INF, 800, -800, 0]], y: [1, 0, 1, 0, 0.5], dx: [[0, 0, 0, 0, 0.25]],
  },
  // d softplus = σ(x): σ(800) = 1, σ(-800) = 0, σ(0) = 1/2, σ(∞) = 1, σ(-∞) = 0
  {
    name: 'softplus at ±800, 0 and ±Infinity', f: ops.softplus,
    x: [[800, -800, 0, INF, -INF]], y: [800, 0, LN2, INF, 0], dx: [[1, 0, 0.5, 1, 0]],
  },
  // d erf = 2/√π·e^(-x²): at 0, 2/√π; at ±∞, 0
  { name: 'erf at 0 and ±Infinity', f: ops.erf, x: [[0, INF, -INF]], y: [0, 1, -1], dx: [[TWO_OVER_SQRT_PI, 0, 0]] },
  // d softsign = 1/(1 + |x|)²: at 0, 1
  { name: 'softsign at 0', f: ops.softsign, x: [[0]], dx: [[1]] },
  // d(x·σ(x)) = σ(x) + x·σ(x)(1 - σ(x)): at 0, 1/2; at 800, 1 + 800·0 = 1; at -800, 0 + -800·0 = 0
  { name: 'silu at 0 and ±800', f: ops.silu, x: [[0, 800, -800]], y: [0, 800, 0], dx: [[0.5, 1, 0]] },
  // gelu = x/2·(1 + inner(x)), inner(0) = 0: d at 0 = 1/2·(1 + 0) + 0 = 1/2; at ±800 inner
  // saturates at ±1 with a zero derivative: 1/2·(1 ± 1) = 1 and 0
  { name: 'gelu (tanh form) at 0 and ±800', f: (x) => ops.gelu(x), x: [[0, 800, -800]], y: [0, 800, 0], dx: [[0.5, 1, 0]] },
  { name: 'gelu (erf form) at 0 and ±800', f: (x) => ops.gelu(x, false), x: [[0, 800, -800]], y: [0, 800, 0], dx: [[0.5, 1, 0]] },

  // ---- piecewise constant: zero gradient, integers included
  { name: 'floor at integers', f: ops.floor, x: [[2, -3, 0]], y: [2, -3, 0], dx: [[0, 0, 0]] },
  { name: 'round at integers and halves', f: ops.round, x: [[2, -3, 0.5, 1.5]], y: [2, -3, 0, 2], dx: [[0, 0, 0, 0]] },

  // ---- division by zero
  // a/b: d/da = 1/b, d/db = -a/b². a = 1, b = 0: +∞ and -1/0 = -∞; a = -1, b = 0: +∞ and +1/0 = +∞
  { name: 'divide by 0', f: ops.divide, x: [[1, -1], [0, 0]], y: [INF, -INF], dx: [[INF, INF], [-INF, INF]] },
  // divideNoNan: 0 where b = 0, with gradient 0 for both; elsewhere a/b: 1/4 and -2/4² = -1/8
  { name: 'divideNoNan by 0', f: ops.divideNoNan, x: [[1, 2], [0, 4]], y: [0, 0.5], dx: [[0, 0.25], [0, -0.125]] },

  // ---- softmax family with -∞ and huge logits, weighted by w = [1, 2] per row
  // logSoftmax: d/dx_i = w_i - softmax_i·Σw. Row [0, -∞]: softmax [1, 0] → [1 - 3, 2 - 0] = [-2, 2].
  // Row [1000, 1000]: softmax [1/2, 1/2] → [1 - 3/2, 2 - 3/2] = [-1/2, 1/2]
  {
    name: 'logSoftmax with a -Infinity logit', f: (x) => ops.logSoftmax(x), fused: true,
    x: [[0, -INF, 1000, 1000]], shapes: [[2, 2]], w: [1, 2, 1, 2], y: [0, -INF, -LN2, -LN2], dx: [[-2, 2, -0.5, 0.5]],
  },
  // softmax: d/dx_i = s_i·(w_i - Σ s·w). Row [0, -∞]: s = [1, 0] → [1·(1 - 1), 0·(2 - 1)] = [0, 0].
  // Row [1000, 1000]: s = [1/2, 1/2], Σ s·w = 3/2 → [1/2·(-1/2), 1/2·(1/2)] = [-1/4, 1/4]
  {
    name: 'softmax with a -Infinity logit', f: (x) => ops.softmax(x), fused: true,
    x: [[0, -INF, 1000, 1000]], shapes: [[2, 2]], w: [1, 2, 1, 2], y: [1, 0, 0.5, 0.5], dx: [[0, 0, -0.25, 0.25]],
  },
  // the same along axis 0 (composed whatever the switch: the kernel takes the last axis only)
  {
    name: 'softmax over axis 0 with a -Infinity logit', f: (x) => ops.softmax(x, 0), fused: true,
    x: [[0, 1000, -INF, 1000]], shapes: [[2, 2]], w: [1, 1, 2, 2], y: [1, 0.5, 0, 0.5], dx: [[0, -0.25, 0, 0.25]],
  },
  // d logsumexp = softmax: [0, -∞] → [1, 0]; the shift by the max is not differentiated
  { name: 'logsumexp with a -Infinity logit', f: (x) => ops.logsumexp(x), x: [[0, -INF]], y: [0], dx: [[1, 0]] },

  // ---- dotProductAttention (H = 1, so scale 1), query, key and value as [1, T or S, 1, 1]
  // every key masked: Keras's equal masked logits give p = [1/2, 1/2], so y = (3 + 5) / 2 = 4 and
  // dv = [1/2, 1/2]; the mask holds the logits constant, so nothing reaches q or k
  {
    name: 'dotProductAttention with every key masked',
    f: (q, k, v) => ops.dotProductAttention(q, k, v, { mask: kiln.tensor([[false, false]]) }), fused: true,
    x: [[0.5], [1, -2], [3, 5]], shapes: [[1, 1, 1, 1], [1, 2, 1, 1], [1, 2, 1, 1]], y: [4], dx: [[0], [0, 0], [0.5, 0.5]],
  },
  // causal, q = [0.7, 0], k = [1, 3], v = [2, 6]: query 0 sees key 0 alone (y = 2, a softmax of one
  // logit: no gradient to q0 or k); query 1 has logits [0, 0], p = [1/2, 1/2], y = 4, and
  // dl = p·(dy·v - dy·y) = [-1, 1], so dq1 = Σ dl·k = 2 and dk = dl·q1 = 0; dv = [1 + 1/2, 1/2]
  {
    name: 'dotProductAttention, causal: a query that sees one key',
    f: (q, k, v) => ops.dotProductAttention(q, k, v, { isCausal: true }), fused: true,
    x: [[0.7, 0], [1, 3], [2, 6]], shapes: [[1, 2, 1, 1], [1, 2, 1, 1], [1, 2, 1, 1]], y: [2, 4], dx: [[0, 2], [0, 0], [1.5, 0.5]],
  },
];

// ---------------------------------------------------------------------------------------------

const TOLERANCE: Record<FloatDType, { rtol: number; atol: number }> = {
  float32: { rtol: 1e-6, atol: 1e-7 },
  float64: { rtol: 1e-12, atol: 1e-15 },
};

/** NaN matches NaN, ±∞ match exactly (so +∞ never passes for -∞), finite values within tolerance; 0 = -0. */
function mismatches(got: readonly number[], want: readonly number[], dtype: FloatDType): string[] {
  const { rtol, atol } = TOLERANCE[dtype];
  if (got.length !== want.length) return [`got ${got.length} values, expected ${want.length}`];
  const bad: string[] = [];
  want.forEach((w, i) => {
    const g = got[i];
    const ok = Number.isNaN(w) ? Number.isNaN(g) : Number.isFinite(w) ? Math.abs(g - w) <= atol + rtol * Math.abs(w) : g === w;
    if (!ok) bad.push(`[${i}]: got ${g}, expected ${w}`);
  });
  return bad;
}

/** f's value and the gradient of sum(w · f(x)), read back as numbers. */
function evaluate(c: Case, dtype: FloatDType): { y: number[]; dx: number[][] } {
  return kiln.tidy(() => {
    const xs = c.x.map((v, i) => kiln.tensor(v, c.shapes?.[i] ?? [v.length], dtype));
    const y = c.f(...xs);
    const w = kiln.tensor(c.w ?? new Array<number>(y.size).fill(1), y.shape as number[], dtype);
    const g = kiln.grad((...args: Tensor[]) => ops.sum(ops.multiply(c.f(...args), w)))(...xs);
    const grads = (xs.length === 1 ? [g] : g) as (Tensor | null)[];
    return { y: Array.from(y.dataSync()), dx: grads.map((t) => (t === null ? [] : Array.from(t.dataSync()))) };
  });
}

function check(c: Case, dtype: FloatDType): void {
  const { y, dx } = evaluate(c, dtype);
  const problems: string[] = [];
  if (c.y) problems.push(...mismatches(y, c.y, dtype).map((m) => `value ${m}`));
  c.dx.forEach((want, k) => problems.push(...mismatches(dx[k], want, dtype).map((m) => `d/dx${k} ${m}`)));
  expect(problems, `${c.name} (${dtype})`).toEqual([]);
}

const BACKENDS = kiln.listBackends();
const AVAILABLE = BACKENDS.filter((b) => b.available).map((b) => b.name);

for (const b of BACKENDS.filter((s) => !s.available)) {
  describe.skip(`${b.name} (unavailable: ${b.reason})`, () => {
    it('is skipped', () => {});
  });
}

describe.each(AVAILABLE)('gradients at the edges on %s', (backend) => {
  const fusedAtStart = kiln.fusedKernelsEnabled();
  beforeAll(async () => {
    await kiln.setBackend(backend);
  });
  afterAll(() => kiln.setFusedKernels(fusedAtStart));

  const dtypes: FloatDType[] = backend === 'reference' ? ['float32', 'float64'] : ['float32'];
  describe.each(dtypes)('%s', (dtype) => {
    for (const c of CASES) {
      for (const fused of c.fused ? [true, false] : [null]) {
        const label = fused === null ? c.name : `${c.name} (fused kernels ${fused ? 'on' : 'off'})`;
        it(label, () => {
          if (fused !== null) kiln.setFusedKernels(fused);
          try {
            check(c, dtype);
          } finally {
            kiln.setFusedKernels(fusedAtStart);
          }
        });
      }
    }
  });
});
