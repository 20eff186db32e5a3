import { randomBytes } from 'node:crypto';
import { open, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fail } from '../src/errors.js';

/**
 * Writes `data` (bytes, text, or a list of byte chunks written in order) to `path` so that
 * readers see either the previous file or the complete new one, never a partial file, even if
 * the process or machine dies midway: the bytes go to a temporary file in the same folder
 * (rename is atomic only within one file system), which is flushed to disk, renamed over the
 * target, and the folder is flushed so that the rename itself survives a crash. On any failure
 * the temporary file is removed and the previous file is left as it was.
 * @example
 * await writeFileAtomic('/tmp/model.kiln', bytes);
 */
export async function writeFileAtomic(path: string, data: string | Uint8Array | readonly Uint8Array[], op = 'writeFileAtomic'): Promise<void> {
  const target = resolve(path);
  const dir = dirname(target);
  const info = await stat(dir).catch((err: NodeJS.ErrnoException) =>
    fail(op, err.code === 'ENOENT' ? `cannot write ${path}: the folder ${dir} does not exist` : `cannot write ${path}: ${err.message}`));
  if (!info.isDirectory()) fail(op, `cannot write ${path}: ${dir} is not a folder`);
  const temp = join(dir, `.${basename(target)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const chunks = typeof data === 'string' ? [Buffer.from(data, 'utf8')] : data instanceof Uint8Array ? [data] : data;
  try {
    const handle = await open(temp, 'wx');
    try {
      for (const chunk of chunks) {
        // write() may write less than asked (large buffers), so loop until the chunk is out
        for (let done = 0; done < chunk.byteLength;) done += (await handle.write(chunk, done, chunk.byteLength - done)).bytesWritten;
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
