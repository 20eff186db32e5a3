import type { Backend, DType, TypedArray } from '../backends/contract.js';
import { fail, fmtShape } from './errors.js';
import { formatTensor } from './format.js';

/**
 * A buffer on a backend, shared by every tensor that views it (reshape makes a view, and the
 * tape keeps views of what gradients need). Freed when the last view lets go.
 */
export class DataHandle {
  refs = 1;
  constructor(
    readonly backend: Backend,
    readonly id: number,
    readonly dtype: DType,
    readonly size: number,
  ) {}
}

/** The engine's hooks into a tensor's life: its release, and reads of its values (a trace refuses them). */
export const lifecycle: { release(t: Tensor): void; read(t: Tensor): void } = { release: () => {}, read: () => {} };

/**
 * Called before every read of a backend's tensor: src/deferred-checks.ts installs these to read
 * the results of the checks that ran on the device since the last read, and to throw the first
 * that failed (an index out of range), so a read is where such an error surfaces on every backend.
 */
export const readHooks: { beforeRead(backend: Backend): Promise<void>; beforeReadSync(backend: Backend): void } = {
  beforeRead: async () => {},
  beforeReadSync: () => {},
};

let nextId = 1;

export function newTensorId(): number {
  return nextId++;
}

/**
 * An n-dimensional array on a backend. Immutable: ops make new tensors.
 * `id` names the value for autodiff; the tape's saved views of a tensor share its id.
 */
export class Tensor {
  readonly shape: readonly number[];
  readonly size: number;
  private handle: DataHandle | null;

  constructor(handle: DataHandle, shape: readonly number[], readonly dtype: DType, readonly id = newTensorId()) {
    this.handle = handle;
    this.shape = Object.freeze([...shape]);
    this.size = handle.size;
  }

  get rank(): number {
    return this.shape.length;
  }

  get isDisposed(): boolean {
    return this.handle === null;
  }

  /** The buffer behind this tensor; throws a clear error once disposed. */
  dataHandle(op = 'tensor'): DataHandle {
    if (this.handle === null) {
      fail(op, `tensor ${this.id} (${this.dtype} ${fmtShape(this.shape)}) is already disposed`);
    }
    return this.handle;
  }

  get backendName(): string {
    return this.dataHandle().backend.name;
  }

  /** A copy of the values as a typed array (Float32Array, Float64Array, Int32Array, or Uint8Array for bool). */
  async data(): Promise<TypedArray> {
    const h = this.dataHandle('data');
    lifecycle.read(this);
    // the pending checks are read alongside, not before: one round trip on an async backend
    const [, values] = await Promise.all([readHooks.beforeRead(h.backend), h.backend.read(h.id)]);
    return values;
  }

  /** The values as nested arrays (numbers, or booleans for bool tensors). */
  async array(): Promise<NestedArray> {
    return toNested(await this.data(), this.shape, this.dtype);
  }

  /** Synchronous read, only on backends whose memory the CPU sees (reference, native). */
  dataSync(): TypedArray {
    const h = this.dataHandle('dataSync');
    if (!h.backend.readSync) {
      fail('dataSync', `backend '${h.backend.name}' reads asynchronously; use await t.data()`);
    }
    lifecycle.read(this);
    readHooks.beforeReadSync(h.backend);
    return h.backend.readSync(h.id);
  }

  arraySync(): NestedArray {
    return toNested(this.dataSync(), this.shape, this.dtype);
  }

  /** The single value of a size-1 tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) fail('item', `expected a tensor with one element, got shape ${fmtShape(this.shape)}`);
    return (await this.data())[0];
  }

  dispose(): void {
    if (this.handle === null) return;
    lifecycle.release(this);
    this.handle = null;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }

  toString(): string {
    const head = `Tensor(${this.dtype}, shape=${fmtShape(this.shape)})`;
    if (this.handle === null) return `${head} <disposed>`;
    if (!this.handle.backend.readSync) return `${head} <on ${this.handle.backend.name}: await data() to read>`;
    // printing reads past the deferred checks: a message that shows a tensor must not throw one
    return `${head}\n${formatTensor(this.handle.backend.readSync(this.handle.id), this.shape, this.dtype)}`;
  }
}

export type NestedArray = number | boolean | NestedArray[];

function toNested(data: TypedArray, shape: readonly number[], dtype: DType): NestedArray {
  const value = (i: number) => (dtype === 'bool' ? data[i] !== 0 : data[i]);
  if (shape.length === 0) return value(0);
  let offset = 0;
  const build = (dim: number): NestedArray[] => {
    const out: NestedArray[] = [];
    for (let i = 0; i < shape[dim]; i++) {
      out.push(dim === shape.length - 1 ? value(offset++) : build(dim + 1));
    }
    return out;
  };
  return build(0);
}
