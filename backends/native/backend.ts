import type {
  ArgReduceOp, Backend, BinaryOp, DType, MemoryInfo, ReduceOp, TensorInfo, TypedArray, UnaryOp,
} from '../contract.js';
import { ARG_REDUCE_OPS, BINARY_OPS, REDUCE_OPS, UNARY_OPS } from '../contract.js';
import { DTYPE_CODES, type NativeAddon } from './addon.js';

/** The contract's rows, named as the addon's kernel table names them. */
export const NATIVE_ROWS: readonly string[] = [
  ...UNARY_OPS.map((o) => `unary:${o}`),
  ...BINARY_OPS.map((o) => `binary:${o}`),
  'where', 'cast',
  ...REDUCE_OPS.map((o) => `reduce:${o}`),
  ...ARG_REDUCE_OPS.map((o) => `argReduce:${o}`),
  'cumsum', 'matmul', 'transpose', 'slice', 'pad', 'concat', 'broadcastTo', 'gather', 'scatterAdd',
];

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
    this.run('pad', [x, out], pads.flat(), value);
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

  /** Encodes [numTensors, (id, rank, ...dims)*, numInts, ...ints] and runs the row. */
  private run(row: string, tensors: readonly TensorInfo[], ints: readonly number[] = [], value = 0): void {
    const kernel = this.rows.get(row);
    if (kernel === undefined) throw new Error(`native: the addon has no kernel row '${row}'`);
    this.args[0] = tensors.length;
    this.length = 1;
    for (const t of tensors) {
      this.push(t.id);
      this.push(t.shape.length);
      for (const d of t.shape) this.push(d);
    }
    this.push(ints.length);
    for (const v of ints) this.push(v);
    this.addon.run(kernel, this.args, value);
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
