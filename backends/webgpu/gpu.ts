/// <reference types="@webgpu/types" />
/**
 * Where the WebGPU backend gets a GPU: `navigator.gpu` wherever the host has it (browsers, in a
 * secure context), else, in Node, the optional `webgpu` package (Dawn), imported on first use.
 * Nothing here imports a Node module statically, so the same file runs in a browser bundle.
 */

export type Probe = { available: true } | { available: false; reason: string };

/** The parts of Node's `process` the probe reads, typed here so browsers need no Node types. */
interface NodeProcess {
  versions?: { node?: string };
  platform: string;
  arch: string;
  env: Record<string, string | undefined>;
  getBuiltinModule?(id: string): unknown;
}

type Fs = typeof import('node:fs');
type NodeModule = typeof import('node:module');

function nodeProcess(): NodeProcess | undefined {
  return (globalThis as { process?: NodeProcess }).process;
}

function navigatorGpu(): GPU | undefined {
  return (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
}

const SWIFTSHADER_HINT =
  'for SwiftShader, a CPU Vulkan driver that Debian\'s chromium package ships, set VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json';

const LIB_DIRS = [
  '/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/lib/x86_64-linux-gnu',
  '/lib/aarch64-linux-gnu', '/lib64', '/lib', '/usr/local/lib',
];
const ICD_DIRS = ['/usr/share/vulkan/icd.d', '/etc/vulkan/icd.d', '/usr/local/share/vulkan/icd.d'];

const unavailable = (reason: string): Probe => ({ available: false, reason });

/** Whether a Vulkan loader and a driver are there for Dawn on Linux (checked from files, synchronously). */
function probeVulkan(fs: Fs, env: NodeProcess['env']): Probe {
  const dirs = [...(env.LD_LIBRARY_PATH ?? '').split(':').filter(Boolean), ...LIB_DIRS];
  if (!dirs.some((d) => fs.existsSync(`${d}/libvulkan.so.1`))) {
    return unavailable('the Vulkan loader libvulkan.so.1, which Dawn needs on Linux, is missing (Debian/Ubuntu: apt-get install libvulkan1)');
  }
  const named = env.VK_ICD_FILENAMES ?? env.VK_DRIVER_FILES;
  if (named) {
    const missing = named.split(':').filter((f) => f && !fs.existsSync(f));
    return missing.length === 0 ? { available: true } : unavailable(`VK_ICD_FILENAMES names ${missing.join(', ')}, which does not exist`);
  }
  // The loader finds drivers by their ICD files, but a driver runs only on its device, and
  // Dawn refuses CPU drivers it cannot use (Mesa's lavapipe): without a device node no adapter
  // would come, and the backend is not offered.
  const renderNodes = fs.existsSync('/dev/dri') && fs.readdirSync('/dev/dri').some((f) => f.startsWith('renderD'));
  if (!renderNodes && !fs.existsSync('/dev/nvidia0') && !fs.existsSync('/dev/dxg')) {
    return unavailable(`no GPU device (/dev/dri/renderD*, /dev/nvidia0) and no VK_ICD_FILENAMES: no Vulkan driver to run on; ${SWIFTSHADER_HINT}`);
  }
  if (!ICD_DIRS.some((d) => fs.existsSync(d) && fs.readdirSync(d).some((f) => f.endsWith('.json')))) {
    return unavailable(`a GPU device is present but no Vulkan driver is installed (no ICD file in ${ICD_DIRS.join(', ')}): install the GPU vendor's Vulkan driver`);
  }
  return { available: true };
}

function probeNow(): Probe {
  if (navigatorGpu()) return { available: true };
  const proc = nodeProcess();
  if (!proc?.versions?.node) {
    return unavailable('no navigator.gpu here: the browser has no WebGPU, or the page is not a secure context (WebGPU needs https or localhost)');
  }
  const fs = proc.getBuiltinModule?.('node:fs') as Fs | undefined;
  const mod = proc.getBuiltinModule?.('node:module') as NodeModule | undefined;
  if (!fs || !mod) return unavailable(`Node ${proc.versions.node} lacks process.getBuiltinModule (Node >= 20.16), which the probe needs`);
  let entry: string;
  try {
    entry = mod.createRequire(import.meta.url).resolve('webgpu');
  } catch {
    return unavailable("the optional package 'webgpu' (Dawn for Node) is not installed: npm install webgpu");
  }
  const platform = `${proc.platform}-${proc.platform === 'darwin' ? 'universal' : proc.arch}`;
  if (!fs.existsSync(`${entry.slice(0, entry.lastIndexOf('/') + 1)}dist/${platform}/dawn.node`)) {
    return unavailable(`the 'webgpu' package has no Dawn build for ${platform}`);
  }
  // macOS runs Dawn on Metal and Windows on Direct3D 12, both always there
  return proc.platform === 'linux' ? probeVulkan(fs, proc.env) : { available: true };
}

let probed: Probe | null = null;

/** Whether WebGPU can run here, from what can be seen synchronously; the adapter itself is asked for in openDevice. */
export function probe(): Probe {
  probed ??= probeNow();
  return probed;
}

let dawn: GPU | null = null;

async function gpu(): Promise<GPU> {
  const nav = navigatorGpu();
  if (nav) return nav;
  if (!dawn) {
    // The Node path only: probe() sent browsers to navigator.gpu above. A browser bundle marks
    // 'webgpu' external.
    const { create } = await import('webgpu');
    dawn = create([]);
  }
  return dawn;
}

/** Limits asked of the device at the adapter's values rather than WebGPU's defaults, which are lower. */
const LIMITS = [
  'maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupSizeY', 'maxStorageBuffersPerShaderStage',
] as const;

/** A device on the best adapter, and the adapter's name; fails with the reason when there is none. */
export async function openDevice(): Promise<{ device: GPUDevice; description: string }> {
  const p = probe();
  if (!p.available) throw new Error(`webgpu backend unavailable: ${p.reason}`);
  const adapter = await (await gpu()).requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) {
    const env = nodeProcess()?.env;
    const where = navigatorGpu()
      ? 'navigator.gpu.requestAdapter() returned null (WebGPU is disabled or the GPU is blocklisted in this browser)'
      : `Dawn found no usable adapter (a Vulkan driver too old or unsupported by Dawn${env?.VK_ICD_FILENAMES ? `: VK_ICD_FILENAMES=${env.VK_ICD_FILENAMES}` : ''}); ${SWIFTSHADER_HINT}`;
    throw new Error(`webgpu backend unavailable: no GPU adapter: ${where}`);
  }
  const requiredLimits: Record<string, number> = {};
  for (const name of LIMITS) requiredLimits[name] = adapter.limits[name];
  const device = await adapter.requestDevice({ requiredLimits });
  const info = adapter.info;
  const description = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ');
  return { device, description };
}
