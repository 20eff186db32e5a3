/// <reference types="@webgpu/types" />

/**
 * GPU buffers kept for reuse, by size class. Creating a GPUBuffer costs a driver allocation,
 * and a training step frees and allocates the same sizes again each step, so a freed buffer
 * waits here for the next request of its class. Classes are quarter steps between powers of
 * two (at most 25% unused), at least 16 bytes (a binding is never empty).
 */
export class BufferPool {
  private readonly idle = new Map<number, GPUBuffer[]>();
  /** Buffers waiting, and their bytes. */
  count = 0;
  bytes = 0;
  /** Buffers this pool has created since it began (tests use it to see reuse). */
  created = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly usage: number,
    /** A buffer freed while this many bytes wait is destroyed instead. */
    private readonly maxIdleBytes: number,
    /** No class rounds past this (a storage binding's limit), unless the request itself does. */
    private readonly maxClass: number,
  ) {}

  /** The class a request of `bytes` is served from. */
  classOf(bytes: number): number {
    if (bytes <= 16) return 16;
    const step = Math.max(16, 2 ** Math.floor(Math.log2(bytes)) / 4);
    const size = Math.ceil(bytes / step) * step;
    return size > this.maxClass && bytes <= this.maxClass ? Math.ceil(bytes / 4) * 4 : size;
  }

  take(bytes: number): GPUBuffer {
    const size = this.classOf(bytes);
    const reused = this.idle.get(size)?.pop();
    if (reused) {
      this.count--;
      this.bytes -= size;
      return reused;
    }
    this.created++;
    return this.device.createBuffer({ size, usage: this.usage });
  }

  /** Keeps `b` for reuse; false when the pool is full, and the caller destroys it. */
  give(b: GPUBuffer): boolean {
    if (this.bytes + b.size > this.maxIdleBytes) return false;
    const list = this.idle.get(b.size);
    if (list) list.push(b);
    else this.idle.set(b.size, [b]);
    this.count++;
    this.bytes += b.size;
    return true;
  }

  /** Destroys every waiting buffer. */
  clear(): void {
    for (const list of this.idle.values()) for (const b of list) b.destroy();
    this.idle.clear();
    this.count = 0;
    this.bytes = 0;
  }
}
