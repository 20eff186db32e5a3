import { randomBytes } from 'node:crypto';
import { open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fail } from '../src/errors.js';

/** Bytes per write call: fs.write refuses lengths of 2 GiB and more. */
const WRITE_PIECE = 2 ** 30;

/**
 * Writes `data` (bytes, text, or a list of byte chunks written in order) to `path` so that
 * readers see either the previous file or the complete new one, never a partial file, even if
 * the process or machine dies midway: the bytes go to a temporary file in the same folder
 * (rename is atomic only within one file system), which is flushed to disk, renamed over the
 * target, and the folder is flushed so that the rename itself survives a crash. On any failure
 * the temporary file is removed and the previous file is left as it was; a temporary file that a
 * killed process left behind for the same target is removed by the next write.
 * @example
 * await writeFileAtomic('/tmp/model.kiln', bytes);
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array | readonly Uint8Array[], op = 'writeFileAtomic'): Promise<void> {
  const target = resolve(path);
  const dir = dirname(target);
  const info = await stat(dir).catch((err: NodeJS.ErrnoException) =>
    fail(op, err.code === 'ENOENT' ? `cannot write ${path}: the folder ${dir} does not exist` : `cannot write ${path}: ${err.message}`));
  if (!info.isDirectory()) fail(op, `cannot write ${path}: ${dir} is not a folder`);
  await removeStale(dir, basename(target));
  const temp = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const chunks = typeof data === 'string' ? [Buffer.from(data, 'utf8')] : data instanceof Uint8Array ? [data] : data;
  try {
    const handle = await open(temp, 'wx');
    try {
      for (const chunk of chunks) {
        // write() may write less than asked, and takes at most 2^31 − 1 bytes a call: loop in pieces
        for (let done = 0; done < chunk.byteLength;) done += (await handle.write(chunk, done, Math.min(chunk.byteLength - done, WRITE_PIECE))).bytesWritten;
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    fail(op, `cannot write ${path} (the previous file, if any, is unchanged): ${err instanceof Error ? err.message : String(err)}`);
  }
  await syncDir(dir);
}

/** Deletes `dir`'s temporary files for `name` whose writing process is gone (killed midway: each may be as large as the file). */
async function removeStale(dir: string, name: string): Promise<void> {
  const prefix = `.${name}.`;
  for (const file of await readdir(dir).catch(() => [] as string[])) {
    if (!file.startsWith(prefix)) continue;
    const m = /^(\d+)\.[0-9a-f]{12}\.tmp$/.exec(file.slice(prefix.length));
    if (m && !alive(Number(m[1]))) await unlink(join(dir, file)).catch(() => undefined);
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Flushes a folder's entries (the rename); platforms that cannot open folders (Windows) skip it. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => null);
  if (!handle) return;
  try {
    await handle.sync().catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'EINVAL' && err.code !== 'EPERM' && err.code !== 'EISDIR') throw err;
    });
  } finally {
    await handle.close();
  }
}
