import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { CommandModule } from 'yargs';
import * as kiln from '../../index.js';
import type { GlobalArgs } from '../common.js';

/** The instruction-set extensions a native backend's kernels would pick between. */
const FEATURES = process.arch === 'arm64' ? ['asimd', 'sve'] : ['avx2', 'fma', 'avx512f'];

export const info: CommandModule<GlobalArgs, GlobalArgs> = {
  command: 'info',
  describe: 'Version, Node, CPU, threads and backends',
  handler: () => {
    const flags = cpuFlags();
    const features = flags ? FEATURES.map((f) => `${f} ${flags.has(f) ? 'yes' : 'no'}`).join(', ') : 'unknown (no /proc/cpuinfo)';
    console.log(`kiln ${kiln.version}`);
    console.log(`Node ${process.version} (${process.platform}-${process.arch})`);
    console.log(`CPU: ${os.cpus()[0]?.model ?? 'unknown'}`);
    console.log(`CPU features: ${features}`);
    console.log(`threads: ${os.availableParallelism()}`);
    console.log('backends:');
    for (const b of kiln.listBackends()) console.log(`  ${b.name.padEnd(10)} ${b.available ? 'available' : `unavailable: ${b.reason}`}`);
    console.log(`current backend: ${kiln.getBackend()}`);
  },
};

/** The CPU's feature flags from /proc/cpuinfo (Linux), or null where there is none. */
function cpuFlags(): Set<string> | null {
  try {
    const text = readFileSync('/proc/cpuinfo', 'utf8');
    // x86 lists them as 'flags', ARM as 'Features'
    return new Set((text.match(/^(?:flags|Features)\s*:\s*(.*)$/m)?.[1] ?? '').split(/\s+/));
  } catch {
    return null;
  }
}
