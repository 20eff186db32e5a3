import { join } from 'node:path';
import { fail } from '../../src/errors.js';
import { Callback, type Logs } from '../../models/callback.js';
import { EventFileWriter, ensureDirectory } from './event-file.js';
import { layerGraph } from './graph.js';
import { histogram } from './histogram.js';
import { encodeGraphDef, type Event } from './proto.js';

export interface TensorBoardOptions {
  /** Where the event files go, as `<logDir>/train` and `<logDir>/validation` (default 'logs'). */
  logDir?: string;
  /** Write histograms of the weights every this many epochs; 0 (the default) never does. */
  histogramFreq?: number;
  /** Write the model's layer graph for the Graphs tab (default true). */
  writeGraph?: boolean;
  /**
   * 'epoch' (the default) writes `epoch_<name>` scalars at each epoch's end; 'batch' or a number N
   * also writes `batch_<name>` every N training batches, counted across epochs.
   */
  updateFreq?: 'epoch' | 'batch' | number;
}

type Step = Omit<Event, 'wallTime'>;

const OPTIONS = ['logDir', 'histogramFreq', 'writeGraph', 'updateFreq'];

const scalar = (tag: string, value: number, step: number): Step => ({ step, summary: { value: [{ tag, simpleValue: value }] } });

/**
 * Writes TensorBoard event files (Keras's TensorBoard callback): the training logs as
 * `epoch_<name>` scalars in `<logDir>/train` (with `epoch_learning_rate`) and the `val_` logs in
 * `<logDir>/validation` under the same tags, `evaluation_<name>_vs_iterations` after each
 * evaluation, weight histograms tagged `<layer>/<weight>/histogram`, and the layer graph.
 * @example
 * const tb = new kiln.callbacks.TensorBoard({ logDir: 'logs/run1', histogramFreq: 1 });
 * await model.fit(x, y, { epochs: 10, validationSplit: 0.2, callbacks: [tb] });
 * // then: tensorboard --logdir logs
 */
export class TensorBoard extends Callback {
  readonly logDir: string;
  readonly histogramFreq: number;
  readonly writeGraph: boolean;
  /** 'epoch', or every how many training batches `batch_<name>` scalars are written. */
  readonly updateFreq: 'epoch' | number;
  private trainWriter: EventFileWriter;
  private valWriter: EventFileWriter;
  /** Training batches since the fit began, across epochs: the step of `batch_<name>`. */
  private trainBatches = 0;

  constructor(options: TensorBoardOptions = {}) {
    super();
    const op = 'TensorBoard';
    // an option kiln has no counterpart for (Keras's writeImages, profileBatch, embeddingsFreq) is
    // refused by name, so a ported call learns it at once instead of losing it silently
    const unknown = Object.keys(options).filter((k) => !OPTIONS.includes(k));
    if (unknown.length) fail(op, `unknown option(s) ${unknown.join(', ')}; options are ${OPTIONS.join(', ')}`);
    const { logDir = 'logs', histogramFreq = 0, writeGraph = true, updateFreq = 'epoch' } = options;
    if (typeof logDir !== 'string' || logDir === '') fail(op, `logDir must be a non-empty path, got ${show(logDir)}`);
    if (!Number.isInteger(histogramFreq) || histogramFreq < 0) fail(op, `histogramFreq must be a non-negative integer, got ${show(histogramFreq)}`);
    if (typeof writeGraph !== 'boolean') fail(op, `writeGraph must be true or false, got ${show(writeGraph)}`);
    if (updateFreq !== 'epoch' && updateFreq !== 'batch' && !(Number.isInteger(updateFreq) && (updateFreq as number) > 0)) {
      fail(op, `updateFreq must be 'epoch', 'batch' or a positive integer, got ${show(updateFreq)}`);
    }
    this.logDir = logDir;
    this.histogramFreq = histogramFreq;
    this.writeGraph = writeGraph;
    this.updateFreq = updateFreq === 'batch' ? 1 : updateFreq;
    [this.trainWriter, this.valWriter] = this.newWriters();
    // fit reads every batch's logs back from the backend for a callback that has this hook
    // (CallbackList.wants), so only a batch-level TensorBoard gets one
    if (this.updateFreq !== 'epoch') this.onTrainBatchEnd = (_batch, logs) => this.writeBatch(logs);
  }

  /** Each fit starts new files, as Keras's writers are made anew for each training run. */
  override async onTrainBegin(): Promise<void> {
    await ensureDirectory(this.logDir);
    [this.trainWriter, this.valWriter] = this.newWriters();
    this.trainBatches = 0;
    if (this.writeGraph) await this.trainWriter.write([{ step: 0, graphDef: encodeGraphDef(layerGraph(this.model)) }]);
  }

  override async onEpochEnd(epoch: number, logs: Logs = {}): Promise<void> {
    const train: Step[] = [];
    const val: Step[] = [];
    for (const [name, value] of Object.entries(logs)) {
      if (name.startsWith('val_')) val.push(scalar(`epoch_${name.slice(4)}`, value, epoch));
      else train.push(scalar(`epoch_${name}`, value, epoch));
    }
    const optimizer = this.model.optimizer;
    if (optimizer) train.push(scalar('epoch_learning_rate', optimizer.learningRate, epoch));
    if (this.histogramFreq && epoch % this.histogramFreq === 0) train.push(...(await this.weightHistograms(epoch)));
    await this.trainWriter.write(train);
    await this.valWriter.write(val);
  }

  override async onTestEnd(logs: Logs = {}): Promise<void> {
    const optimizer = this.model.optimizer;
    if (!optimizer) return;
    await this.valWriter.write(Object.entries(logs).map(([name, value]) => scalar(`evaluation_${name}_vs_iterations`, value, optimizer.iterations)));
  }

  private async writeBatch(logs: Logs = {}): Promise<void> {
    this.trainBatches++;
    if (this.trainBatches % (this.updateFreq as number) !== 0) return;
    await this.trainWriter.write(Object.entries(logs).map(([name, value]) => scalar(`batch_${name}`, value, this.trainBatches)));
  }

  private async weightHistograms(epoch: number): Promise<Step[]> {
    const steps: Step[] = [];
    for (const layer of this.model.layers) {
      for (const weight of layer.weights) {
        // Keras tags by the weight's path, with ':' (not allowed in TensorFlow names) made '_'
        const tag = `${weight.name.replaceAll(':', '_')}/histogram`;
        steps.push({ step: epoch, summary: { value: [{ tag, histo: histogram(await weight.value.data()) }] } });
      }
    }
    return steps;
  }

  private newWriters(): [EventFileWriter, EventFileWriter] {
    return [new EventFileWriter(join(this.logDir, 'train')), new EventFileWriter(join(this.logDir, 'validation'))];
  }
}

function show(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : String(v);
}
