import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fail } from '../../src/errors.js';
import type { RunLog } from '../../callbacks/report/run-log.js';
import { decodeEvent } from '../../callbacks/tensorboard/proto.js';
import { maskedCrc32c } from '../../callbacks/tensorboard/record.js';

const OP = 'trainingReport';

/**
 * The epoch logs of a TensorBoard log folder as callbacks.TensorBoard lays it out: `epoch_<name>`
 * scalars in `train/` (step = epoch; `epoch_learning_rate` becomes `learning_rate`) and the same
 * tags in `validation/`, read back as `val_<name>`. Every event file of a run is read in name
 * (time) order, a later value for an epoch replacing an earlier one; batch, evaluation and
 * histogram summaries are not per-epoch curves and are left out.
 */
export async function readTensorBoardLog(dir: string): Promise<RunLog> {
  const values = new Map<string, Map<number, number>>();
  let files = 0;
  for (const [run, prefix] of [['train', ''], ['validation', 'val_']] as const) {
    const runDir = join(dir, run);
    const names = (await readdir(runDir).catch(() => [] as string[])).filter((f) => f.startsWith('events.out.tfevents.')).sort();
    files += names.length;
    for (const name of names) {
      const path = join(runDir, name);
      for (const { data, at } of records(await readFile(path), path)) {
        let event;
        try {
          event = decodeEvent(data);
        } catch (e) {
          return fail(OP, `${path}: the record at byte ${at} is not a TensorBoard Event (${(e as Error).message})`);
        }
        for (const v of event.summary?.value ?? []) {
          if (!v.tag.startsWith('epoch_') || v.simpleValue === undefined) continue;
          const key = v.tag === 'epoch_learning_rate' ? 'learning_rate' : prefix + v.tag.slice('epoch_'.length);
          if (!values.has(key)) values.set(key, new Map());
          values.get(key)!.set(event.step ?? 0, v.simpleValue);
        }
      }
    }
  }
  if (files === 0) fail(OP, `${dir} holds no TensorBoard event files in train/ or validation/ (and is not a log file)`);
  const epochs = [...new Set([...values.values()].flatMap((m) => [...m.keys()]))].sort((a, b) => a - b);
  const series: RunLog['series'] = {};
  for (const [key, byEpoch] of values) series[key] = epochs.map((e) => (byEpoch.has(e) && Number.isFinite(byEpoch.get(e)) ? byEpoch.get(e)! : null));
  return { epochs, series };
}

/** TFRecord frames, both masked CRC32Cs checked: a torn or corrupt file fails naming the byte. */
function records(file: Buffer, path: string): { data: Buffer; at: number }[] {
  const out: { data: Buffer; at: number }[] = [];
  for (let at = 0; at < file.length;) {
    if (file.length - at < 12) fail(OP, `${path}: a record header is cut off at byte ${at}`);
    const length = Number(file.readBigUInt64LE(at));
    if (file.readUInt32LE(at + 8) !== maskedCrc32c(file.subarray(at, at + 8))) fail(OP, `${path}: the length of the record at byte ${at} fails its checksum`);
    if (file.length - at - 12 < length + 4) fail(OP, `${path}: the record at byte ${at} is cut off (${length} bytes announced)`);
    const data = file.subarray(at + 12, at + 12 + length);
    if (file.readUInt32LE(at + 12 + length) !== maskedCrc32c(data)) fail(OP, `${path}: the record at byte ${at} fails its checksum`);
    out.push({ data, at });
    at += 16 + length;
  }
  return out;
}
