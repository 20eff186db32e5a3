import { fail } from '../errors.js';

/**
 * Whether ops use the backend's fused kernels. On by default (KILN_FUSED=0 turns it off); the
 * composed path gives the same values within float tolerance, and the tests run both.
 */
let enabled = process.env.KILN_FUSED !== '0';

/**
 * Switches fused kernels on or off for every backend. Off, every op composes from the contract's
 * primitive kernels: slower, but it is what a backend without fused kernels runs.
 * @example
 * kiln.setFusedKernels(false);   // compare the composed path
 */
export function setFusedKernels(on: boolean): void {
  if (typeof on !== 'boolean') fail('setFusedKernels', `expected a boolean, got ${typeof on}`);
  enabled = on;
}

export function fusedKernelsEnabled(): boolean {
  return enabled;
}
