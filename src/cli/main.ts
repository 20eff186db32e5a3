#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import os from 'node:os';
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import * as kiln from '../index.js';

/** One clear line on error (the stack with --verbose), and a non-zero exit. */
function handleError(err: unknown, verbose: boolean): never {
  const e = err instanceof Error ? err : new Error(String(err));
  console.error(`kiln: ${e.message}`);
  if (verbose && e.stack) console.error(e.stack);
  process.exit(1);
}

async function selectBackend({ backend, seed }: { backend?: string; seed?: number }) {
  if (backend) await kiln.setBackend(backend);
  else await kiln.ready();
  if (seed !== undefined) kiln.setSeed(seed);
}

function cpuFeatures(): string {
  const flags = os.cpus().length > 0 && process.platform === 'linux' ? linuxFlags() : [];
  const wanted = ['avx2', 'fma', 'avx512f', 'neon', 'asimd'];
  return wanted.filter((f) => flags.includes(f)).join(' ') || 'unknown';
}

function linuxFlags(): string[] {
  try {
    const text = readFileSync('/proc/cpuinfo', 'utf8');
    return (text.match(/^(flags|Features)\s*:\s*(.*)$/m)?.[2] ?? '').split(/\s+/);
  } catch {
    return [];
  }
}

const cli = yargs(hideBin(process.argv))
  .scriptName('kiln')
  .option('backend', { type: 'string', describe: 'backend to run on (see `kiln info`)' })
  .option('seed', { type: 'number', describe: 'seed for every random draw' })
  .option('verbose', { type: 'boolean', default: false, describe: 'print stack traces on errors' })
  .command('info', 'version, backends, CPU', {}, async (argv) => {
    await selectBackend(argv as { backend?: string; seed?: number });
    console.log(`kiln ${kiln.version} on Node ${process.version} (${process.platform}-${process.arch})`);
    console.log(`CPU: ${os.cpus()[0]?.model ?? 'unknown'}, ${os.cpus().length} cores, features: ${cpuFeatures()}`);
    console.log(`current backend: ${kiln.getBackend()}`);
    for (const b of kiln.listBackends()) {
      console.log(`  ${b.name.padEnd(10)} ${b.available ? 'available' : `unavailable: ${b.reason}`}`);
    }
  })
  .demandCommand(1, 'name a command (see --help)')
  .strict()
  .fail((msg, err) => handleError(err ?? new Error(msg), process.argv.includes('--verbose')));

await cli.parseAsync();
