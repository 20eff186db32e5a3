/**
 * One fuzz child: runs cases [from, to) of one target and reports each case's start and end to
 * the parent over IPC, so that when this process dies or stalls the parent knows which case did
 * it. Run by scripts/fuzz.mjs; its arguments are target, seed, from, to, a scratch folder and
 * the tensor limit.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as kiln from '../../index.js';
import { KilnError } from '../../src/errors.js';
import { cliConfig } from './cli-config.js';
import { idxFile, npyFile } from './data-files.js';
import { kilnFile } from './kiln-file.js';
import { caseRng } from './mutate.js';
import { onnxExport } from './onnx-export.js';
import type { Target } from './target.js';

const TARGETS: Record<string, Target<any>> = { kiln: kilnFile, npy: npyFile, idx: idxFile, cli: cliConfig, onnx: onnxExport };

/** The error and the first frames in kiln's own files, which say where the check is missing. */
function crashDetail(err: unknown): string {
  if (!(err instanceof Error)) return `threw ${String(err)}`;
  const frames = (err.stack ?? '').split('\n').filter((l) => l.includes('/') && !l.includes('node_modules') && !l.includes('node:') && !l.includes('/scripts/fuzz/')).slice(0, 3);
  return `threw ${err.name}: ${err.message.slice(0, 300)}${frames.map((f) => `\n    ${f.trim()}`).join('')}`;
}

const [name, seed, from, to, scratch, maxBytes] = process.argv.slice(2);
const send = (message: object) => new Promise<void>((done) => process.send!(message, () => done()));
const target = TARGETS[name];
if (!target) throw new Error(`unknown fuzz target '${name}'; known: ${Object.keys(TARGETS).join(', ')}`);

// small enough that "huge" means over kiln's limit, so a huge claim tests the check, not the machine
kiln.setMaxTensorBytes(Number(maxBytes));
await kiln.ready();
const setupDir = join(scratch, 'base');
mkdirSync(setupDir, { recursive: true });
const base = await target.setup(setupDir);
for (let i = Number(from); i < Number(to); i++) {
  const dir = join(scratch, `case-${i}`);
  mkdirSync(dir, { recursive: true });
  const c = target.make(base, caseRng(Number(seed), name, i), dir);
  await send({ type: 'start', index: i, what: c.what });
  let outcome: { kind: string; detail?: string };
  try {
    outcome = await c.run();
  } catch (err) {
    outcome = err instanceof KilnError ? { kind: 'clean', detail: err.message.slice(0, 300) } : { kind: 'crash', detail: crashDetail(err) };
  }
  rmSync(dir, { recursive: true, force: true });
  await send({ type: 'end', index: i, ...outcome });
}
process.disconnect();
