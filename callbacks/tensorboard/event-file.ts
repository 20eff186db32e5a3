import { appendFile, mkdir, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fail } from '../../src/errors.js';
import { encodeEvent, type Event } from './proto.js';
import { frameRecord } from './record.js';

/** Tells apart the files one process starts in the same second, as TensorFlow's writer ids do. */
let filesStarted = 0;

/**
 * One event file in `dir`, created at the first write and named as TensorFlow 2 names its
 * writers' files. Each write appends whole records in one call and closes the file again, so a
 * crash leaves every earlier record readable and holds no file open.
 */
export class EventFileWriter {
  private path: string | null = null;

  constructor(readonly dir: string) {}

  async write(events: Omit<Event, 'wallTime'>[]): Promise<void> {
    if (events.length === 0) return;
    const wallTime = Date.now() / 1000;
    const pending = events.map((e) => ({ ...e, wallTime }));
    if (this.path === null) {
      await ensureDirectory(this.dir);
      const seconds = String(Math.floor(wallTime)).padStart(10, '0');
      this.path = join(this.dir, `events.out.tfevents.${seconds}.${hostname()}.${process.pid}.${filesStarted++}.v2`);
      pending.unshift({ wallTime, fileVersion: 'brain.Event:2' });
    }
    await appendFile(this.path, Buffer.concat(pending.map((e) => frameRecord(encodeEvent(e)))));
  }
}

/** Creates `dir` and its parents, naming the file that stands where a directory must be. */
export async function ensureDirectory(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST' && code !== 'ENOTDIR') throw e;
    fail('TensorBoard', `logDir must be a directory, but '${await firstFile(dir)}' is a file`);
  }
}

async function firstFile(dir: string): Promise<string> {
  const chain: string[] = [];
  for (let p = dir; !chain.includes(p); p = dirname(p)) chain.unshift(p);
  for (const p of chain) {
    const s = await stat(p).catch(() => null);
    if (s && !s.isDirectory()) return p;
  }
  return dir;
}
