import type { BackendDescriptor } from '../contract.js';
import { ReferenceBackend } from './backend.js';

/** The pure-TypeScript backend: always available, the oracle every other backend is checked against. */
const reference: BackendDescriptor = {
  name: 'reference',
  priority: 0,
  probe: () => ({ available: true }),
  create: () => new ReferenceBackend(),
};

export default reference;
