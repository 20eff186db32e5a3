/// <reference types="@webgpu/types" />
/**
 * What every WGSL kernel shares: how dtypes are stored, how a kernel is handed to the runtime
 * (its code, bindings, parameters and grid), and the shader text every kernel begins with.
 */
import type { DType, TensorInfo } from '../../contract.js';
import { sizeOf } from '../../contract.js';

/** Threads per workgroup of the one-thread-per-element kernels: WebGPU's guaranteed minimum limit. */
export const WG = 256;

/** The WGSL scalar each dtype is stored as; bool is a u32 0 or 1 (WGSL storage has no bytes). */
export function wgslType(dtype: DType): 'f32' | 'i32' | 'u32' {
  switch (dtype) {
    case 'float32': return 'f32';
    case 'int32': return 'i32';
    case 'bool': return 'u32';
    case 'float64': throw new Error('webgpu: float64 reached a kernel (core refuses dtypes a backend does not list)');
  }
}

/** How a binding is used: read-only storage or read-write storage (the uniform parameters are binding 0). */
export type Access = 'read' | 'write';

/** One kernel launch, as the kernel families describe it to the runtime. */
export interface Dispatch {
  /** Names the shader: equal keys must mean equal code (the pipeline cache's key). */
  readonly key: string;
  /** The WGSL, made on a cache miss; `params` is the declaration of the uniform array and `p(i)`. */
  code(params: string): string;
  /** Storage buffers at bindings 1, 2, …, with how the shader uses each. */
  readonly bindings: readonly (readonly [GPUBuffer, Access])[];
  /** 32-bit words of the uniform parameters (`p(0)`, `p(1)`, …), each written as a u32. */
  readonly params: readonly number[];
  /** Workgroups in x, y, z. */
  readonly groups: readonly [number, number, number];
}

/** What a kernel family gets from the backend. */
export interface GpuContext {
  /** The buffer holding a tensor. */
  buffer(t: TensorInfo): GPUBuffer;
  /** Records one launch into the current command encoder. */
  dispatch(d: Dispatch): void;
  /** A temporary buffer of at least `bytes`, released with `release` once its last launch is recorded. */
  scratch(bytes: number): GPUBuffer;
  release(b: GPUBuffer): void;
  /** A temporary tensor (a buffer of the backend's, counted by memory() until dropped). */
  temp(shape: readonly number[], dtype: DType): TensorInfo;
  /** Frees a temp once its last launch is recorded. */
  drop(t: TensorInfo): void;
  readonly limits: GPUSupportedLimits;
}

/**
 * The grid for `n` threads of WG each: at most 65535 workgroups per dimension (WebGPU's
 * guaranteed limit), so larger launches spill into y. Shaders recover the thread's index with
 * LINEAR_INDEX.
 */
export function grid(n: number): [number, number, number] {
  const groups = Math.max(1, Math.ceil(n / WG));
  const x = Math.min(groups, 65535);
  return [x, Math.ceil(groups / x), 1];
}

/** A shape viewed as [outer, n, inner] around `axis`: the sizes before, at and after it. */
export function around(shape: readonly number[], axis: number): [number, number, number] {
  return [sizeOf(shape.slice(0, axis)), shape[axis], sizeOf(shape.slice(axis + 1))];
}

/** The entry point of a one-thread-per-element kernel; `i` is the thread's linear index. */
export const MAIN = `@compute @workgroup_size(${WG})
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * ${WG}u + lid;`;

/** The uniform parameters as `array<vec4<u32>, n>` (uniform arrays need 16-byte elements) and an accessor. */
export function paramsDecl(vec4s: number): string {
  return `@group(0) @binding(0) var<uniform> u: array<vec4<u32>, ${vec4s}>;
fn p(k: u32) -> u32 { return u[k >> 2u][k & 3u]; }
fn pi(k: u32) -> i32 { return bitcast<i32>(p(k)); }`;
}

/** `var<storage, …> name: array<type>;` at `binding`. */
export function storage(binding: number, name: string, type: string, access: Access): string {
  return `@group(0) @binding(${binding}) var<storage, ${access === 'read' ? 'read' : 'read_write'}> ${name}: array<${type}>;`;
}

const f32 = new Float32Array(1);
const f32Bits = new Uint32Array(f32.buffer);

/** The bits of `v` as a float32, as a uniform word. */
export function f32Word(v: number): number {
  f32[0] = v;
  return f32Bits[0];
}

/**
 * The word a dtype stores for the number `v`, converted as cast converts (float32 rounds; int32
 * truncates toward zero and wraps, NaN and ±Infinity giving 0, as a typed-array store does;
 * bool is `v != 0`, so NaN is true).
 */
export function valueWord(v: number, dtype: DType): number {
  switch (dtype) {
    case 'float32': return f32Word(v);
    case 'int32': return (v | 0) >>> 0;
    case 'bool': return v !== 0 ? 1 : 0;
    case 'float64': throw new Error('webgpu: float64 reached a kernel (core refuses dtypes a backend does not list)');
  }
}
