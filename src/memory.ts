import { ENGINE } from './engine.js';
import { currentBackend, findBackend } from './backends.js';
import { fail } from './errors.js';
import { Tensor } from './tensor.js';
import { Variable } from './variable.js';

/**
 * Runs `fn` and disposes every tensor it created except those it returns (in an array or plain
 * object too) and those passed to `keep`.
 * @example
 * const y = kiln.tidy(() => kiln.ops.add(kiln.ops.square(x), 1)); // the square is freed
 */
export function tidy<T>(fn: () => T): T {
  if (typeof fn !== 'function') fail('tidy', `expected a function, got ${typeof fn}`);
  return ENGINE.tidy(fn);
}

/** Exempts `t` from the enclosing tidy scopes: the caller disposes it. */
export function keep<T extends Tensor>(t: T): T {
  if (!(t instanceof Tensor)) fail('keep', 'expected a Tensor');
  return ENGINE.keep(t);
}

/** Disposes tensors and variables, alone, in arrays or in plain objects. */
export function dispose(x: unknown): void {
  if (x instanceof Tensor || x instanceof Variable) x.dispose();
  else if (Array.isArray(x)) x.forEach(dispose);
  else if (x !== null && typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype) Object.values(x).forEach(dispose);
}

export interface MemoryReport {
  /** Live tensors on the current backend. */
  numTensors: number;
  /** Bytes of live buffers on the current backend (views share bytes). */
  numBytes: number;
  numBuffers: number;
  backend: string;
}

/** What the current backend holds right now. */
export function memory(): MemoryReport {
  const b = currentBackend();
  return { ...ENGINE.memoryOf(b), backend: b.name };
}

/** A copy of `t` on the backend `name` (tensors never move between backends by themselves). */
export async function toBackend(t: Tensor, name: string): Promise<Tensor> {
  const target = await findBackend(name);
  const data = await t.data();
  const out = ENGINE.allocate(target, t.shape, t.dtype);
  if (out.size > 0) target.write(out.dataHandle().id, data);
  return out;
}

/** Memory per created backend, by name. */
export async function memoryOf(name: string): Promise<MemoryReport> {
  const b = await findBackend(name);
  return { ...ENGINE.memoryOf(b), backend: b.name };
}
