import type { BackendDescriptor } from '../contract.js';
import { loadAddon } from './addon.js';
import { NATIVE_ROWS, NativeBackend } from './backend.js';

/**
 * The C++ CPU backend (an N-API addon): SIMD, a thread pool and a packed GEMM. Available where the
 * addon was built at install time; otherwise probe() says why (the build script records the
 * compiler's first error) and kiln falls back to the reference backend.
 */
const native: BackendDescriptor = {
  name: 'native',
  // Above reference (0): the default wherever it is available.
  priority: 10,
  probe() {
    const r = loadAddon(NATIVE_ROWS);
    return r.ok ? { available: true } : { available: false, reason: r.reason };
  },
  create() {
    const r = loadAddon(NATIVE_ROWS);
    if (!r.ok) throw new Error(`native backend unavailable: ${r.reason}`);
    return new NativeBackend(r.addon);
  },
};

export default native;
