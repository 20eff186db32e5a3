import type { BackendDescriptor } from '../contract.js';
import { WebGPUBackend } from './backend.js';
import { openDevice, probe } from './gpu.js';
import { Runtime } from './runtime.js';

/**
 * WGSL compute kernels on any GPU WebGPU reaches: navigator.gpu in browsers, the optional
 * `webgpu` package (Dawn: Vulkan, Metal, Direct3D 12) in Node. Asked for by name only
 * (KILN_BACKEND=webgpu, kiln.setBackend('webgpu'), --backend webgpu): on a machine without a GPU
 * it runs on SwiftShader, a CPU emulation slower than the native backend, and defaults must not
 * change with what a machine happens to have installed.
 */
const webgpu: BackendDescriptor = {
  name: 'webgpu',
  priority: -1,
  probe,
  async create() {
    const { device, description } = await openDevice();
    return new WebGPUBackend(new Runtime(device, description));
  },
};

export default webgpu;
