/**
 * What a tensor may be, checked in core before any backend sees it, so every backend (and every
 * reader in io/) fails the same way and a huge request is an error naming the op and the shape,
 * never "Invalid typed array length" from V8 or std::bad_alloc from the addon.
 */
import { BYTES_PER_ELEMENT, type DType } from '../backends/contract.js';
import { fail } from './errors.js';

/** The most dimensions a tensor may have: the native addon's kMaxRank (backends/native/src/call.h). */
export const MAX_RANK = 32;

const DEFAULT_MAX_TENSOR_BYTES = 4 * 2 ** 30;
let maxBytes = DEFAULT_MAX_TENSOR_BYTES;

/**
 * Sets the largest tensor, in bytes, that an op may allocate (4 GiB by default); `undefined`
 * restores the default. A request above it fails before allocating.
 * @example
 * kiln.setMaxTensorBytes(2 ** 20);
 * kiln.zeros([1024, 1024]); // throws "zeros: shape [1024, 1024] of float32 needs 4,194,304 bytes, over the limit of 1,048,576 ..."
 */
export function setMaxTensorBytes(bytes?: number): void {
  if (bytes !== undefined && (!Number.isSafeInteger(bytes) || bytes < 1)) {
    fail('setMaxTensorBytes', `expected a positive safe integer number of bytes, got ${bytes}`);
  }
  maxBytes = bytes ?? DEFAULT_MAX_TENSOR_BYTES;
}

/** The current limit set by setMaxTensorBytes. */
export function maxTensorBytes(): number {
  return maxBytes;
}

export function checkRank(op: string, rank: number, what = 'a tensor'): void {
  if (rank > MAX_RANK) fail(op, `${what} may have at most ${MAX_RANK} dimensions, got rank ${rank}`);
}

/** The element count of `shape`, after checking its rank and that its bytes fit the limit. */
export function checkAllocation(op: string, shape: readonly number[], dtype: DType): number {
  checkRank(op, shape.length);
  let size = 1;
  for (const d of shape) size *= d;
  const bytes = size * BYTES_PER_ELEMENT[dtype];
  if (!Number.isSafeInteger(size) || !Number.isSafeInteger(bytes)) {
    fail(op, `shape [${shape.join(', ')}] has more than Number.MAX_SAFE_INTEGER elements or bytes`);
  }
  if (bytes > maxBytes) {
    fail(op, `shape [${shape.join(', ')}] of ${dtype} needs ${bytes.toLocaleString('en-US')} bytes, over the limit of ${maxBytes.toLocaleString('en-US')} (kiln.setMaxTensorBytes raises it)`);
  }
  return size;
}

let weightBudget: { left: number; why: string } | null = null;

/**
 * Runs `build` with at most `bytes` of weights allowed to be created in it (Layer.addWeight
 * charges each): a loader rebuilding a model from a file's config stops at the first weight
 * the file cannot hold, instead of initializing gigabytes and then finding them missing.
 */
export function withWeightBudget<T>(bytes: number, why: string, build: () => T): T {
  const outer = weightBudget;
  weightBudget = { left: bytes, why };
  try {
    return build();
  } finally {
    weightBudget = outer;
  }
}

/** Charges a new weight to the budget withWeightBudget set, if any. */
export function chargeWeight(op: string, shape: readonly number[], dtype: DType): void {
  if (!weightBudget) return;
  const bytes = checkAllocation(op, shape, dtype) * BYTES_PER_ELEMENT[dtype];
  if (bytes > weightBudget.left) {
    fail(op, `shape [${shape.join(', ')}] of ${dtype} needs ${bytes.toLocaleString('en-US')} bytes, but only ${weightBudget.left.toLocaleString('en-US')} are left of ${weightBudget.why}`);
  }
  weightBudget.left -= bytes;
}

/**
 * How deeply JSON read from a file may nest. `JSON.parse` takes any depth, but `JSON.stringify`
 * (in an error message that shows the value), `structuredClone` and recursive readers overflow
 * the stack near 5,000 levels; a kiln config nests a few levels per model, and models nest at
 * most MAX_MODEL_NESTING (100) deep.
 */
export const MAX_JSON_DEPTH = 1000;

/** Fails when `value` (parsed JSON) nests deeper than MAX_JSON_DEPTH; walks without recursing. */
export function checkJsonDepth(op: string, value: unknown, what: string): void {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > MAX_JSON_DEPTH) fail(op, `${what} nests deeper than ${MAX_JSON_DEPTH} levels`);
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
}
