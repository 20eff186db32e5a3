/**
 * The native addon's TypeScript type (declared here and nowhere else) and its loader.
 *
 * The boundary is a few functions over integer buffer ids; a kernel call is one `run` with its
 * tensors and integer attributes packed into an Int32Array and its float attributes in a
 * Float64Array, both reused, so crossing into C++ costs one N-API call and no per-call objects.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DType, TypedArray } from '../contract.js';

export interface NativeAddon {
  /** The device the kernels run on ('cpu'; a CUDA build would say so). */
  readonly device: string;
  /**
   * The kernel table's rows, named as the contract's (`unary:exp`, `matmul`, `fused:dense`,
   * `fused:applyUpdate:adam`); `run` takes an index into it.
   */
  readonly kernels: readonly string[];
  /** A new buffer of `size` elements of the dtype whose code is `dtype` (DTYPE_CODES). */
  alloc(dtype: number, size: number): number;
  free(id: number): void;
  /** Copies `data` (the buffer's typed-array type, at most its size) into the buffer. */
  write(id: number, data: TypedArray): void;
  /** A new typed array holding a copy of the buffer. */
  read(id: number): TypedArray;
  /**
   * Runs kernel row `kernel`. `args` holds [numTensors, (id, rank, ...dims) per tensor, numInts,
   * ...ints, numFloats], the outputs last; `floats` holds the float attributes (pad's fill value,
   * epsilons, optimizer hyper-parameters) in its first numFloats entries. A fused kernel's
   * absent optional tensor (a null bias or an unwanted gradient) is sent as id 0 with rank 0:
   * no buffer has id 0.
   */
  run(kernel: number, args: Int32Array, floats: Float64Array): void;
  /** Live buffers and their bytes, as the contract's memory() counts them. */
  memory(): { numBuffers: number; numBytes: number };
  /** The buffer pool: bytes held from the system, bytes parked for reuse, and hit/miss counts. */
  pool(): { reservedBytes: number; cachedBytes: number; hits: number; misses: number };
  /** Frees every buffer and returns pooled memory to the system. */
  clear(): void;
  /** Threads that run a parallel kernel, the calling thread included (KILN_NUM_THREADS, else the cores). */
  numThreads(): number;
  setNumThreads(n: number): void;
  /** The GEMM micro-kernels in use: 'avx512', 'avx2' or 'portable'. */
  isa(): string;
}

/** Dtype codes shared with src/call.h. */
export const DTYPE_CODES: Readonly<Record<DType, number>> = { float32: 0, float64: 1, int32: 2, bool: 3 };

/** The folder that holds binding.gyp, whether this file runs from source or from dist/. */
function addonDir(): string | null {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'backends', 'native');
    if (existsSync(join(candidate, 'binding.gyp'))) return candidate;
    if (existsSync(join(dir, 'binding.gyp')) && existsSync(join(dir, 'src', 'addon.cc'))) return dir;
    dir = dirname(dir);
  }
  return null;
}

/** Where the build script records why the addon could not be built. */
export function buildErrorFile(dir: string): string {
  return join(dir, 'build', 'BUILD_ERROR.txt');
}

export type LoadResult = { ok: true; addon: NativeAddon } | { ok: false; reason: string };

let loaded: LoadResult | undefined;

/** Loads the addon once; on failure, says why in one line. */
export function loadAddon(requiredRows: readonly string[]): LoadResult {
  if (loaded) return loaded;
  loaded = tryLoad(requiredRows);
  return loaded;
}

function firstLine(text: string): string {
  return text.split('\n').map((l) => l.trim()).find((l) => l.length > 0) ?? 'unknown error';
}

function tryLoad(requiredRows: readonly string[]): LoadResult {
  const dir = addonDir();
  if (!dir) return { ok: false, reason: 'addon sources not found (backends/native/binding.gyp is not part of this install)' };
  const file = join(dir, 'build', 'Release', 'kiln_native.node');
  if (!existsSync(file)) {
    const errorFile = buildErrorFile(dir);
    if (existsSync(errorFile)) return { ok: false, reason: `addon not built: ${firstLine(readFileSync(errorFile, 'utf8'))}` };
    return { ok: false, reason: 'addon not built: run `node scripts/build-native.mjs`' };
  }
  let addon: NativeAddon;
  try {
    addon = createRequire(import.meta.url)(file) as NativeAddon;
  } catch (e) {
    return { ok: false, reason: `addon failed to load: ${firstLine(e instanceof Error ? e.message : String(e))}` };
  }
  const missing = requiredRows.filter((r) => !addon.kernels.includes(r));
  if (missing.length > 0) return { ok: false, reason: `addon is out of date (rebuild it): no kernel rows ${missing.join(', ')}` };
  return { ok: true, addon };
}
