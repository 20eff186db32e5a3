/// <reference types="@webgpu/types" />
/**
 * The device side of the WebGPU backend: one command encoder that kernels are recorded into,
 * the pipeline cache, the uniform parameters, buffer pools, readback, and what happens when the
 * device is lost.
 *
 * Submission: kernels are recorded, not run, when core calls them (every kernel call returns at
 * once). The encoder is submitted (1) when a read needs the results, (2) when a write would
 * overwrite a buffer that recorded work still reads (a freed buffer handed out again), (3) once
 * MAX_RECORDED launches are waiting, so that one long synchronous loop still keeps the GPU busy,
 * and (4) on the microtask after the first launch is recorded: a training step is synchronous
 * from the forward pass to the weight update, so it becomes one submission that the GPU starts
 * as soon as the step's JavaScript yields, without waiting for a read.
 */
import { BufferPool } from './pool.js';
import { paramsDecl, type Access, type Dispatch } from './kernels/wgsl.js';

// GPUBufferUsage, GPUShaderStage and GPUMapMode values: Dawn for Node does not define the
// globals unless asked to, and the backend does not put them on globalThis for the user.
const MAP_READ = 0x1;
const COPY_SRC = 0x4;
const COPY_DST = 0x8;
const UNIFORM = 0x40;
const STORAGE = 0x80;
const COMPUTE = 0x4;
const MODE_READ = 0x1;

/** Launches recorded before the encoder is submitted without waiting for the microtask. */
const MAX_RECORDED = 512;
/** Bytes of freed buffers kept for reuse; beyond it a freed buffer is destroyed. */
const MAX_IDLE_BYTES = 256 * 2 ** 20;
/** One uniform buffer of parameters; each launch takes a 256-byte-aligned slice. */
const ARENA_BYTES = 65536;

interface Pipeline {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

export class Runtime {
  readonly storage: BufferPool;
  private readonly staging: BufferPool;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private recorded = 0;
  private flushQueued = false;
  /** Buffers that recorded, unsubmitted commands use. */
  private readonly pending = new Set<GPUBuffer>();
  /** Buffers to destroy once the commands recorded so far are submitted. */
  private doomed: GPUBuffer[] = [];
  private readonly pipelines = new Map<string, Pipeline>();
  private readonly layouts = new Map<string, GPUBindGroupLayout>();
  /** Uniform parameters: CPU copies of each arena buffer used by the current encoder. */
  private readonly arenas: { buffer: GPUBuffer; words: Uint32Array }[] = [];
  private arena = 0;
  private arenaOffset = 0;
  private readonly align: number;
  /** Why the device cannot be used any more, once it cannot. */
  private failure: string | null = null;
  /** Rejects when the device is lost, so that no wait on the GPU outlives it. */
  private readonly lost: Promise<never>;

  constructor(readonly device: GPUDevice, readonly description: string) {
    const maxBinding = device.limits.maxStorageBufferBindingSize;
    this.storage = new BufferPool(device, STORAGE | COPY_SRC | COPY_DST, MAX_IDLE_BYTES, maxBinding);
    this.staging = new BufferPool(device, MAP_READ | COPY_DST, MAX_IDLE_BYTES / 4, device.limits.maxBufferSize);
    this.align = device.limits.minUniformBufferOffsetAlignment;
    this.lost = device.lost.then((info) => {
      this.failure ??= info.reason === 'destroyed'
        ? 'the webgpu backend was disposed (its device destroyed)'
        : `the GPU device was lost (${info.reason}: ${info.message || 'no message'}); tensors on it are gone: create the backend again (kiln.setBackend('webgpu') in a new process) and reload the model from its last checkpoint`;
      throw new Error(`webgpu: ${this.failure}`);
    });
    this.lost.catch(() => {});
    device.addEventListener('uncapturederror', (e) => {
      this.failure ??= `the GPU reported an error: ${(e as GPUUncapturedErrorEvent).error.message}`;
    });
  }

  /** Throws the reason the device cannot be used, if it cannot. */
  check(): void {
    if (this.failure !== null) throw new Error(`webgpu: ${this.failure}`);
  }

  /** Records one launch. */
  dispatch(d: Dispatch): void {
    this.check();
    const vec4s = Math.max(1, Math.ceil(d.params.length / 4));
    const p = this.pipeline(`${d.key}#${vec4s}`, () => d.code(paramsDecl(vec4s)), d.bindings.map(([, a]) => a));
    const uniform = this.uniforms(d.params, vec4s * 16);
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: uniform }];
    d.bindings.forEach(([buffer], k) => entries.push({ binding: k + 1, resource: { buffer } }));
    const group = this.device.createBindGroup({ layout: p.layout, entries });
    const pass = this.computePass();
    pass.setPipeline(p.pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(d.groups[0], d.groups[1], d.groups[2]);
    for (const [b] of d.bindings) this.pending.add(b);
    this.recorded++;
    if (this.recorded >= MAX_RECORDED) this.flush();
    else if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => {
        this.flushQueued = false;
        if (this.failure === null) this.flush();
      });
    }
  }

  /** Copies `data` into `b`, after any recorded work that reads `b` (a reused buffer's old contents). */
  write(b: GPUBuffer, data: ArrayBufferView): void {
    this.check();
    if (this.pending.has(b)) this.flush();
    this.device.queue.writeBuffer(b, 0, data.buffer, data.byteOffset, data.byteLength);
  }

  /** The first `bytes` of `b` once every recorded launch before this call has run. */
  async read(b: GPUBuffer, bytes: number): Promise<ArrayBuffer> {
    this.check();
    const staging = this.staging.take(bytes);
    this.endPass();
    this.commandEncoder().copyBufferToBuffer(b, 0, staging, 0, bytes);
    this.flush();
    try {
      await Promise.race([staging.mapAsync(MODE_READ, 0, bytes), this.lost]);
    } catch (e) {
      this.check();
      throw e;
    }
    const copy = staging.getMappedRange(0, bytes).slice(0);
    staging.unmap();
    if (!this.staging.give(staging)) staging.destroy();
    return copy;
  }

  /** A storage buffer of at least `bytes`. */
  take(bytes: number): GPUBuffer {
    this.check();
    return this.storage.take(bytes);
  }

  /** Gives `b` back; recorded launches that use it still run on its current contents. */
  release(b: GPUBuffer): void {
    if (this.failure !== null) return;
    if (this.storage.give(b)) return;
    if (this.pending.has(b)) this.doomed.push(b);
    else b.destroy();
  }

  /** Submits everything recorded. */
  flush(): void {
    if (this.encoder === null) return;
    this.endPass();
    for (let k = 0; k <= this.arena && k < this.arenas.length; k++) {
      const a = this.arenas[k];
      const words = k < this.arena ? a.words.length : this.arenaOffset / 4;
      if (words > 0) this.device.queue.writeBuffer(a.buffer, 0, a.words.buffer, 0, words * 4);
    }
    this.device.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.recorded = 0;
    this.arena = 0;
    this.arenaOffset = 0;
    this.pending.clear();
    for (const b of this.doomed) b.destroy();
    this.doomed = [];
  }

  destroy(): void {
    this.failure ??= 'the webgpu backend was disposed (its device destroyed)';
    this.storage.clear();
    this.staging.clear();
    this.device.destroy();
  }

  private commandEncoder(): GPUCommandEncoder {
    this.encoder ??= this.device.createCommandEncoder();
    return this.encoder;
  }

  private computePass(): GPUComputePassEncoder {
    this.pass ??= this.commandEncoder().beginComputePass();
    return this.pass;
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  /** A slice of the parameter arena holding `params`, `size` bytes long. */
  private uniforms(params: readonly number[], size: number): GPUBufferBinding {
    if (this.arenaOffset + size > ARENA_BYTES) {
      this.arena++;
      this.arenaOffset = 0;
    }
    if (this.arena === this.arenas.length) {
      this.arenas.push({
        buffer: this.device.createBuffer({ size: ARENA_BYTES, usage: UNIFORM | COPY_DST }),
        words: new Uint32Array(ARENA_BYTES / 4),
      });
    }
    const a = this.arenas[this.arena];
    const offset = this.arenaOffset;
    for (let k = 0; k < params.length; k++) a.words[offset / 4 + k] = params[k] >>> 0;
    this.arenaOffset = offset + Math.ceil(size / this.align) * this.align;
    return { buffer: a.buffer, offset, size };
  }

  /** The pipeline for `key`, compiled on first use; its bind group layout is explicit, so a binding the shader does not read is still accepted. */
  private pipeline(key: string, code: () => string, access: readonly Access[]): Pipeline {
    const cached = this.pipelines.get(key);
    if (cached) return cached;
    const signature = access.join(',');
    let layout = this.layouts.get(signature);
    if (!layout) {
      layout = this.device.createBindGroupLayout({
        entries: [
          { binding: 0, visibility: COMPUTE, buffer: { type: 'uniform' } },
          ...access.map((a, k): GPUBindGroupLayoutEntry => ({
            binding: k + 1, visibility: COMPUTE, buffer: { type: a === 'read' ? 'read-only-storage' : 'storage' },
          })),
        ],
      });
      this.layouts.set(signature, layout);
    }
    const source = code();
    const module = this.device.createShaderModule({ code: source, label: key });
    // A shader that does not compile is a bug in this backend: say which, on the next call.
    void module.getCompilationInfo().then((info) => {
      const errors = info.messages.filter((m) => m.type === 'error');
      if (errors.length > 0) {
        this.failure ??= `kernel '${key}' did not compile: ${errors.map((m) => `line ${m.lineNum}: ${m.message}`).join('; ')}`;
      }
    });
    const pipeline = this.device.createComputePipeline({
      layout: this.device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: 'main' },
    });
    const p = { pipeline, layout };
    this.pipelines.set(key, p);
    return p;
  }
}
