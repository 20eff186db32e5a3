import type {
  ArgReduceOp, Backend, BinaryOp, ConvGeometry, DType, FusedActivation, FusedKernels, MemoryInfo, PoolGeometry, RandomDist,
  ReduceOp, TensorInfo, TypedArray, UnaryOp,
} from '../contract.js';
import { FUSED_ACTIVATIONS, FUSED_ROWS, KERNEL_ROWS } from '../contract.js';
import { DTYPE_CODES, type NativeAddon } from './addon.js';

/**
 * The rows the addon must have, named as its kernel table names them: the contract's, then the
 * fused kernels'. An addon built before a row was added is reported out of date.
 */
export const NATIVE_ROWS: readonly string[] = [...KERNEL_ROWS, ...FUSED_ROWS];

/** The activation's code in the fused rows (src/cpu/bias_act.h's Act). */
const ACTIVATION_CODES = Object.fromEntries(FUSED_ACTIVATIONS.map((a, i) => [a, i])) as Record<FusedActivation, number>;

/**
 * A convolution's ints, as src/cpu/window.cc decodes them: [d, strides, dilations, padsBefore,
 * groups, activation], d being the spatial rank.
 */
function convInts(g: ConvGeometry, activation: FusedActivation): number[] {
  return [g.strides.length, ...g.strides, ...g.dilations, ...g.padsBefore, g.groups, ACTIVATION_CODES[activation]];
}

/** A pooling window's ints: [d, window, strides, padsBefore]. */
function poolInts(g: PoolGeometry): number[] {
  return [g.window.length, ...g.window, ...g.strides, ...g.padsBefore];
}

/**
 * The C++ backend: buffers live in the addon (pooled by size class), and every kernel is one
 * `run` call. This class only encodes calls; it keeps no per-buffer state, so alloc and free
 * cost one N-API call each.
 */
export class NativeBackend implements Backend {
  readonly name = 'native';
  readonly dtypes: readonly DType[] = ['float32', 'float64', 'int32', 'bool'];
  private readonly rows = new Map<string, number>();
  /** The call being encoded: reused between calls, grown when a call needs more. */
  private args = new Int32Array(256);
  private length = 0;
  private floats = new Float64Array(8);

  /** Every fused kernel of the contract, each one `run` of its row. */
  readonly fused: FusedKernels = {
    dense: (x, w, bias, activation, out) => {
      this.run('fused:dense', [x, w, bias, out], [ACTIVATION_CODES[activation]]);
    },
    denseGrad: (dy, y, x, w, activation, dx, dw, dBias) => {
      this.run('fused:denseGrad', [dy, y, x, w, dx, dw, dBias], [ACTIVATION_CODES[activation]]);
    },
    softmax: (x, log, out) => {
      this.run('fused:softmax', [x, out], [log ? 1 : 0]);
    },
    softmaxGrad: (dy, y, log, out) => {
      this.run('fused:softmaxGrad', [dy, y, out], [log ? 1 : 0]);
    },
    crossEntropy: (pred, labels, fromLogits, epsilon, out) => {
      this.run('fused:crossEntropy', [pred, labels, out], [fromLogits ? 1 : 0], [epsilon]);
    },
    crossEntropyGrad: (pred, labels, fromLogits, epsilon, dy, out) => {
      this.run('fused:crossEntropyGrad', [pred, labels, dy, out], [fromLogits ? 1 : 0], [epsilon]);
    },
    applyUpdate: (rule, hyper, w, g, slots, outs) => {
      this.run(`fused:applyUpdate:${rule}`, [w, g, ...slots, ...outs], [], hyper);
    },
    conv: (x, w, bias, geometry, activation, out) => {
      this.run('fused:conv', [x, w, bias, out], convInts(geometry, activation));
    },
    convGrad: (dy, y, x, w, geometry, activation, dx, dw, dBias) => {
      this.run('fused:convGrad', [dy, y, x, w, dx, dw, dBias], convInts(geometry, activation));
    },
    pool: (op, x, window, out) => {
      this.run(`fused:pool:${op}`, [x, out], poolInts(window));
    },
    poolGrad: (op, dy, x, y, window, dx) => {
      this.run(`fused:poolGrad:${op}`, [dy, x, y, dx], poolInts(window));
    },
    moments: (x, out) => {
      this.run('fused:moments', [x, out], []);
    },
    momentsGrad: (dy, y, x, dx) => {
      this.run('fused:momentsGrad', [dy, y, x, dx], []);
    },
    batchNorm: (x, mean, variance, gamma, beta, epsilon, out) => {
      this.run('fused:batchNorm', [x, mean, variance, gamma, beta, out], [], [epsilon]);
    },
    batchNormGrad: (dy, x, mean, variance, gamma, epsilon, dx, dMean, dVariance, dGamma, dBeta) => {
      this.run('fused:batchNormGrad', [dy, x, mean, variance, gamma, dx, dMean, dVariance, dGamma, dBeta], [], [epsilon]);
    },
    layerNorm: (x, gamma, beta, epsilon, out) => {
      this.run('fused:layerNorm', [x, gamma, beta, out], [], [epsilon]);
    },
    layerNormGrad: (dy, x, gamma, epsilon, dx, dGamma, dBeta) => {
      this.run('fused:layerNormGrad', [dy, x, gamma, dx, dGamma, dBeta], [], [epsilon]);
    },
    attention: (q, k, v, mask, scale, causal, out) => {
      this.run('fused:attention', [q, k, v, mask, out], [causal ? 1 : 0], [scale]);
    },
    attentionGrad: (dy, y, q, k, v, mask, scale, causal, dq, dk, dv) => {
      this.run('fused:attentionGrad', [dy, y, q, k, v, mask, dq, dk, dv], [causal ? 1 : 0], [scale]);
    },
    lstm: (xProj, h0, c0, kernel, mask, zeroOutputForMask, out) => {
      this.run('fused:lstm', [xProj, h0, c0, kernel, mask, out], [Number(zeroOutputForMask)]);
    },
    lstmGrad: (dy, y, h0, c0, kernel, mask, zeroOutputForMask, dxProj, dh0, dc0, dKernel) => {
      this.run('fused:lstmGrad', [dy, y, h0, c0, kernel, mask, dxProj, dh0, dc0, dKernel], [Number(zeroOutputForMask)]);
    },
    gru: (xProj, h0, kernel, bias, mask, resetAfter, zeroOutputForMask, out) => {
      this.run('fused:gru', [xProj, h0, kernel, bias, mask, out], [Number(resetAfter), Number(zeroOutputForMask)]);
    },
    gruGrad: (dy, y, h0, kernel, mask, resetAfter, zeroOutputForMask, dxProj, dh0, dKernel, dBias) => {
      this.run('fused:gruGrad', [dy, y, h0, kernel, mask, dxProj, dh0, dKernel, dBias], [Number(resetAfter), Number(zeroOutputForMask)]);
    },
    simpleRnn: (xProj, h0, kernel, mask, zeroOutputForMask, out) => {
      this.run('fused:simpleRnn', [xProj, h0, kernel, mask, out], [Number(zeroOutputForMask)]);
    },
    simpleRnnGrad: (dy, y, h0, kernel, mask, zeroOutputForMask, dxProj, dh0, dKernel) => {
      this.run('fused:simpleRnnGrad', [dy, y, h0, kernel, mask, dxProj, dh0, dKernel], [Number(zeroOutputForMask)]);
    },
  };

  constructor(readonly addon: NativeAddon) {
    addon.kernels.forEach((name, i) => this.rows.set(name, i));
  }

  alloc(dtype: DType, size: number): number {
    return this.addon.alloc(DTYPE_CODES[dtype], size);
  }

  write(id: number, data: TypedArray): void {
    this.addon.write(id, data);
  }

  async read(id: number): Promise<TypedArray> {
    return this.addon.read(id);
  }

  readSync(id: number): TypedArray {
    return this.addon.read(id);
  }

  free(id: number): void {
    this.addon.free(id);
  }

  memory(): MemoryInfo {
    return this.addon.memory();
  }

  dispose(): void {
    this.addon.clear();
  }

  unary(op: UnaryOp, x: TensorInfo, out: TensorInfo): void {
    this.run(`unary:${op}`, [x, out]);
  }

  binary(op: BinaryOp, a: TensorInfo, b: TensorInfo, out: TensorInfo): void {
    this.run(`binary:${op}`, [a, b, out]);
  }

  where(cond: TensorInfo, a: TensorInfo, b: TensorInfo, out: TensorInfo): void {
    this.run('where', [cond, a, b, out]);
  }

  cast(x: TensorInfo, out: TensorInfo): void {
    this.run('cast', [x, out]);
  }

  reduce(op: ReduceOp, x: TensorInfo, axes: readonly number[], out: TensorInfo): void {
    this.run(`reduce:${op}`, [x, out], axes);
  }

  argReduce(op: ArgReduceOp, x: TensorInfo, axis: number, out: TensorInfo): void {
    this.run(`argReduce:${op}`, [x, out], [axis]);
  }

  cumsum(x: TensorInfo, axis: number, exclusive: boolean, reverse: boolean, out: TensorInfo): void {
    this.run('cumsum', [x, out], [axis, exclusive ? 1 : 0, reverse ? 1 : 0]);
  }

  matmul(a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean, out: TensorInfo): void {
    this.run('matmul', [a, b, out], [transposeA ? 1 : 0, transposeB ? 1 : 0]);
  }

  transpose(x: TensorInfo, perm: readonly number[], out: TensorInfo): void {
    this.run('transpose', [x, out], perm);
  }

  slice(x: TensorInfo, begin: readonly number[], step: readonly number[], out: TensorInfo): void {
    this.run('slice', [x, out], [...begin, ...step]);
  }

  pad(x: TensorInfo, pads: readonly (readonly [number, number])[], value: number, out: TensorInfo): void {
    this.run('pad', [x, out], pads.flat(), [value]);
  }

  concat(xs: readonly TensorInfo[], axis: number, out: TensorInfo): void {
    this.run('concat', [...xs, out], [axis]);
  }

  broadcastTo(x: TensorInfo, out: TensorInfo): void {
    this.run('broadcastTo', [x, out]);
  }

  gather(x: TensorInfo, indices: TensorInfo, axis: number, out: TensorInfo): void {
    this.run('gather', [x, indices, out], [axis]);
  }

  scatterAdd(updates: TensorInfo, indices: TensorInfo, axis: number, out: TensorInfo): void {
    this.run('scatterAdd', [updates, indices, out], [axis]);
  }

  fill(value: number, out: TensorInfo): void {
    this.run('fill', [out], [], [value]);
  }

  random(dist: RandomDist, key: readonly [number, number], out: TensorInfo): void {
    // the uint32 key words travel in the Int32Array as the same 32 bits
    this.run(`random:${dist}`, [out], [key[0] | 0, key[1] | 0]);
  }

  /**
   * Encodes [numTensors, (id, rank, ...dims)*, numInts, ...ints, numFloats] (a null tensor as id
   * 0, rank 0), puts the floats in their reused array, and runs the row.
   */
  private run(
    row: string, tensors: readonly (TensorInfo | null)[], ints: readonly number[] = [], floats: readonly number[] = [],
  ): void {
    const kernel = this.rows.get(row);
    if (kernel === undefined) throw new Error(`native: the addon has no kernel row '${row}'`);
    this.args[0] = tensors.length;
    this.length = 1;
    for (const t of tensors) {
      if (t === null) {
        this.push(0);
        this.push(0);
        continue;
      }
      this.push(t.id);
      this.push(t.shape.length);
      for (const d of t.shape) this.push(d);
    }
    this.push(ints.length);
    for (const v of ints) this.push(v);
    this.push(floats.length);
    if (floats.length > this.floats.length) this.floats = new Float64Array(floats.length);
    this.floats.set(floats);
    this.addon.run(kernel, this.args, this.floats);
  }

  private push(v: number): void {
    if (this.length === this.args.length) {
      const grown = new Int32Array(this.args.length * 2);
      grown.set(this.args);
      this.args = grown;
    }
    this.args[this.length++] = v;
  }
}
