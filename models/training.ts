import { ENGINE } from '../src/engine.js';
import { fail, KilnError } from '../src/errors.js';
import type { Tensor } from '../src/tensor.js';
import { GradientTape } from '../src/autodiff/tape.js';
import { concatenate } from '../src/ops/movement.js';
import { compiledOf, computeLoss, resetMetrics, updateMetrics, type Compiled } from './compile.js';
import { maskOf } from '../layers/mask.js';
import type { Variable } from '../src/variable.js';
import { Callback, CallbackList, type Logs } from './callback.js';
import { History } from './history.js';
import { ProgbarLogger } from './progbar.js';
import { JsonLogger } from './json-logger.js';
import { disposeMade, numSamples, splitTail, toList, type InputsLike, type TargetsLike } from './data.js';
import { arraySource, checkEnds, datasetArguments, isAsyncIterable, iterableSource, predictBatches, type BatchSource } from './batches.js';
import { sampleWeightsFromClassWeight } from './class-weight.js';
import type { Model } from './model.js';
import { EventLoopTurns } from './event-loop.js';
import { jitCall } from './jit.js';

/** [inputs, targets, sampleWeight] of one batch. */
export type StepData = [Tensor[], Tensor[], Tensor | null];

function outputsOf(yPred: Tensor | Tensor[]): Tensor[] {
  return Array.isArray(yPred) ? yPred : [yPred];
}

export function trainStep(model: Model, [x, y, sw]: StepData): Record<string, Tensor> {
  const c = compiledOf(model, 'trainStep');
  const vars = (c.trainable ??= model.trainableWeights);
  const { loss, perOutput, yPred, grads } = c.args.jitCompile ? jitGradients(model, c, vars, x, y, sw) : gradients(model, c, vars, x, y, sw);
  c.optimizer.applyGradients(vars.map((v, i) => [grads[i], v] as const));
  for (const [v, constraint] of (c.constrained ??= model.constrainedWeights())) v.assign(ENGINE.tidy(() => constraint(v.value)));
  return updateMetrics(model, c, y, yPred, sw, loss, perOutput);
}

interface StepGradients {
  loss: Tensor;
  perOutput: (Tensor | null)[];
  yPred: Tensor[];
  grads: (Tensor | null)[];
}

/** The forward pass, the loss and the gradients of the trainable weights: a step less its updates. */
function gradients(model: Model, c: Compiled, vars: Variable[], x: Tensor[], y: Tensor[], sw: Tensor | null): StepGradients {
  const tape = new GradientTape();
  let yPred: Tensor[] = [];
  let perOutput: (Tensor | null)[] = [];
  const loss = tape.record(() => {
    yPred = outputsOf(model.apply(model.multiInput ? x : x[0], { training: true }) as Tensor | Tensor[]);
    const l = computeLoss(model, c, y, yPred, sw);
    perOutput = l.perOutput;
    return l.total;
  });
  return { loss, perOutput, yPred, grads: tape.gradient(loss, vars) };
}

/**
 * `gradients` replayed from a plan (models/jit.ts): the batch and the trainable weights' current
 * buffers in, the loss, the per-output losses, the predictions and the gradients out. The
 * optimizer's update and the metrics run eagerly after it (their per-step numbers, such as Adam's
 * bias correction, are computed on the host).
 */
function jitGradients(model: Model, c: Compiled, vars: Variable[], x: Tensor[], y: Tensor[], sw: Tensor | null): StepGradients {
  const targets = y.map((t) => t !== undefined);
  const inputs = [...x, ...y.filter((t) => t !== undefined), ...(sw ? [sw] : [])];
  const eager = (ins: Tensor[]) => {
    const ys: Tensor[] = [];
    let k = x.length;
    for (const has of targets) ys.push(has ? ins[k++] : (undefined as unknown as Tensor));
    // tidy inside the trace: what the step frees there, the plan keeps and reuses; the
    // predictions' masks stay alive for the metrics, as in the eager step
    const { r, masks } = ENGINE.tidy(() => {
      const g = gradients(model, c, vars, ins.slice(0, x.length), ys, sw ? ins[k] : null);
      return { r: g, masks: g.yPred.map((t) => maskOf(t)) };
    });
    const present = <T>(ts: (T | null)[]) => ts.filter((t): t is T => t !== null);
    return {
      outs: [r.loss, ...present(r.perOutput), ...r.yPred, ...present(r.grads)],
      meta: { perOutput: r.perOutput.map((t) => t !== null), predictions: r.yPred.length, grads: r.grads.map((t) => t !== null) },
      refuse: masks.some((m) => m !== null) ? 'an output carries a mask, which a replay would not attach' : undefined,
    };
  };
  const { outs, meta } = jitCall(model, `train ${targets.map(Number).join('')}${sw ? ' weighted' : ''}`, inputs, eager, vars);
  let k = 1;
  const take = (present: boolean[]) => present.map((p) => (p ? outs[k++] : null));
  const perOutput = take(meta.perOutput);
  const yPred = outs.slice(k, (k += meta.predictions));
  return { loss: outs[0], perOutput, yPred, grads: take(meta.grads) };
}

export function testStep(model: Model, [x, y, sw]: StepData): Record<string, Tensor> {
  const c = compiledOf(model, 'testStep');
  const yPred = outputsOf(model.apply(model.multiInput ? x : x[0], { training: false }) as Tensor | Tensor[]);
  const { total, perOutput } = computeLoss(model, c, y, yPred, sw);
  return updateMetrics(model, c, y, yPred, sw, total, perOutput);
}

async function readLogs(logs: Record<string, Tensor>): Promise<Logs> {
  const out: Logs = {};
  // a read can throw an index check's error (docs/indices.md): the logs are freed all the same
  try {
    for (const [k, t] of Object.entries(logs)) out[k] = t.size === 1 ? (await t.data())[0] : NaN;
  } finally {
    disposeLogs(logs);
  }
  return out;
}

function disposeLogs(logs: Record<string, Tensor>): void {
  for (const t of Object.values(logs)) t.dispose();
}

export interface FitOptions {
  epochs?: number;
  batchSize?: number;
  shuffle?: boolean;
  validationSplit?: number;
  /** Arrays `[x, y]` or `[x, y, sampleWeight]`, or an async iterable of such batches (a kiln.data.Dataset). */
  validationData?: [InputsLike, TargetsLike] | [InputsLike, TargetsLike, Tensor] | AsyncIterable<unknown>;
  /** With an iterable validationData: the batches each validation runs (all of a pass by default). */
  validationSteps?: number;
  validationFreq?: number;
  callbacks?: Callback[];
  /**
   * 0 silent, 1 progress bar (one line per epoch when stdout is not a TTY), 2 one line per epoch,
   * 'json' one JSON line per epoch on stdout (JsonLogger's format, without batch lines).
   */
  verbose?: 0 | 1 | 2 | 'json';
  initialEpoch?: number;
  stepsPerEpoch?: number;
  classWeight?: Record<number, number>;
  sampleWeight?: Tensor;
}

export interface EvaluateOptions {
  batchSize?: number;
  verbose?: 0 | 1 | 2;
  sampleWeight?: Tensor;
  steps?: number;
  callbacks?: Callback[];
}

export interface PredictOptions {
  batchSize?: number;
  verbose?: 0 | 1 | 2;
  steps?: number;
  callbacks?: Callback[];
}

function checkPositiveInt(op: string, name: string, v: number | undefined): void {
  if (v !== undefined && (!Number.isSafeInteger(v) || v <= 0)) fail(op, `${name} must be a positive integer, got ${v}`);
}

/**
 * One pass over `source`: the step hooks around each batch, and the logs of the last step, which
 * are the pass's logs (running means for compiled metrics; whatever a custom step returns).
 */
async function runPass(op: string, source: BatchSource, step: (data: StepData) => Record<string, Tensor>, callbacks: CallbackList, mode: 'Train' | 'Test', stop: () => boolean, turns: EventLoopTurns): Promise<Logs> {
  const wantLogs = callbacks.wants(`on${mode}BatchEnd`);
  let pending: Record<string, Tensor> | null = null;
  let logs: Logs = {};
  let i = 0;
  try {
    for await (const makeBatch of source.epochBatches()) {
      await callbacks.call(`on${mode}BatchBegin`, i, {});
      if (pending) disposeLogs(pending);
      pending = ENGINE.tidy(() => step(makeBatch()));
      if (wantLogs) {
        logs = await readLogs(pending);
        pending = null;
        await callbacks.call(`on${mode}BatchEnd`, i, logs);
      }
      i++;
      if (stop()) break;
      await turns.maybe();
    }
  } catch (err) {
    if (pending) disposeLogs(pending);
    // a batch whose shapes differ from the others fails in some layer: say which batch it was
    if (err instanceof KilnError && source.where) err.message += ` (${source.where(i)})`;
    throw err;
  }
  if (i === 0) fail(op, 'the data produced no batch');
  return pending ? readLogs(pending) : logs;
}

export async function fit(model: Model, x: InputsLike | AsyncIterable<unknown>, yGiven: TargetsLike | FitOptions | undefined, optionsGiven: FitOptions): Promise<History> {
  const op = 'fit';
  const [y, options] = datasetArguments(op, x, yGiven, optionsGiven);
  const c = compiledOf(model, op);
  const { epochs = 1, batchSize = 32, shuffle = true, validationSplit = 0, validationFreq = 1, initialEpoch = 0, verbose = 1 } = options;
  checkPositiveInt(op, 'epochs', epochs);
  if (![0, 1, 2, 'json'].includes(verbose)) fail(op, `verbose must be 0, 1, 2 or 'json', got ${String(verbose)}`);
  checkPositiveInt(op, 'batchSize', batchSize);
  checkPositiveInt(op, 'validationFreq', validationFreq);
  checkPositiveInt(op, 'stepsPerEpoch', options.stepsPerEpoch);
  checkPositiveInt(op, 'validationSteps', options.validationSteps);
  if (!Number.isSafeInteger(initialEpoch) || initialEpoch < 0) fail(op, `initialEpoch must be a non-negative integer, got ${initialEpoch}`);
  if (!(validationSplit >= 0 && validationSplit < 1)) fail(op, `validationSplit must be in [0, 1), got ${validationSplit}`);
  c.trainable = null;
  c.constrained = null;

  let train: BatchSource;
  let val: { x: InputsLike | AsyncIterable<unknown>; y?: TargetsLike; sw?: Tensor } | null = null;
  const owned: Tensor[] = [];
  if (isAsyncIterable(x)) {
    if (validationSplit > 0) fail(op, 'validationSplit needs arrays, not an async iterable: pass validationData');
    checkEnds(op, x, options.stepsPerEpoch, 'stepsPerEpoch');
    train = iterableSource(model, op, x, options.stepsPerEpoch);
  } else {
    if (y === undefined) fail(op, 'expected targets y (or an async iterable of [x, y] batches)');
    let xs = toList(op, x, model.inputNames, 'input');
    let ys = toList(op, y, model.outputNames, 'target');
    const n = numSamples(op, { x: xs, y: ys });
    let sw = options.sampleWeight ?? null;
    if (options.classWeight) {
      if (sw) fail(op, 'give classWeight or sampleWeight, not both');
      sw = ENGINE.keep(await sampleWeightsFromClassWeight(ys[0], options.classWeight));
      owned.push(sw);
    }
    if (validationSplit > 0) {
      const [xh, xt] = splitTail(xs, validationSplit, n);
      const [yh, yt] = splitTail(ys, validationSplit, n);
      owned.push(...xh, ...xt, ...yh, ...yt);
      val = { x: xt, y: yt };
      if (sw) {
        const [sh, st] = splitTail([sw], validationSplit, n);
        owned.push(sh[0], st[0]);
        sw = sh[0];
        val.sw = st[0];
      }
      [xs, ys] = [xh, yh];
    }
    train = arraySource(op, xs, ys, sw, batchSize, shuffle, options.stepsPerEpoch);
  }
  if (isAsyncIterable(options.validationData)) {
    checkEnds(op, options.validationData, options.validationSteps, 'validationSteps');
    val = { x: options.validationData };
  } else if (options.validationData) {
    const [vx, vy, vsw] = options.validationData;
    val = { x: vx, y: vy, sw: vsw };
  }

  const history = new History();
  const printer = verbose === 'json' ? [new JsonLogger()] : verbose ? [new ProgbarLogger({ verbose })] : [];
  const callbacks = new CallbackList([...(options.callbacks ?? []), history, ...printer]);
  callbacks.setModel(model);
  callbacks.setParams({ epochs, steps: train.steps, verbose });
  model.stopTraining = false;
  model.history = history;
  model.resumeEpoch = null;

  try {
    await callbacks.call('onTrainBegin', {});
    const start = model.resumeEpoch || initialEpoch;
    model.resumeEpoch = null;
    const turns = new EventLoopTurns();
    for (let epoch = start; epoch < epochs && !model.stopTraining; epoch++) {
      await callbacks.call('onEpochBegin', epoch, {});
      resetMetrics(c);
      const epochLogs = await runPass(op, train, (d) => model.trainStep(d), callbacks, 'Train', () => model.stopTraining, turns);
      if (val && (epoch + 1) % validationFreq === 0) {
        const valLogs = await evaluate(model, val.x, val.y, { batchSize, verbose: 0, sampleWeight: val.sw, steps: options.validationSteps, callbacks: options.callbacks });
        for (const [k, v] of Object.entries(valLogs)) epochLogs[`val_${k}`] = v;
      }
      await callbacks.call('onEpochEnd', epoch, epochLogs);
      await turns.now();
    }
    await callbacks.call('onTrainEnd', {});
  } finally {
    await train.close();
    for (const t of owned) t.dispose();
  }
  return history;
}

export async function evaluate(
  model: Model, x: InputsLike | AsyncIterable<unknown>, yGiven: TargetsLike | EvaluateOptions | undefined, optionsGiven: EvaluateOptions,
): Promise<Record<string, number>> {
  const op = 'evaluate';
  const [y, options] = datasetArguments(op, x, yGiven, optionsGiven);
  const c = compiledOf(model, op);
  const { batchSize = 32, verbose = 0 } = options;
  checkPositiveInt(op, 'batchSize', batchSize);
  let source: BatchSource;
  if (isAsyncIterable(x)) {
    checkEnds(op, x, options.steps, 'steps');
    source = iterableSource(model, op, x, options.steps);
  } else {
    if (y === undefined) fail(op, 'expected targets y');
    source = arraySource(op, toList(op, x, model.inputNames, 'input'), toList(op, y, model.outputNames, 'target'), options.sampleWeight ?? null, batchSize, false, options.steps);
  }
  const callbacks = new CallbackList([...(options.callbacks ?? []), ...(verbose ? [new ProgbarLogger({ verbose, mode: 'test' })] : [])]);
  callbacks.setModel(model);
  callbacks.setParams({ epochs: 1, steps: source.steps, verbose });
  resetMetrics(c);
  await callbacks.call('onTestBegin', {});
  let logs: Logs;
  try {
    logs = await runPass(op, source, (d) => model.testStep(d), callbacks, 'Test', () => false, new EventLoopTurns());
  } finally {
    await source.close();
  }
  await callbacks.call('onTestEnd', logs);
  return logs;
}

/** Predicts on arrays, or on an async iterable of batches (`x`, or `[x, y]` whose targets are ignored). */
export async function predict(model: Model, x: InputsLike | AsyncIterable<unknown>, options: PredictOptions): Promise<Tensor | Tensor[]> {
  const op = 'predict';
  const { batchSize = 32 } = options;
  checkPositiveInt(op, 'batchSize', batchSize);
  checkPositiveInt(op, 'steps', options.steps);
  if (isAsyncIterable(x)) checkEnds(op, x, options.steps, 'steps');
  const batches = isAsyncIterable(x)
    ? predictBatches(model, op, x, options.steps)
    : arrayInputs(arraySource(op, toList(op, x as InputsLike, model.inputNames, 'input'), [], null, batchSize, false, options.steps));
  const callbacks = new CallbackList(options.callbacks ?? []);
  callbacks.setModel(model);
  await callbacks.call('onPredictBegin', {});
  const chunks: Tensor[][] = [];
  let step = 0;
  const turns = new EventLoopTurns();
  for await (const makeBatch of batches) {
    await callbacks.call('onPredictBatchBegin', step, {});
    chunks.push(ENGINE.tidy(() => [...outputsOf(predictOnBatchTensors(model, makeBatch()))]));
    await callbacks.call('onPredictBatchEnd', step++, {});
    await turns.maybe();
  }
  await callbacks.call('onPredictEnd', {});
  if (chunks.length === 0) fail(op, 'no samples to predict');
  const outs = chunks[0].map((_, i) => (chunks.length === 1 ? chunks[0][i] : ENGINE.tidy(() => concatenate(chunks.map((ch) => ch[i]), 0))));
  if (chunks.length > 1) for (const ch of chunks) for (const t of ch) t.dispose();
  return model.multiOutput ? outs : outs[0];
}

async function* arrayInputs(source: BatchSource): AsyncGenerator<() => Tensor[]> {
  for await (const makeBatch of source.epochBatches()) yield () => makeBatch()[0];
}

function predictOnBatchTensors(model: Model, x: Tensor[]): Tensor | Tensor[] {
  const eager = (xs: Tensor[]) => ({ outs: ENGINE.tidy(() => outputsOf(model.apply(model.multiInput ? xs : xs[0], { training: false }) as Tensor | Tensor[])), meta: null });
  const { outs } = model.compiled?.args.jitCompile ? jitCall(model, 'predict', x, eager) : eager(x);
  return model.multiOutput ? outs : outs[0];
}

export function predictOnBatch(model: Model, x: InputsLike): Tensor | Tensor[] {
  return ENGINE.tidy(() => predictOnBatchTensors(model, toList('predictOnBatch', x, model.inputNames, 'input')));
}

export async function trainOnBatch(model: Model, x: InputsLike, y: TargetsLike, options: { sampleWeight?: Tensor; classWeight?: Record<number, number> }): Promise<Record<string, number>> {
  const c = compiledOf(model, 'trainOnBatch');
  // made outside the step's tidy (the class weights are read from them first), so freed here
  const ys = toList('trainOnBatch', y, model.outputNames, 'target');
  try {
    const cw = options.classWeight ? await sampleWeightsFromClassWeight(ys[0], options.classWeight) : null;
    resetMetrics(c);
    const logs = ENGINE.tidy(() => model.trainStep([toList('trainOnBatch', x, model.inputNames, 'input'), ys, options.sampleWeight ?? cw]));
    cw?.dispose();
    return await readLogs(logs);
  } finally {
    disposeMade(y, ys);
  }
}

export async function testOnBatch(model: Model, x: InputsLike, y: TargetsLike, options: { sampleWeight?: Tensor }): Promise<Record<string, number>> {
  const c = compiledOf(model, 'testOnBatch');
  resetMetrics(c);
  const logs = ENGINE.tidy(() => model.testStep([toList('testOnBatch', x, model.inputNames, 'input'), toList('testOnBatch', y, model.outputNames, 'target'), options.sampleWeight ?? null]));
  return readLogs(logs);
}

export { Callback };
