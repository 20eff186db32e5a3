import { mkdir, readdir, readFile, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fail } from '../src/errors.js';
import { writeFileAtomic } from '../saving/atomic.js';
import { Callback } from '../models/callback.js';

export interface BackupAndRestoreOptions {
  /** 'epoch', or back up every this many training batches (a resumed run then redoes that epoch). */
  saveFreq?: 'epoch' | number;
  /** Delete the backup when training finishes (default true). */
  deleteCheckpoint?: boolean;
}

/** What the metadata file records: the epoch to resume from and the model file that goes with it. */
interface Backup {
  epoch: number;
  seq: number;
  file: string;
}

const METADATA = 'training_metadata.json';
const MODEL_FILE = /^backup-\d+\.kiln$/;
// our files, and the temporary files an atomic write of them leaves if the process dies midway
const OWN_FILE = /^(backup-\d+\.kiln|training_metadata\.json)$|^\.(backup-\d+\.kiln|training_metadata\.json)\..*\.tmp$/;

/**
 * Backs up the training state so that a fit interrupted by a crash resumes where it stopped when
 * run again with the same callback (Keras's BackupAndRestore). Each backup is a `model.save` file
 * (weights and optimizer state) plus the epoch to resume from; a restore goes through
 * `model.loadWeights`. The directory must not be shared with other callbacks or runs.
 * @example
 * await model.fit(x, y, { epochs: 10, callbacks: [new kiln.callbacks.BackupAndRestore('/tmp/backup')] });
 */
export class BackupAndRestore extends Callback {
  readonly backupDir: string;
  readonly saveFreq: 'epoch' | number;
  readonly deleteCheckpoint: boolean;
  /** The epoch fit must start from, set by onTrainBegin when it restored a backup (and handed to fit as model.resumeEpoch); null otherwise. */
  initialEpoch: number | null = null;
  private saved: Backup | null = null;
  private currentEpoch = 0;
  private batchesSinceSave = 0;

  constructor(backupDir: string, { saveFreq = 'epoch', deleteCheckpoint = true }: BackupAndRestoreOptions = {}) {
    super();
    if (typeof backupDir !== 'string' || backupDir === '') fail('BackupAndRestore', `expected a backup directory, got ${String(backupDir)}`);
    if (saveFreq !== 'epoch' && !(Number.isInteger(saveFreq) && saveFreq > 0)) {
      fail('BackupAndRestore', `saveFreq must be 'epoch' or a positive integer, got ${String(saveFreq)}`);
    }
    this.backupDir = backupDir;
    this.saveFreq = saveFreq;
    this.deleteCheckpoint = deleteCheckpoint;
    // a batch hook makes fit read logs back every step: only batch-frequency backups need it
    if (saveFreq === 'epoch') this.onTrainBatchEnd = Callback.prototype.onTrainBatchEnd;
  }

  override async onTrainBegin(): Promise<void> {
    this.initialEpoch = null;
    this.batchesSinceSave = 0;
    this.saved = await this.readMetadata();
    if (!this.saved) return;
    if (!this.model.built) {
      fail('BackupAndRestore', `model '${this.model.name}' must be built before fit() to restore its backup: give it an Input or call it on a batch first`);
    }
    await this.model.loadWeights(join(this.backupDir, this.saved.file));
    this.initialEpoch = this.saved.epoch;
    this.model.resumeEpoch = this.saved.epoch;
  }

  override onEpochBegin(epoch: number): void {
    this.currentEpoch = epoch;
  }

  override onTrainBatchEnd(_batch: number): void | Promise<void> {
    if (++this.batchesSinceSave < (this.saveFreq as number)) return;
    this.batchesSinceSave = 0;
    return this.backup(this.currentEpoch);
  }

  override async onEpochEnd(epoch: number): Promise<void> {
    if (this.saveFreq === 'epoch') await this.backup(epoch + 1);
  }

  override async onTrainEnd(): Promise<void> {
    if (!this.deleteCheckpoint) return;
    // the metadata goes first: without it, leftover model files are never restored
    await rm(join(this.backupDir, METADATA), { force: true });
    const names = await readdir(this.backupDir).catch(ignore(['ENOENT'], []));
    for (const name of names) {
      if (OWN_FILE.test(name)) await rm(join(this.backupDir, name), { force: true });
    }
    // only our own files are removed; a directory that holds anything else is left alone
    await rmdir(this.backupDir).catch(ignore(['ENOTEMPTY', 'EEXIST', 'ENOENT'], undefined));
    this.saved = null;
  }

  /**
   * Writes a new model file, then commits it by replacing the metadata atomically. A crash at any
   * point leaves the metadata naming a complete model file and the epoch that goes with it.
   */
  private async backup(epoch: number): Promise<void> {
    await mkdir(this.backupDir, { recursive: true });
    const seq = (this.saved?.seq ?? 0) + 1;
    const next: Backup = { epoch, seq, file: `backup-${seq}.kiln` };
    const path = join(this.backupDir, next.file);
    // both writes are atomic and flushed; a model file of that name is a leftover of a crash before its commit
    await this.model.save(path, { overwrite: true });
    await writeFileAtomic(join(this.backupDir, METADATA), JSON.stringify(next), 'BackupAndRestore');
    if (this.saved) await rm(join(this.backupDir, this.saved.file), { force: true });
    this.saved = next;
  }

  private async readMetadata(): Promise<Backup | null> {
    const path = join(this.backupDir, METADATA);
    const text = await readFile(path, 'utf8').catch(ignore(['ENOENT'], null));
    if (text === null) return null;
    let meta: unknown = null;
    try {
      meta = JSON.parse(text);
    } catch {
      // not JSON: reported below like any other malformed record
    }
    if (!isBackup(meta)) fail('BackupAndRestore', `${path} is not a backup record ({"epoch", "seq", "file"}): ${text.slice(0, 200)}`);
    return meta;
  }
}

/** A rejection handler that turns the expected error codes into `value` and rethrows the rest. */
function ignore<T>(codes: string[], value: T): (e: NodeJS.ErrnoException) => T {
  return (e) => {
    if (!codes.includes(e.code ?? '')) throw e;
    return value;
  };
}

function isBackup(x: unknown): x is Backup {
  const b = x as Partial<Backup> | null;
  return b !== null && typeof b === 'object' && Number.isInteger(b.epoch) && b.epoch! >= 0 && Number.isInteger(b.seq)
    && typeof b.file === 'string' && MODEL_FILE.test(b.file);
}
