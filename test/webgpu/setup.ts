/**
 * Whether these tests can run here: the backend must be offered (probe) and an adapter must
 * answer (create). Where not, every file skips and prints why.
 */
import * as kiln from '../../index.js';
import webgpu from '../../backends/webgpu/index.js';
import type { WebGPUBackend } from '../../backends/webgpu/backend.js';

async function whyNot(): Promise<string | null> {
  const status = kiln.listBackends().find((b) => b.name === 'webgpu');
  if (!status?.available) return status?.reason ?? 'not registered';
  try {
    (await webgpu.create()).dispose?.();
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

export const UNAVAILABLE = await whyNot();

/** Logs why `file` is skipped, where it is. */
export function reportSkip(file: string): void {
  if (UNAVAILABLE !== null) console.log(`test/webgpu/${file}: skipped: ${UNAVAILABLE}`);
}

/** A backend of its own (its own device), so that its counts are the test's alone. */
export async function freshBackend(): Promise<WebGPUBackend> {
  return (await webgpu.create()) as WebGPUBackend;
}
