import type { DType } from '../../backends/contract.js';
import { fail } from '../errors.js';
import { generatorFor } from '../random.js';
import { checkDType, isFloat } from '../dtype.js';
import { checkAllocation } from '../limits.js';
import { checkShape } from '../shape.js';
import { tensorFrom } from '../convert.js';
import type { Tensor } from '../tensor.js';
import { RandomInitializer, type SeedOptions } from './initializer.js';

/**
 * An orthogonal matrix times `gain` (keras.initializers.Orthogonal): the Q of a QR
 * decomposition of normal draws. A shape of rank > 2 is treated as the matrix
 * [prod(shape[:-1]), shape[-1]]; its columns are orthonormal, or its rows when there are fewer
 * rows than columns.
 * @example
 * const w = new kiln.initializers.Orthogonal({ seed: 1 }).call([64, 64]); // wᵀw = I
 */
export class Orthogonal extends RandomInitializer {
  static readonly className: string = 'Orthogonal';
  readonly gain: number;

  constructor({ gain = 1, seed }: { gain?: number } & SeedOptions = {}) {
    super(seed);
    this.gain = gain;
  }

  call(shape: readonly number[], dtype: DType = 'float32'): Tensor {
    if (shape.length < 2) fail('Orthogonal', `the shape must have rank >= 2, got [${shape.join(',')}] of rank ${shape.length}`);
    checkShape('Orthogonal', shape);
    if (!isFloat(checkDType('Orthogonal', dtype))) fail('Orthogonal', `dtype must be float32 or float64, got ${dtype}`);
    const rows = shape.slice(0, -1).reduce((a, b) => a * b, 1);
    const cols = shape[shape.length - 1];
    const [m, n] = [Math.max(rows, cols), Math.min(rows, cols)];
    // Drawn on the host, where the QR runs (it is not a kernel), so no backend needs to read
    // back; rounded to `dtype` as Keras's draws in `dtype` are, then factored in float64.
    checkAllocation('Orthogonal', [m, n], 'float64');
    const g = generatorFor(this.seed);
    const a = new Float64Array(m * n);
    for (let i = 0; i < a.length; i++) a[i] = dtype === 'float32' ? Math.fround(g.normal()) : g.normal();
    const q = orthonormalColumns(a, m, n);
    const out = new Float64Array(rows * cols);
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        // fewer rows than columns: the transpose, whose rows are then orthonormal
        const k = rows >= cols ? i * n + j : j * m + i;
        out[k] = this.gain * q[i * n + j];
      }
    }
    return tensorFrom(out, shape, dtype, 'Orthogonal');
  }

  override getConfig(): Record<string, unknown> {
    return { ...super.getConfig(), gain: this.gain };
  }
}

/**
 * Q of the reduced QR decomposition of the row-major m×n matrix `a` (m >= n), by Householder
 * reflections, with each column's sign chosen so that R's diagonal is non-negative: that makes
 * Q a function of `a` alone (whatever the QR algorithm), and, for normal `a`, uniformly
 * distributed (Keras multiplies Q by sign(diag(R)) for the same reason). A zero diagonal entry
 * (probability 0) keeps its column as is rather than zeroing it, as sign(0) would.
 */
function orthonormalColumns(a: Float64Array, m: number, n: number): Float64Array {
  const r = a; // reduced to R in place
  const reflectors: { v: Float64Array; vv: number }[] = [];
  const diag = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let norm = 0;
    for (let i = k; i < m; i++) norm += r[i * n + k] ** 2;
    norm = Math.sqrt(norm);
    const x0 = r[k * n + k];
    // reflect onto -sign(x0)·|x|·e1 so that v = x - alpha·e1 does not cancel
    const alpha = x0 > 0 ? -norm : norm;
    const v = new Float64Array(m - k);
    for (let i = k; i < m; i++) v[i - k] = r[i * n + k];
    v[0] -= alpha;
    const vv = v.reduce((s, x) => s + x * x, 0);
    // an all-zero column needs no reflection
    if (vv > 0) reflect(v, vv, r, k, n, k);
    diag[k] = vv > 0 ? alpha : x0;
    reflectors.push({ v, vv });
  }
  // Q = H0·H1·…·H(n-1) applied to the first n columns of the identity
  const q = new Float64Array(m * n);
  for (let j = 0; j < n; j++) q[j * n + j] = 1;
  for (let k = n - 1; k >= 0; k--) {
    const { v, vv } = reflectors[k];
    if (vv > 0) reflect(v, vv, q, k, n, 0);
  }
  for (let j = 0; j < n; j++) {
    if (diag[j] < 0) for (let i = 0; i < m; i++) q[i * n + j] = -q[i * n + j];
  }
  return q;
}

/** Applies I - 2vvᵀ/(vᵀv) to rows k… and columns c0… of the row-major matrix `x` with n columns. */
function reflect(v: Float64Array, vv: number, x: Float64Array, k: number, n: number, c0: number): void {
  for (let c = c0; c < n; c++) {
    let dot = 0;
    for (let i = 0; i < v.length; i++) dot += v[i] * x[(k + i) * n + c];
    const f = (2 * dot) / vv;
    for (let i = 0; i < v.length; i++) x[(k + i) * n + c] -= f * v[i];
  }
}

