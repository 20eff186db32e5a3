import type {
  ArgReduceOp, Backend, BinaryOp, DType, FusedKernels, MemoryInfo, RandomDist, ReduceOp, TensorInfo, TypedArray, UnaryOp,
} from '../contract.js';
import { BYTES_PER_ELEMENT, typedArrayFor } from '../contract.js';
import { unary } from './kernels/unary.js';
import { binary, where, cast } from './kernels/binary.js';
import { reduce, argReduce, cumsum } from './kernels/reduce.js';
import { matmul } from './kernels/matmul.js';
import { transpose, slice, pad, concat, broadcastTo } from './kernels/movement.js';
import { gather, scatterAdd } from './kernels/index.js';
import { fill } from './kernels/creation.js';
import { random } from './kernels/random.js';
import { dense, denseGrad } from './kernels/dense.js';
import { conv, convGrad } from './kernels/conv.js';
import { softmax, softmaxGrad, crossEntropy, crossEntropyGrad } from './kernels/softmax.js';
import { applyUpdate } from './kernels/update.js';
import { batchNorm, batchNormGrad, layerNorm, layerNormGrad, moments, momentsGrad } from './kernels/normalization.js';
import { gru, gruGrad, lstm, lstmGrad, simpleRnn, simpleRnnGrad } from './kernels/recurrent.js';
import { pool, poolGrad } from './kernels/pool.js';
import { attention, attentionGrad } from './kernels/attention.js';

/**
 * Buffers are typed arrays in a map; each kernel is a plain loop in kernels/, written to be read.
 * Every other backend is checked against this one.
 */
export class ReferenceBackend implements Backend {
  readonly name = 'reference';
  readonly dtypes: readonly DType[] = ['float32', 'float64', 'int32', 'bool'];
  private buffers = new Map<number, TypedArray>();
  private nextId = 1;
  private bytes = 0;

  alloc(dtype: DType, size: number): number {
    const id = this.nextId++;
    this.buffers.set(id, typedArrayFor(dtype, size));
    this.bytes += size * BYTES_PER_ELEMENT[dtype];
    return id;
  }

  write(id: number, data: TypedArray): void {
    this.buf(id).set(data);
  }

  async read(id: number): Promise<TypedArray> {
    return this.readSync(id);
  }

  readSync(id: number): TypedArray {
    return this.buf(id).slice();
  }

  free(id: number): void {
    const b = this.buf(id);
    this.bytes -= b.byteLength;
    this.buffers.delete(id);
  }

  memory(): MemoryInfo {
    return { numBuffers: this.buffers.size, numBytes: this.bytes };
  }

  dispose(): void {
    this.buffers.clear();
    this.bytes = 0;
  }

  /** Every optional fused kernel, written as plainly as the rows: the definition other backends' are held to. */
  readonly fused: FusedKernels = {
    dense: (x, w, bias, activation, out) =>
      dense(this.buf(x.id), x.shape, this.buf(w.id), w.shape, bias && this.buf(bias.id), activation, this.buf(out.id)),
    denseGrad: (dy, y, x, w, activation, dx, dw, dBias) =>
      denseGrad(
        this.buf(dy.id), this.buf(y.id), this.buf(x.id), x.shape, this.buf(w.id), w.shape, activation,
        dx && this.buf(dx.id), dw && this.buf(dw.id), dBias && this.buf(dBias.id),
      ),
    softmax: (x, log, out) => softmax(this.buf(x.id), x.shape, log, this.buf(out.id)),
    softmaxGrad: (dy, y, log, out) => softmaxGrad(this.buf(dy.id), this.buf(y.id), y.shape, log, this.buf(out.id)),
    crossEntropy: (pred, labels, fromLogits, epsilon, out) =>
      crossEntropy(this.buf(pred.id), pred.shape, this.buf(labels.id), fromLogits, epsilon, this.buf(out.id)),
    crossEntropyGrad: (pred, labels, fromLogits, epsilon, dy, out) =>
      crossEntropyGrad(this.buf(pred.id), pred.shape, this.buf(labels.id), fromLogits, epsilon, this.buf(dy.id), this.buf(out.id)),
    applyUpdate: (rule, hyper, w, g, slots, outs) =>
      applyUpdate(rule, hyper, this.buf(w.id), this.buf(g.id), slots.map((s) => this.buf(s.id)), outs.map((o) => this.buf(o.id))),
    conv: (x, w, bias, geometry, activation, out) =>
      conv(this.buf(x.id), x.shape, this.buf(w.id), w.shape, bias && this.buf(bias.id), geometry, activation, this.buf(out.id), out.shape),
    convGrad: (dy, y, x, w, geometry, activation, dx, dw, dBias) =>
      convGrad(
        this.buf(dy.id), this.buf(y.id), dy.shape, this.buf(x.id), x.shape, this.buf(w.id), w.shape, geometry, activation,
        dx && this.buf(dx.id), dw && this.buf(dw.id), dBias && this.buf(dBias.id),
      ),
    pool: (op, x, window, out) => pool(op, this.buf(x.id), x.shape, window, this.buf(out.id), out.shape),
    poolGrad: (op, dy, x, y, window, dx) =>
      poolGrad(op, this.buf(dy.id), this.buf(x.id), this.buf(y.id), x.shape, window, this.buf(dx.id), dy.shape),
    moments: (x, out) => moments(this.buf(x.id), x.shape, this.buf(out.id)),
    momentsGrad: (dy, y, x, dx) => momentsGrad(this.buf(dy.id), this.buf(y.id), this.buf(x.id), x.shape, this.buf(dx.id)),
    batchNorm: (x, mean, variance, gamma, beta, epsilon, out) =>
      batchNorm(
        this.buf(x.id), x.shape, this.buf(mean.id), this.buf(variance.id), gamma && this.buf(gamma.id), beta && this.buf(beta.id), epsilon,
        this.buf(out.id),
      ),
    batchNormGrad: (dy, x, mean, variance, gamma, epsilon, dx, dMean, dVariance, dGamma, dBeta) =>
      batchNormGrad(
        this.buf(dy.id), this.buf(x.id), x.shape, this.buf(mean.id), this.buf(variance.id), gamma && this.buf(gamma.id), epsilon,
        dx && this.buf(dx.id), dMean && this.buf(dMean.id), dVariance && this.buf(dVariance.id), dGamma && this.buf(dGamma.id),
        dBeta && this.buf(dBeta.id),
      ),
    layerNorm: (x, gamma, beta, epsilon, out) =>
      layerNorm(this.buf(x.id), x.shape, gamma && this.buf(gamma.id), beta && this.buf(beta.id), epsilon, this.buf(out.id)),
    layerNormGrad: (dy, x, gamma, epsilon, dx, dGamma, dBeta) =>
      layerNormGrad(
        this.buf(dy.id), this.buf(x.id), x.shape, gamma && this.buf(gamma.id), epsilon,
        dx && this.buf(dx.id), dGamma && this.buf(dGamma.id), dBeta && this.buf(dBeta.id),
      ),
    attention: (q, k, v, mask, scale, causal, out) =>
      attention(this.buf(q.id), q.shape, this.buf(k.id), k.shape, this.buf(v.id), mask && this.buf(mask.id), mask && mask.shape, scale, causal, this.buf(out.id)),
    attentionGrad: (dy, y, q, k, v, mask, scale, causal, dq, dk, dv) =>
      attentionGrad(
        this.buf(dy.id), this.buf(y.id), this.buf(q.id), q.shape, this.buf(k.id), k.shape, this.buf(v.id), mask && this.buf(mask.id),
        mask && mask.shape, scale, causal, dq && this.buf(dq.id), dk && this.buf(dk.id), dv && this.buf(dv.id),
      ),
    lstm: (x, h0, c0, kernel, mask, zeroOutputForMask, out) =>
      lstm(this.buf(x.id), x.shape, this.buf(h0.id), this.buf(c0.id), this.buf(kernel.id), kernel.shape[0], this.opt(mask), zeroOutputForMask, this.buf(out.id)),
    lstmGrad: (dy, y, h0, c0, kernel, mask, zeroOutputForMask, dxProj, dh0, dc0, dKernel) =>
      lstmGrad(
        this.buf(dy.id), this.buf(y.id), y.shape, this.buf(h0.id), this.buf(c0.id), this.buf(kernel.id), kernel.shape[0], this.opt(mask),
        zeroOutputForMask, this.opt(dxProj), this.opt(dh0), this.opt(dc0), this.opt(dKernel),
      ),
    gru: (x, h0, kernel, bias, mask, resetAfter, zeroOutputForMask, out) =>
      gru(
        this.buf(x.id), x.shape, this.buf(h0.id), this.buf(kernel.id), kernel.shape[0], this.opt(bias), this.opt(mask), resetAfter,
        zeroOutputForMask, this.buf(out.id),
      ),
    gruGrad: (dy, y, h0, kernel, mask, resetAfter, zeroOutputForMask, dxProj, dh0, dKernel, dBias) =>
      gruGrad(
        this.buf(dy.id), this.buf(y.id), y.shape, this.buf(h0.id), this.buf(kernel.id), kernel.shape[0], this.opt(mask), resetAfter,
        zeroOutputForMask, this.opt(dxProj), this.opt(dh0), this.opt(dKernel), this.opt(dBias),
      ),
    simpleRnn: (x, h0, kernel, mask, zeroOutputForMask, out) =>
      simpleRnn(this.buf(x.id), x.shape, this.buf(h0.id), this.buf(kernel.id), kernel.shape[0], this.opt(mask), zeroOutputForMask, this.buf(out.id)),
    simpleRnnGrad: (dy, y, h0, kernel, mask, zeroOutputForMask, dxProj, dh0, dKernel) =>
      simpleRnnGrad(
        this.buf(dy.id), this.buf(y.id), y.shape, this.buf(h0.id), this.buf(kernel.id), kernel.shape[0], this.opt(mask), zeroOutputForMask,
        this.opt(dxProj), this.opt(dh0), this.opt(dKernel),
      ),
  };

  /** The buffer of an optional tensor, or null. */
  private opt(t: TensorInfo | null): TypedArray | null {
    return t && this.buf(t.id);
  }

  private buf(id: number): TypedArray {
    const b = this.buffers.get(id);
    if (!b) throw new Error(`reference: no buffer ${id} (freed twice, or from another backend)`);
    return b;
  }

  unary(op: UnaryOp, x: TensorInfo, out: TensorInfo): void {
    unary(op, this.buf(x.id), this.buf(out.id));
  }

  binary(op: BinaryOp, a: TensorInfo, b: TensorInfo, out: TensorInfo): void {
    binary(op, this.buf(a.id), a.shape, this.buf(b.id), b.shape, this.buf(out.id), out.shape);
  }

  where(cond: TensorInfo, a: TensorInfo, b: TensorInfo, out: TensorInfo): void {
    where(this.buf(cond.id), cond.shape, this.buf(a.id), a.shape, this.buf(b.id), b.shape, this.buf(out.id), out.shape);
  }

  cast(x: TensorInfo, out: TensorInfo): void {
    cast(this.buf(x.id), this.buf(out.id), out.dtype);
  }

  reduce(op: ReduceOp, x: TensorInfo, axes: readonly number[], out: TensorInfo): void {
    reduce(op, this.buf(x.id), x.shape, axes, this.buf(out.id));
  }

  argReduce(op: ArgReduceOp, x: TensorInfo, axis: number, out: TensorInfo): void {
    argReduce(op, this.buf(x.id), x.shape, axis, this.buf(out.id));
  }

  cumsum(x: TensorInfo, axis: number, exclusive: boolean, reverse: boolean, out: TensorInfo): void {
    cumsum(this.buf(x.id), x.shape, axis, exclusive, reverse, this.buf(out.id));
  }

  matmul(a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean, out: TensorInfo): void {
    matmul(this.buf(a.id), a.shape, this.buf(b.id), b.shape, transposeA, transposeB, this.buf(out.id), out.shape);
  }

  transpose(x: TensorInfo, perm: readonly number[], out: TensorInfo): void {
    transpose(this.buf(x.id), x.shape, perm, this.buf(out.id));
  }

  slice(x: TensorInfo, begin: readonly number[], step: readonly number[], out: TensorInfo): void {
    slice(this.buf(x.id), x.shape, begin, step, this.buf(out.id), out.shape);
  }

  pad(x: TensorInfo, pads: readonly (readonly [number, number])[], value: number, out: TensorInfo): void {
    pad(this.buf(x.id), x.shape, pads, value, this.buf(out.id), out.shape);
  }

  concat(xs: readonly TensorInfo[], axis: number, out: TensorInfo): void {
    concat(xs.map((x) => this.buf(x.id)), xs.map((x) => x.shape), axis, this.buf(out.id), out.shape);
  }

  broadcastTo(x: TensorInfo, out: TensorInfo): void {
    broadcastTo(this.buf(x.id), x.shape, this.buf(out.id), out.shape);
  }

  gather(x: TensorInfo, indices: TensorInfo, axis: number, out: TensorInfo): void {
    gather(this.buf(x.id), x.shape, this.buf(indices.id) as Int32Array, axis, this.buf(out.id));
  }

  scatterAdd(updates: TensorInfo, indices: TensorInfo, axis: number, out: TensorInfo): void {
    scatterAdd(this.buf(updates.id), this.buf(indices.id) as Int32Array, axis, this.buf(out.id), out.shape);
  }

  fill(value: number, out: TensorInfo): void {
    fill(value, this.buf(out.id), out.dtype);
  }

  random(dist: RandomDist, key: readonly [number, number], out: TensorInfo): void {
    random(dist, key, this.buf(out.id));
  }
}
