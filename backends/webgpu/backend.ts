/// <reference types="@webgpu/types" />
import type {
  ArgReduceOp, Backend, BinaryOp, DType, FusedKernels, MemoryInfo, RandomDist, ReduceOp, TensorInfo, TypedArray, UnaryOp,
} from '../contract.js';
import { typedArrayFor } from '../contract.js';
import { Runtime } from './runtime.js';
import type { Dispatch, GpuContext } from './kernels/wgsl.js';
import { unary } from './kernels/unary.js';
import { binary, cast, where } from './kernels/binary.js';
import { argReduce, cumsum, reduce } from './kernels/reduce.js';
import { matmul } from './kernels/matmul.js';
import { broadcastTo, concat, pad, slice, transpose } from './kernels/movement.js';
import { gather, scatterAdd } from './kernels/index.js';
import { fill } from './kernels/creation.js';
import { random } from './kernels/random.js';
import { dense, denseGrad } from './kernels/dense.js';
import { applyUpdate } from './kernels/update.js';
import { softmax, softmaxGrad } from './kernels/softmax.js';

interface Entry {
  buffer: GPUBuffer;
  dtype: DType;
  size: number;
}

/** Every dtype is stored in 4 bytes: WGSL storage has no 8- or 64-bit types without extensions. */
const BYTES = 4;

/**
 * Buffers are GPUBuffers (bool as u32), pooled by size class (pool.ts); each kernel records one
 * or more WGSL launches into the runtime's command encoder (runtime.ts says when it is
 * submitted). Reads are the only wait.
 */
export class WebGPUBackend implements Backend, GpuContext {
  readonly name = 'webgpu';
  /** float64 is left out: WGSL has no f64. */
  readonly dtypes: readonly DType[] = ['float32', 'int32', 'bool'];
  private readonly buffers = new Map<number, Entry>();
  private nextId = 1;
  private bytes = 0;

  constructor(readonly runtime: Runtime) {}

  /**
   * The fused kernels this backend has so far: those that save the most launches per training
   * step. The others compose from the rows.
   */
  readonly fused: Partial<FusedKernels> = {
    dense: (x, w, bias, activation, out) => dense(this, x, w, bias, activation, out),
    denseGrad: (dy, y, x, w, activation, dx, dw, dBias) => denseGrad(this, dy, y, x, w, activation, dx, dw, dBias),
    applyUpdate: (rule, hyper, w, g, slots, outs) => applyUpdate(this, rule, hyper, w, g, slots, outs),
    softmax: (x, log, out) => softmax(this, x, log, out),
    softmaxGrad: (dy, y, log, out) => softmaxGrad(this, dy, y, log, out),
  };

  /** The adapter this backend runs on, as its driver names it. */
  get device(): string {
    return this.runtime.description;
  }

  get limits(): GPUSupportedLimits {
    return this.runtime.device.limits;
  }

  alloc(dtype: DType, size: number): number {
    if (!this.dtypes.includes(dtype)) {
      throw new Error(`webgpu: cannot store ${dtype}; this backend stores ${this.dtypes.join(', ')}`);
    }
    const bytes = size * BYTES;
    const limit = this.limits.maxStorageBufferBindingSize;
    if (bytes > limit) {
      throw new Error(
        `webgpu: a ${dtype} tensor of ${size.toLocaleString('en-US')} elements needs ${bytes.toLocaleString('en-US')} bytes, ` +
        `over this adapter's maxStorageBufferBindingSize of ${limit.toLocaleString('en-US')} bytes (the largest buffer a kernel can bind)`,
      );
    }
    const id = this.nextId++;
    this.buffers.set(id, { buffer: this.runtime.take(bytes), dtype, size });
    this.bytes += bytes;
    return id;
  }

  write(id: number, data: TypedArray): void {
    const e = this.entry(id);
    // bool arrives as bytes and is stored as u32
    this.runtime.write(e.buffer, e.dtype === 'bool' ? Uint32Array.from(data as Uint8Array) : data);
  }

  async read(id: number): Promise<TypedArray> {
    const e = this.entry(id);
    if (e.size === 0) return typedArrayFor(e.dtype, 0);
    const bytes = await this.runtime.read(e.buffer, e.size * BYTES);
    switch (e.dtype) {
      case 'float32': return new Float32Array(bytes);
      case 'int32': return new Int32Array(bytes);
      default: return Uint8Array.from(new Uint32Array(bytes));
    }
  }

  free(id: number): void {
    const e = this.entry(id);
    this.buffers.delete(id);
    this.bytes -= e.size * BYTES;
    this.runtime.release(e.buffer);
  }

  /** Live buffers and the bytes they hold on the GPU (4 per element, bool included); pool() has the idle ones. */
  memory(): MemoryInfo {
    return { numBuffers: this.buffers.size, numBytes: this.bytes };
  }

  /** Freed buffers kept for reuse, and how many GPU buffers the pool has ever created. */
  pool(): { idleBuffers: number; idleBytes: number; created: number } {
    const s = this.runtime.storage;
    return { idleBuffers: s.count, idleBytes: s.bytes, created: s.created };
  }

  dispose(): void {
    this.buffers.clear();
    this.bytes = 0;
    this.runtime.destroy();
  }

  // GpuContext: what the kernel families use

  buffer(t: TensorInfo): GPUBuffer {
    return this.entry(t.id).buffer;
  }

  dispatch(d: Dispatch): void {
    this.runtime.dispatch(d);
  }

  scratch(bytes: number): GPUBuffer {
    return this.runtime.take(bytes);
  }

  release(b: GPUBuffer): void {
    this.runtime.release(b);
  }

  temp(shape: readonly number[], dtype: DType): TensorInfo {
    return { id: this.alloc(dtype, shape.reduce((a, d) => a * d, 1)), shape, dtype };
  }

  drop(t: TensorInfo): void {
    this.free(t.id);
  }

  private entry(id: number): Entry {
    this.runtime.check();
    const e = this.buffers.get(id);
    if (!e) throw new Error(`webgpu: no buffer ${id} (freed twice, or from another backend)`);
    return e;
  }

  // The kernels: each family file records its launches.

  unary(op: UnaryOp, x: TensorInfo, out: TensorInfo): void {
    unary(this, op, x, out);
  }

  binary(op: BinaryOp, a: TensorInfo, b: TensorInfo, out: TensorInfo): void {
    binary(this, op, a, b, out);
  }

  where(cond: TensorInfo, a: TensorInfo, b: TensorInfo, out: TensorInfo): void {
    where(this, cond, a, b, out);
  }

  cast(x: TensorInfo, out: TensorInfo): void {
    cast(this, x, out);
  }

  reduce(op: ReduceOp, x: TensorInfo, axes: readonly number[], out: TensorInfo): void {
    reduce(this, op, x, axes, out);
  }

  argReduce(op: ArgReduceOp, x: TensorInfo, axis: number, out: TensorInfo): void {
    argReduce(this, op, x, axis, out);
  }

  cumsum(x: TensorInfo, axis: number, exclusive: boolean, reverse: boolean, out: TensorInfo): void {
    cumsum(this, x, axis, exclusive, reverse, out);
  }

  matmul(a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean, out: TensorInfo): void {
    matmul(this, a, b, transposeA, transposeB, out);
  }

  transpose(x: TensorInfo, perm: readonly number[], out: TensorInfo): void {
    transpose(this, x, perm, out);
  }

  slice(x: TensorInfo, begin: readonly number[], step: readonly number[], out: TensorInfo): void {
    slice(this, x, begin, step, out);
  }

  pad(x: TensorInfo, pads: readonly (readonly [number, number])[], value: number, out: TensorInfo): void {
    pad(this, x, pads, value, out);
  }

  concat(xs: readonly TensorInfo[], axis: number, out: TensorInfo): void {
    concat(this, xs, axis, out);
  }

  broadcastTo(x: TensorInfo, out: TensorInfo): void {
    broadcastTo(this, x, out);
  }

  gather(x: TensorInfo, indices: TensorInfo, axis: number, out: TensorInfo): void {
    gather(this, x, indices, axis, out);
  }

  scatterAdd(updates: TensorInfo, indices: TensorInfo, axis: number, out: TensorInfo): void {
    scatterAdd(this, updates, indices, axis, out);
  }

  // The creation rows (fill, random), ahead of their place in the contract.

  fill(value: number, out: TensorInfo): void {
    fill(this, value, out);
  }

  random(dist: RandomDist, key: readonly [number, number], out: TensorInfo): void {
    random(this, dist, key, out);
  }
}
