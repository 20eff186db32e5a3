import type { Backend, BackendDescriptor } from '../backends/contract.js';
import { fail } from './errors.js';
import reference from '../backends/reference/index.js';
import native from '../backends/native/index.js';
import webgpu from '../backends/webgpu/index.js';

/**
 * The backend registry: every backend folder's descriptor, in one list. The only file in src/
 * that names a particular backend.
 */
const DESCRIPTORS: BackendDescriptor[] = [reference, native, webgpu];

const created = new Map<string, Backend>();
let current: Backend | null = null;

export interface BackendStatus {
  name: string;
  available: boolean;
  reason?: string;
}

/** Registers a backend descriptor (for backends that live outside this package). */
export function registerBackend(descriptor: BackendDescriptor): void {
  if (DESCRIPTORS.some((d) => d.name === descriptor.name)) {
    fail('registerBackend', `a backend named '${descriptor.name}' is already registered`);
  }
  DESCRIPTORS.push(descriptor);
}

export function listBackends(): BackendStatus[] {
  return DESCRIPTORS.map((d) => {
    const p = d.probe();
    return p.available ? { name: d.name, available: true } : { name: d.name, available: false, reason: p.reason };
  });
}

function describeAvailable(): string {
  return listBackends()
    .map((b) => (b.available ? b.name : `${b.name} (unavailable: ${b.reason})`))
    .join(', ');
}

function descriptor(name: string): BackendDescriptor {
  const d = DESCRIPTORS.find((x) => x.name === name);
  if (!d) fail('setBackend', `unknown backend '${name}'; known backends: ${describeAvailable()}`);
  const p = d.probe();
  if (!p.available) fail('setBackend', `backend '${name}' is unavailable here: ${p.reason}; known backends: ${describeAvailable()}`);
  return d;
}

/** Creates (once) and returns the backend called `name`. */
export async function findBackend(name: string): Promise<Backend> {
  const existing = created.get(name);
  if (existing) return existing;
  const b = await descriptor(name).create();
  created.set(name, b);
  return b;
}

/** Makes `name` the backend that new tensors and ops use. */
export async function setBackend(name: string): Promise<void> {
  current = await findBackend(name);
}

function defaultName(): string {
  const env = process.env.KILN_BACKEND;
  if (env) return env;
  const best = [...DESCRIPTORS].sort((a, b) => b.priority - a.priority).find((d) => d.probe().available);
  return best ? best.name : 'reference';
}

/** Creates the default backend (KILN_BACKEND, else the fastest available); needed before first use only by async backends. */
export async function ready(): Promise<void> {
  if (!current) await setBackend(defaultName());
}

/** The current backend, creating the default one at first use. */
export function currentBackend(): Backend {
  if (current) return current;
  const name = defaultName();
  const made = descriptor(name).create();
  if (made instanceof Promise) {
    fail('backend', `backend '${name}' starts asynchronously: call await kiln.ready() (or await kiln.setBackend('${name}')) before using kiln`);
  }
  created.set(name, made);
  current = made;
  return made;
}

/** The name of the current backend. */
export function getBackend(): string {
  return currentBackend().name;
}
