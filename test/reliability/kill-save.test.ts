/**
 * kill -9 at random points of many saves (issue #12): after each kill the file is the previous
 * or the new complete model, never a torn one, and no temporary file outlives the next save.
 * A child (save-loop.ts) saves versions k, k+1, … of one model, every weight equal to k; it is
 * killed after a random delay, the file is loaded and must hold one version throughout, the
 * last one reported saved or the one being saved. KILN_KILL_SAVES sets the number of kills
 * (default 5 here; docs/reliability.md records a run of 50).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import * as kiln from '../../index.js';

const here = dirname(fileURLToPath(import.meta.url));
const tsx = pathToFileURL(join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist', 'loader.mjs')).href;
const KILLS = Number(process.env.KILN_KILL_SAVES ?? 5);
const dir = mkdtempSync(join(tmpdir(), 'kiln-kill-save-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Runs the save loop from `first` until `saves` more saves are reported, then kills it after
 * `delayMs`, or, `whileWriting`, as soon as the next save's temporary file appears plus
 * `delayMs`: the last version reported.
 */
function killDuringSaves(path: string, first: number, saves: number, delayMs: number, whileWriting: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', tsx, join(here, 'save-loop.ts'), path, String(first)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let last = first - 1;
    let armed = false;
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      for (const m of d.toString().matchAll(/saved (\d+)/g)) last = Number(m[1]);
      if (last < first + saves - 1 || armed) return;
      armed = true;
      if (!whileWriting) {
        setTimeout(() => child.kill('SIGKILL'), delayMs);
        return;
      }
      const poll = setInterval(() => {
        if (!readdirSync(dirname(path)).some((f) => f.endsWith('.tmp'))) return;
        clearInterval(poll);
        setTimeout(() => child.kill('SIGKILL'), delayMs);
      }, 1);
      child.on('exit', () => clearInterval(poll));
    });
    child.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve(last) : reject(new Error(`save loop ended with ${code ?? signal}: ${err.slice(-500)}`))));
  });
}

it(`after kill -9 during saves (${KILLS} kills), the file is always one complete version, and the next save leaves no temporary file`, async () => {
  await kiln.setBackend('reference');
  const path = join(dir, 'model.kiln');
  let next = 1;
  // kills that left a temporary file: they landed while the bytes were being written
  let midWrite = 0;
  // delays spread over a save's length (a few ms to tens of ms here), so kills land in every phase
  let seed = 12345;
  const random = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) >>> 8) / 2 ** 23;
  for (let kill = 0; kill < KILLS; kill++) {
    // every other kill waits for the temporary file, to land in the write, flush and rename
    const last = await killDuringSaves(path, next, 1 + Math.floor(random() * 3), kill % 2 ? random() * 3 : random() * 40, kill % 2 === 1);
    if (readdirSync(dir).some((f) => f.endsWith('.tmp'))) midWrite++;
    const model = await kiln.loadModel(path);
    const versions = new Set<number>();
    for (const w of model.getWeights()) for (const v of await w.data()) versions.add(v);
    model.dispose();
    expect(versions.size, `kill ${kill}: one version throughout`).toBe(1);
    const [version] = versions;
    expect([last, last + 1], `kill ${kill}: the file holds version ${version}; the last reported save was ${last}`).toContain(version);
    next = version + 1;
  }
  console.log(`kill-save: ${KILLS} kills, ${midWrite} of them while a temporary file was being written`);
  // the killed children's temporary files are gone once a save to the same path has run
  const model = await kiln.loadModel(path);
  await model.save(path);
  model.dispose();
  expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
}, 600_000);
