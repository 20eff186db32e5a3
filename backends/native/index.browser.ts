import type { BackendDescriptor } from '../contract.js';

/**
 * The native backend's descriptor in the browser bundle (browser.ts): the backend is a Node
 * addon, so a page lists it as unavailable, with the reason, and never loads the addon's loader
 * (node:fs, node:module). The registry in src/backends.ts stays one list for both builds.
 */
const REASON = 'the native backend is a Node addon (C++ through N-API), which a browser cannot load; use webgpu or reference';

const native: BackendDescriptor = {
  name: 'native',
  priority: 10,
  probe: () => ({ available: false, reason: REASON }),
  create() {
    throw new Error(`native backend unavailable: ${REASON}`);
  },
};

export default native;
