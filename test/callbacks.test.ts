import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BackupAndRestore, Callback, CallbackList, CSVLogger, EarlyStopping, LambdaCallback, LearningRateScheduler,
  ModelCheckpoint, ReduceLROnPlateau, TerminateOnNaN, type Logs,
} from '../callbacks/index.js';
import { formatFilepath } from '../callbacks/filepath-template.js';
import type { Model } from '../models/model.js';
import * as kiln from '../index.js';
import { Sequential } from '../models/sequential.js';
import { Dense } from '../layers/core/dense.js';
import { Input } from '../layers/core/input.js';

/**
 * The parts of Model that callbacks use, with weights as plain numbers and save/load writing them
 * as JSON, so each callback is checked alone, without training.
 */
class FakeModel {
  name = 'fake';
  built = true;
  stopTraining = false;
  weights: number[] = [0, 0];
  optimizer: { learningRate: unknown } | null = { learningRate: 0.1 };
  saved: { kind: 'model' | 'weights'; path: string }[] = [];

  getWeights(): number[] {
    return [...this.weights];
  }

  setWeights(w: number[]): void {
    this.weights = [...w];
  }

  async save(path: string, options: { overwrite?: boolean } = {}): Promise<void> {
    if (!options.overwrite && existsSync(path)) throw new Error(`${path} exists`);
    this.saved.push({ kind: 'model', path });
    await writeFile(path, JSON.stringify({ weights: this.weights, lr: this.optimizer?.learningRate }));
  }

  async saveWeights(path: string): Promise<void> {
    this.saved.push({ kind: 'weights', path });
    await writeFile(path, JSON.stringify({ weights: this.weights }));
  }

  async loadWeights(path: string): Promise<void> {
    const state = JSON.parse(await readFile(path, 'utf8')) as { weights: number[]; lr: number };
    this.weights = state.weights;
    this.optimizer = { learningRate: state.lr };
  }
}

const asModel = (m: FakeModel) => m as unknown as Model;

interface FitPlan {
  epochs: number;
  /** The logs of each epoch's end. */
  epochLogs?: (epoch: number) => Logs;
  steps?: number;
  batchLogs?: (epoch: number, batch: number) => Logs;
  /** Runs at each epoch's start, before the callbacks (to move the fake weights, say). */
  beforeEpoch?: (epoch: number) => void;
}

/**
 * fit's callback protocol without training: the hooks in fit's order, batch logs only when a
 * callback wants them, a restored `initialEpoch` honoured, and a stop checked after each batch
 * and each epoch. Returns the epochs that ran.
 */
async function fakeFit(model: FakeModel, callbacks: Callback[], plan: FitPlan): Promise<number[]> {
  const list = new CallbackList(callbacks);
  list.setModel(asModel(model));
  list.setParams({ epochs: plan.epochs, steps: plan.steps ?? null, verbose: 0 });
  model.stopTraining = false;
  await list.call('onTrainBegin', {});
  const restored = callbacks.map((c) => (c as { initialEpoch?: number | null }).initialEpoch ?? 0);
  const ran: number[] = [];
  for (let epoch = Math.max(0, ...restored); epoch < plan.epochs && !model.stopTraining; epoch++) {
    plan.beforeEpoch?.(epoch);
    await list.call('onEpochBegin', epoch, {});
    for (let step = 0; step < (plan.steps ?? 0); step++) {
      if (list.wants('onTrainBatchEnd')) await list.call('onTrainBatchEnd', step, plan.batchLogs?.(epoch, step) ?? { loss: 1 });
      if (model.stopTraining) break;
    }
    await list.call('onEpochEnd', epoch, plan.epochLogs?.(epoch) ?? {});
    ran.push(epoch);
  }
  await list.call('onTrainEnd', {});
  return ran;
}

/** Epoch logs from a list of values of one key. */
const series = (key: string, values: number[]) => (epoch: number): Logs => ({ [key]: values[epoch] });

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-callbacks-'));
  vi.spyOn(console, 'log').mockImplementation(() => undefined);
  vi.spyOn(console, 'warn').mockImplementation(() => undefined);
});
afterEach(async () => {
  vi.restoreAllMocks();
  await rm(dir, { recursive: true, force: true });
});

describe('EarlyStopping', () => {
  it('stops once patience epochs pass without improvement', async () => {
    const stop = new EarlyStopping({ monitor: 'loss', patience: 2 });
    const ran = await fakeFit(new FakeModel(), [stop], { epochs: 10, epochLogs: series('loss', [1, 0.9, 0.95, 0.96, 0.5]) });
    expect(ran).toEqual([0, 1, 2, 3]);
    expect(stop.stoppedEpoch).toBe(3);
    expect(stop.best).toBe(0.9);
  });

  it('counts a change smaller than minDelta as no improvement', async () => {
    const losses = [1, 0.95, 0.9, 0.85];
    expect(await fakeFit(new FakeModel(), [new EarlyStopping({ monitor: 'loss', minDelta: -0.1 })], { epochs: 4, epochLogs: series('loss', losses) })).toEqual([0, 1]);
    expect(await fakeFit(new FakeModel(), [new EarlyStopping({ monitor: 'loss', minDelta: 0.01 })], { epochs: 4, epochLogs: series('loss', losses) })).toEqual([0, 1, 2, 3]);
  });

  it('keeps counting patience until the baseline is beaten', async () => {
    const losses = [1, 0.9, 0.95, 0.96, 0.97];
    const withBaseline = new EarlyStopping({ monitor: 'loss', patience: 2, baseline: 0.5 });
    expect(await fakeFit(new FakeModel(), [withBaseline], { epochs: 5, epochLogs: series('loss', losses) })).toEqual([0, 1, 2]);
    const without = new EarlyStopping({ monitor: 'loss', patience: 2 });
    expect(await fakeFit(new FakeModel(), [without], { epochs: 5, epochLogs: series('loss', losses) })).toEqual([0, 1, 2, 3]);
    const beaten = new EarlyStopping({ monitor: 'loss', patience: 2, baseline: 0.5 });
    expect(await fakeFit(new FakeModel(), [beaten], { epochs: 5, epochLogs: series('loss', [0.4, 0.45, 0.46, 0.47, 0.48]) })).toEqual([0, 1, 2]);
  });

  it("infers the direction from the monitor's name in auto mode", async () => {
    expect(new EarlyStopping({ monitor: 'val_accuracy' }).direction).toBe('max');
    expect(new EarlyStopping({ monitor: 'val_auc' }).direction).toBe('max');
    expect(new EarlyStopping({ monitor: 'dense_1_loss' }).direction).toBe('min');
    expect(new EarlyStopping({ monitor: 'val_mean_squared_error' }).direction).toBe('min');
    expect(new EarlyStopping({ monitor: 'val_accuracy', mode: 'min' }).direction).toBe('min');
    expect(() => new EarlyStopping({ monitor: 'custom_score' })).toThrow(/mode: 'max'/);
    expect(new EarlyStopping({ monitor: 'val_loss', mode: 'bogus' as 'max' }).direction).toBe('min');
    expect(console.warn).toHaveBeenCalledWith("EarlyStopping mode 'bogus' is unknown, fallback to auto mode.");
  });

  it('stops when accuracy stops rising', async () => {
    const stop = new EarlyStopping({ monitor: 'val_accuracy', patience: 1 });
    expect(await fakeFit(new FakeModel(), [stop], { epochs: 5, epochLogs: series('val_accuracy', [0.5, 0.6, 0.55, 0.7]) })).toEqual([0, 1, 2]);
  });

  it('restores the best weights when it stops, and when training ends without stopping', async () => {
    const model = new FakeModel();
    const stop = new EarlyStopping({ monitor: 'loss', patience: 2, restoreBestWeights: true, verbose: 1 });
    const moveWeights = (epoch: number) => model.setWeights([epoch, -epoch]);
    expect(await fakeFit(model, [stop], { epochs: 10, epochLogs: series('loss', [1, 0.5, 0.7, 0.8]), beforeEpoch: moveWeights })).toEqual([0, 1, 2, 3]);
    expect(model.weights).toEqual([1, -1]);
    expect(console.log).toHaveBeenCalledWith('Epoch 4: early stopping');
    expect(console.log).toHaveBeenCalledWith('Restoring model weights from the end of the best epoch: 2.');

    const quiet = new EarlyStopping({ monitor: 'loss', patience: 5, restoreBestWeights: true });
    await fakeFit(model, [quiet], { epochs: 3, epochLogs: series('loss', [1, 0.5, 0.7]), beforeEpoch: moveWeights });
    expect(quiet.stoppedEpoch).toBe(0);
    expect(model.weights).toEqual([1, -1]);
  });

  it('waits startFromEpoch epochs before monitoring', async () => {
    const stop = new EarlyStopping({ monitor: 'loss', startFromEpoch: 2 });
    expect(await fakeFit(new FakeModel(), [stop], { epochs: 6, epochLogs: series('loss', [1, 2, 3, 4, 5, 6]) })).toEqual([0, 1, 2, 3]);
  });

  it('can be reused: a second fit starts from a fresh best', async () => {
    const stop = new EarlyStopping({ monitor: 'loss', patience: 1 });
    await fakeFit(new FakeModel(), [stop], { epochs: 3, epochLogs: series('loss', [0.1, 0.1, 0.1]) });
    expect(await fakeFit(new FakeModel(), [stop], { epochs: 3, epochLogs: series('loss', [5, 4, 3]) })).toEqual([0, 1, 2]);
  });

  it('warns once, listing the available keys, when the monitored key is missing', async () => {
    const stop = new EarlyStopping();
    expect(await fakeFit(new FakeModel(), [stop], { epochs: 3, epochLogs: () => ({ loss: 1, accuracy: 0.5 }) })).toEqual([0, 1, 2]);
    expect(console.warn).toHaveBeenCalledTimes(1);
    expect(vi.mocked(console.warn).mock.calls[0][0]).toMatch(/`val_loss` which is not available\. Available metrics are: loss,accuracy/);
  });
});

describe('ModelCheckpoint', () => {
  it('fills file names the way Python str.format does', () => {
    const f = (t: string, v: Record<string, number>) => formatFilepath('test', t, v);
    expect(f('ckpt-{epoch:02d}-{val_loss:.4f}.kiln', { epoch: 3, val_loss: 0.123456 })).toBe('ckpt-03-0.1235.kiln');
    expect(f('{epoch}-{loss}', { epoch: 12, loss: 0.5 })).toBe('12-0.5');
    expect(f('{epoch:3d}|{epoch:03d}|{x:03d}|{y:8.3f}|{y:f}', { epoch: 7, x: -5, y: 2.5 })).toBe('  7|007|-05|   2.500|2.500000');
    expect(f('{loss:.2f} {{epoch}}', { loss: NaN })).toBe('nan {epoch}');
    expect(f('{epoch:02d}', { epoch: 123 })).toBe('123');
    expect(() => f('{val_acc}', { epoch: 1, loss: 1 })).toThrow(/'\{val_acc\}'.*available keys are epoch, loss/);
    expect(() => f('{loss:02d}', { loss: 0.5 })).toThrow(/needs an integer/);
    expect(() => f('{loss:.2e}', { loss: 0.5 })).toThrow(/unsupported format spec/);
  });

  it('saves every epoch to a 1-based templated path, creating its directory', async () => {
    const model = new FakeModel();
    const ckpt = new ModelCheckpoint(join(dir, 'sub', '{epoch:02d}-{loss:.2f}.kiln'));
    await fakeFit(model, [ckpt], { epochs: 2, epochLogs: series('loss', [1, 0.5]) });
    expect(model.saved).toEqual([
      { kind: 'model', path: join(dir, 'sub', '01-1.00.kiln') },
      { kind: 'model', path: join(dir, 'sub', '02-0.50.kiln') },
    ]);
    expect((await readdir(join(dir, 'sub'))).sort()).toEqual(['01-1.00.kiln', '02-0.50.kiln']);
  });

  it('with saveBestOnly saves only improvements, from initialValueThreshold when given', async () => {
    const losses = series('val_loss', [1, 0.5, 0.7, 0.4]);
    const model = new FakeModel();
    await fakeFit(model, [new ModelCheckpoint(join(dir, '{epoch}.kiln'), { saveBestOnly: true, saveWeightsOnly: true })], { epochs: 4, epochLogs: losses });
    expect(model.saved.map((s) => [s.kind, s.path])).toEqual([1, 2, 4].map((e) => ['weights', join(dir, `${e}.kiln`)]));

    const thresholded = new FakeModel();
    await fakeFit(thresholded, [new ModelCheckpoint(join(dir, '{epoch}.kiln'), { saveBestOnly: true, initialValueThreshold: 0.6 })], { epochs: 4, epochLogs: losses });
    expect(thresholded.saved.map((s) => s.path)).toEqual([join(dir, '2.kiln'), join(dir, '4.kiln')]);

    const accuracy = new FakeModel();
    const ckpt = new ModelCheckpoint(join(dir, 'best.kiln'), { monitor: 'val_accuracy', saveBestOnly: true, verbose: 1 });
    await fakeFit(accuracy, [ckpt], { epochs: 3, epochLogs: series('val_accuracy', [0.5, 0.4, 0.9]) });
    expect(accuracy.saved).toHaveLength(2);
    expect(ckpt.best).toBe(0.9);
    expect(console.log).toHaveBeenCalledWith(`\nEpoch 1: val_accuracy improved from -inf to 0.50000, saving model to ${join(dir, 'best.kiln')}`);
    expect(console.log).toHaveBeenCalledWith('\nEpoch 2: val_accuracy did not improve from 0.50000');
  });

  it('saves anyway, with a warning, when the monitored key is missing', async () => {
    const model = new FakeModel();
    await fakeFit(model, [new ModelCheckpoint(join(dir, 'm.kiln'), { saveBestOnly: true })], { epochs: 1, epochLogs: () => ({ loss: 1 }) });
    expect(model.saved).toHaveLength(1);
    expect(console.warn).toHaveBeenCalledWith(expect.stringMatching(/only with val_loss available/));
  });

  it('reads batch logs only when saving every N batches', async () => {
    expect(new CallbackList([new ModelCheckpoint('m.kiln')]).wants('onTrainBatchEnd')).toBe(false);
    const model = new FakeModel();
    const ckpt = new ModelCheckpoint(join(dir, 'e{epoch}-b{batch}.kiln'), { saveFreq: 2 });
    expect(new CallbackList([ckpt]).wants('onTrainBatchEnd')).toBe(true);
    await fakeFit(model, [ckpt], { epochs: 2, steps: 3 });
    // the count of batches runs on across the epoch boundary, as in Keras
    expect(model.saved.map((s) => s.path)).toEqual(['e1-b2.kiln', 'e2-b1.kiln', 'e2-b3.kiln'].map((p) => join(dir, p)));
    expect(() => new ModelCheckpoint('m.kiln', { saveFreq: 0 })).toThrow(/saveFreq/);
  });
});

describe('ReduceLROnPlateau', () => {
  it('multiplies the rate by factor after patience flat epochs, down to minLr, and logs the rate used', async () => {
    const model = new FakeModel();
    const seen: number[] = [];
    const record = new LambdaCallback({ onEpochEnd: (_e, logs) => void seen.push(logs!.learning_rate) });
    const reduce = new ReduceLROnPlateau({ monitor: 'loss', factor: 0.5, patience: 1, minLr: 0.03, verbose: 1 });
    await fakeFit(model, [reduce, record], { epochs: 5, epochLogs: () => ({ loss: 1 }) });
    expect(seen).toEqual([0.1, 0.1, 0.05, 0.03, 0.03]);
    expect(model.optimizer!.learningRate).toBe(0.03);
    expect(console.log).toHaveBeenCalledWith('\nEpoch 2: ReduceLROnPlateau reducing learning rate to 0.05.');
  });

  it('waits cooldown epochs after a reduction and resets on improvement', async () => {
    const model = new FakeModel();
    const lrs: number[] = [];
    const record = new LambdaCallback({ onEpochEnd: () => void lrs.push(model.optimizer!.learningRate as number) });
    await fakeFit(model, [new ReduceLROnPlateau({ monitor: 'loss', factor: 0.5, patience: 1, cooldown: 2 }), record], { epochs: 5, epochLogs: () => ({ loss: 1 }) });
    expect(lrs).toEqual([0.1, 0.05, 0.05, 0.025, 0.025]);

    const improving = new FakeModel();
    await fakeFit(improving, [new ReduceLROnPlateau({ monitor: 'loss', patience: 1 })], { epochs: 4, epochLogs: series('loss', [4, 3, 2, 1]) });
    expect(improving.optimizer!.learningRate).toBe(0.1);
  });

  it('treats a change under minDelta as a plateau', async () => {
    const model = new FakeModel();
    await fakeFit(model, [new ReduceLROnPlateau({ monitor: 'loss', patience: 1, minDelta: 0.1 })], { epochs: 2, epochLogs: series('loss', [1, 0.95]) });
    expect(model.optimizer!.learningRate).toBeCloseTo(0.01, 15);
  });

  it('refuses a factor of 1 or more and a schedule it cannot set', async () => {
    expect(() => new ReduceLROnPlateau({ factor: 1 })).toThrow(/factor >= 1.0/);
    const model = new FakeModel();
    model.optimizer = { learningRate: { call: () => 0.1 } };
    await expect(fakeFit(model, [new ReduceLROnPlateau()], { epochs: 1, epochLogs: () => ({ val_loss: 1 }) })).rejects.toThrow(/schedule/);
  });
});

describe('LearningRateScheduler', () => {
  it('sets the rate from schedule(epoch, lr) at each epoch start and logs it', async () => {
    const model = new FakeModel();
    const logs: Logs[] = [];
    const sched = new LearningRateScheduler((epoch, lr) => (epoch < 2 ? lr : lr / 2), { verbose: 1 });
    await fakeFit(model, [sched], { epochs: 4, epochLogs: () => (logs.push({ loss: 1 }), logs[logs.length - 1]) });
    expect(logs.map((l) => l.learning_rate)).toEqual([0.1, 0.1, 0.05, 0.025]);
    expect(console.log).toHaveBeenCalledWith('\nEpoch 3: LearningRateScheduler setting learning rate to 0.05.');
  });

  it('refuses a schedule that returns no number', async () => {
    const bad = new LearningRateScheduler((() => undefined) as unknown as (e: number, lr: number) => number);
    await expect(fakeFit(new FakeModel(), [bad], { epochs: 1 })).rejects.toThrow(/finite number, got undefined at epoch 0/);
  });
});

describe('CSVLogger', () => {
  it("writes 'epoch' then the sorted keys, NA for keys a later epoch lacks", async () => {
    const file = join(dir, 'log.csv');
    const logs: Logs[] = [{ val_loss: 2, loss: 1, accuracy: 0.5 }, { loss: 0.5, accuracy: 0.75 }];
    await fakeFit(new FakeModel(), [new CSVLogger(file)], { epochs: 2, epochLogs: (e) => logs[e] });
    expect(await readFile(file, 'utf8')).toBe('epoch,accuracy,loss,val_loss\n0,0.5,1,2\n1,0.75,0.5,NA\n');

    await fakeFit(new FakeModel(), [new CSVLogger(file, { append: true })], { epochs: 1, epochLogs: () => logs[0] });
    expect(await readFile(file, 'utf8')).toBe('epoch,accuracy,loss,val_loss\n0,0.5,1,2\n1,0.75,0.5,NA\n0,0.5,1,2\n');

    await fakeFit(new FakeModel(), [new CSVLogger(file)], { epochs: 1, epochLogs: () => ({ loss: 3 }) });
    expect(await readFile(file, 'utf8')).toBe('epoch,loss\n0,3\n');
  });

  it('uses the separator, quotes fields that hold it, and writes a header when appending to a new file', async () => {
    const file = join(dir, 'new.csv');
    await fakeFit(new FakeModel(), [new CSVLogger(file, { separator: ';', append: true })], { epochs: 1, epochLogs: () => ({ 'a;b': 1, loss: 2 }) });
    expect(await readFile(file, 'utf8')).toBe('epoch;"a;b";loss\n0;1;2\n');
  });
});

describe('TerminateOnNaN', () => {
  it('stops at the first NaN or infinite batch loss and records where', async () => {
    const model = new FakeModel();
    const nan = new TerminateOnNaN();
    const ran = await fakeFit(model, [nan], { epochs: 5, steps: 4, batchLogs: (e, b) => ({ loss: e === 1 && b === 2 ? NaN : 1 }) });
    expect(ran).toEqual([0, 1]);
    expect([nan.stoppedAtEpoch, nan.stoppedAtBatch, nan.message]).toEqual([1, 2, 'Batch 2: Invalid loss, terminating training']);
    expect(console.log).toHaveBeenCalledWith('Batch 2: Invalid loss, terminating training');

    const inf = new TerminateOnNaN();
    expect(await fakeFit(model, [inf], { epochs: 2, steps: 2, batchLogs: () => ({ loss: -Infinity }) })).toEqual([0]);
    expect(inf.stoppedAtBatch).toBe(0);
  });

  it('with raiseError throws instead, naming the batch', async () => {
    const ran = fakeFit(new FakeModel(), [new TerminateOnNaN({ raiseError: true })], { epochs: 2, steps: 3, batchLogs: (_e, b) => ({ loss: b === 1 ? Infinity : 1 }) });
    await expect(ran).rejects.toThrow(/NaN or Inf loss encountered at batch 1\. Loss value: Infinity.*\(epoch 1\)/);
  });
});

describe('LambdaCallback', () => {
  it('overrides only the hooks given, so fit reads batch logs only when asked', async () => {
    const calls: string[] = [];
    const cb = new LambdaCallback({
      onTrainBegin: () => void calls.push('begin'),
      onEpochEnd: (epoch, logs) => void calls.push(`epoch ${epoch} loss ${logs?.loss}`),
      onTrainEnd: async () => void calls.push('end'),
    });
    const list = new CallbackList([cb]);
    expect(['onTrainBegin', 'onEpochEnd', 'onTrainEnd'].map((h) => list.wants(h as 'onTrainEnd'))).toEqual([true, true, true]);
    expect(['onTrainBatchEnd', 'onTestBatchEnd', 'onEpochBegin'].map((h) => list.wants(h as 'onTrainEnd'))).toEqual([false, false, false]);
    await fakeFit(new FakeModel(), [cb], { epochs: 2, steps: 2, epochLogs: (e) => ({ loss: e }) });
    expect(calls).toEqual(['begin', 'epoch 0 loss 0', 'epoch 1 loss 1', 'end']);
    expect(new CallbackList([new LambdaCallback({ onTrainBatchEnd: () => undefined })]).wants('onTrainBatchEnd')).toBe(true);
  });

  it('refuses unknown hooks and non-functions', () => {
    expect(() => new LambdaCallback({ on_epoch_end: () => undefined } as never)).toThrow(/unknown hook 'on_epoch_end'/);
    expect(() => new LambdaCallback({ onEpochEnd: 3 } as never)).toThrow(/onEpochEnd must be a function/);
  });
});

describe('BackupAndRestore', () => {
  const interruptAt = (epoch: number) => new LambdaCallback({
    onEpochBegin: (e) => {
      if (e === epoch) throw new Error('interrupted');
    },
  });

  it('resumes an interrupted fit from the next epoch with the backed-up state, then deletes the backup', async () => {
    const backupDir = join(dir, 'backup');
    const first = new FakeModel();
    const moveWeights = (m: FakeModel) => (epoch: number) => m.setWeights([epoch, epoch]);
    await expect(fakeFit(first, [new BackupAndRestore(backupDir), interruptAt(3)], { epochs: 6, beforeEpoch: moveWeights(first) })).rejects.toThrow('interrupted');
    // one model file at a time, and no temporary file left behind
    expect((await readdir(backupDir)).sort()).toEqual(['backup-3.kiln', 'training_metadata.json']);
    expect(JSON.parse(await readFile(join(backupDir, 'training_metadata.json'), 'utf8'))).toEqual({ epoch: 3, seq: 3, file: 'backup-3.kiln' });

    const second = new FakeModel();
    const restore = new BackupAndRestore(backupDir);
    const seen: number[][] = [];
    const peek = new LambdaCallback({ onTrainBegin: () => void seen.push(second.getWeights()) });
    expect(await fakeFit(second, [restore, peek], { epochs: 6, beforeEpoch: moveWeights(second) })).toEqual([3, 4, 5]);
    expect(restore.initialEpoch).toBe(3);
    expect(seen).toEqual([[2, 2]]);
    expect(existsSync(backupDir)).toBe(false);
  });

  it('keeps the backup with deleteCheckpoint false, and starts afresh when there is none', async () => {
    const backupDir = join(dir, 'kept');
    const keep = new BackupAndRestore(backupDir, { deleteCheckpoint: false });
    expect(await fakeFit(new FakeModel(), [keep], { epochs: 2 })).toEqual([0, 1]);
    expect(keep.initialEpoch).toBeNull();
    expect(JSON.parse(await readFile(join(backupDir, 'training_metadata.json'), 'utf8')).epoch).toBe(2);
    // a finished run's backup resumes past the last epoch: nothing is left to run
    expect(await fakeFit(new FakeModel(), [new BackupAndRestore(backupDir)], { epochs: 2 })).toEqual([]);
    expect(existsSync(backupDir)).toBe(false);
    // a run that saved nothing has nothing to delete
    await fakeFit(new FakeModel(), [new BackupAndRestore(backupDir)], { epochs: 0 });
    // a directory holding files of others is emptied of the backup only
    await fakeFit(new FakeModel(), [new LambdaCallback({ onTrainEnd: () => writeFile(join(backupDir, 'notes.txt'), '') }), new BackupAndRestore(backupDir)], { epochs: 1 });
    expect(await readdir(backupDir)).toEqual(['notes.txt']);
  });

  it('backs up every N batches, recording the unfinished epoch to redo', async () => {
    const backupDir = join(dir, 'batches');
    const cb = new BackupAndRestore(backupDir, { saveFreq: 3 });
    await expect(fakeFit(new FakeModel(), [cb, interruptAt(2)], { epochs: 3, steps: 4 })).rejects.toThrow('interrupted');
    // saved after batches 3 and 6 of 8: the second save was in the middle of epoch 1
    expect(JSON.parse(await readFile(join(backupDir, 'training_metadata.json'), 'utf8'))).toEqual({ epoch: 1, seq: 2, file: 'backup-2.kiln' });
    expect(new CallbackList([new BackupAndRestore(backupDir)]).wants('onTrainBatchEnd')).toBe(false);
  });

  it('refuses a malformed record and an unbuilt model', async () => {
    const backupDir = join(dir, 'bad');
    await fakeFit(new FakeModel(), [new BackupAndRestore(backupDir, { deleteCheckpoint: false })], { epochs: 1 });
    const unbuilt = new FakeModel();
    unbuilt.built = false;
    await expect(fakeFit(unbuilt, [new BackupAndRestore(backupDir)], { epochs: 1 })).rejects.toThrow(/must be built before fit/);
    await writeFile(join(backupDir, 'training_metadata.json'), '{"epoch": "two"');
    await expect(fakeFit(new FakeModel(), [new BackupAndRestore(backupDir)], { epochs: 1 })).rejects.toThrow(/is not a backup record/);
    expect(() => new BackupAndRestore('')).toThrow(/backup directory/);
  });
});

describe('callbacks inside a real fit', () => {
  /** y = 2x + 1 on four points, a one-unit Dense model, and `steps` copies of the batch per epoch. */
  function setup(learningRate = 0.05, steps = 1, scale = 1) {
    kiln.setSeed(7);
    const model = new Sequential([Input({ shape: [1] }), new Dense(1)]);
    model.compile({ optimizer: new kiln.optimizers.SGD({ learningRate }), loss: 'mse' });
    const x = kiln.tensor([[0], [1], [2], [3]].map(([v]) => [v * scale]));
    const y = kiln.tensor([[1], [3], [5], [7]].map(([v]) => [v * scale]));
    // batches from an async iterable: fit's array path is not used here, so these tests check callbacks alone
    const data = {
      async *[Symbol.asyncIterator]() {
        for (let i = 0; i < steps; i++) yield [x, y] as [kiln.Tensor, kiln.Tensor];
      },
    };
    return { model, data, dispose: () => kiln.dispose([x, y]) };
  }
  const values = (ts: kiln.Tensor[]) => Promise.all(ts.map(async (t) => Array.from(await t.data())));

  it('EarlyStopping stops fit and restores the best weights; ReduceLROnPlateau and CSVLogger log each epoch', async () => {
    const { model, data, dispose } = setup();
    let afterFirst: number[][] = [];
    const snapshot = new LambdaCallback({
      onEpochEnd: async (epoch) => {
        if (epoch === 0) afterFirst = await values(model.getWeights());
      },
    });
    // 'max' on a falling loss: epoch 0 stays the best, so training stops at epoch 1 and goes back to it
    const stop = new EarlyStopping({ monitor: 'loss', mode: 'max', restoreBestWeights: true });
    const file = join(dir, 'log.csv');
    const history = await model.fit(data, undefined, {
      epochs: 10, verbose: 0,
      callbacks: [new ReduceLROnPlateau({ monitor: 'loss', patience: 1 }), snapshot, stop, new CSVLogger(file)],
    });
    expect(history.epoch).toEqual([0, 1]);
    expect(history.history.loss[1]).toBeLessThan(history.history.loss[0]);
    expect(history.history.learning_rate).toEqual([0.05, 0.05]);
    expect(stop.stoppedEpoch).toBe(1);
    expect(await values(model.getWeights())).toEqual(afterFirst);
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    expect(lines[0]).toBe('epoch,learning_rate,loss');
    expect(lines.slice(1).map((l) => Number(l.split(',')[2]))).toEqual(history.history.loss);
    dispose();
  });

  it('TerminateOnNaN ends fit at the first batch whose loss overflows', async () => {
    const { model, data, dispose } = setup(1e6, 5, 1e12);
    const nan = new TerminateOnNaN();
    const history = await model.fit(data, undefined, { epochs: 3, verbose: 0, callbacks: [nan] });
    expect(history.epoch).toEqual([0]);
    expect(nan.stoppedAtEpoch).toBe(0);
    expect(nan.stoppedAtBatch).not.toBeNull();
    expect(nan.message).toBe(`Batch ${nan.stoppedAtBatch}: Invalid loss, terminating training`);
    dispose();
  });

  it('ModelCheckpoint writes real model files and LearningRateScheduler drives the optimizer', async () => {
    const { model, data, dispose } = setup();
    const ckpt = new ModelCheckpoint(join(dir, 'ckpt', '{epoch:02d}-{loss:.3f}.kiln'));
    const sched = new LearningRateScheduler((epoch) => 0.05 / (epoch + 1));
    const history = await model.fit(data, undefined, { epochs: 2, verbose: 0, callbacks: [sched, ckpt] });
    expect(history.history.learning_rate).toEqual([0.05, 0.025]);
    expect(model.optimizer!.learningRate).toBe(0.025);
    const names = history.history.loss.map((l, e) => `${String(e + 1).padStart(2, '0')}-${l.toFixed(3)}.kiln`);
    expect((await readdir(join(dir, 'ckpt'))).sort()).toEqual(names);
    dispose();
  });

  it('BackupAndRestore backs up a real model and restores its weights and the epoch to resume from', async () => {
    const backupDir = join(dir, 'backup');
    const { model, data, dispose } = setup();
    let saved: number[][] = [];
    const interrupt = new LambdaCallback({
      onEpochEnd: async (epoch) => {
        if (epoch === 1) saved = await values(model.getWeights());
      },
      onEpochBegin: (epoch) => {
        if (epoch === 2) throw new Error('interrupted');
      },
    });
    await expect(model.fit(data, undefined, { epochs: 4, verbose: 0, callbacks: [new BackupAndRestore(backupDir), interrupt] })).rejects.toThrow('interrupted');
    model.setWeights(model.getWeights().map((w) => kiln.zerosLike(w)));

    const restore = new BackupAndRestore(backupDir);
    let restored: number[][] = [];
    const peek = new LambdaCallback({ onTrainBegin: async () => void (restored = await values(model.getWeights())) });
    await model.fit(data, undefined, { epochs: 4, verbose: 0, callbacks: [restore, peek] });
    expect(restore.initialEpoch).toBe(2);
    expect(restored).toEqual(saved);
    expect(existsSync(backupDir)).toBe(false);
    dispose();
  });
});
