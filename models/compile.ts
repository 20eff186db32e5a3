/**
 * What compile resolves (the optimizer, the loss and metrics per output) and what a step does with
 * it: the batch's loss, and the metrics' update. A mask on an output (layers/mask.ts) leaves the
 * masked steps out of both, as Keras's compiled loss and metrics do.
 */
import { releasePlans } from './jit.js';
import { fail } from '../src/errors.js';
import type { Tensor } from '../src/tensor.js';
import type { Variable } from '../src/variable.js';
import { add, multiply } from '../src/ops/binary.js';
import { getOptimizer, type Optimizer } from '../optimizers/index.js';
import { getLoss, type Loss } from '../losses/index.js';
import { applyMask } from '../losses/loss.js';
import { checkMetricId, getMetric, Mean, MeanMetricWrapper, type Metric } from '../metrics/index.js';
import { maskOf } from '../layers/mask.js';
import type { Model } from './model.js';

type PerOutput<T> = T | T[] | Record<string, T>;

export interface CompileArgs {
  /** An optimizer, or its Keras id ('adam', 'sgd', …). Keras's default is 'rmsprop'. */
  optimizer?: unknown;
  /** A loss for every output, or one per output (array in output order, or keyed by output name). */
  loss?: PerOutput<unknown>;
  metrics?: PerOutput<unknown[]> | unknown[];
  lossWeights?: number[] | Record<string, number>;
  weightedMetrics?: PerOutput<unknown[]> | unknown[];
  /**
   * Keras's jit_compile: predict, predictOnBatch and the gradient half of each training step replay
   * each input signature's recorded kernels instead of calling the layers (models/jit.ts). Off by
   * default.
   */
  jitCompile?: boolean;
}

/** What compile resolved, reused by every step. */
export interface Compiled {
  args: CompileArgs;
  optimizer: Optimizer;
  losses: (Loss | null)[];
  lossWeights: number[];
  metricIds: unknown[][];
  weightedMetricIds: unknown[][];
  /**
   * Created at the first batch, when the shapes that resolve 'accuracy' are known. `key` is the
   * metric's name in the logs (Keras's prefix and de-duplication), which leaves `metric.name` as
   * the user gave it.
   */
  metrics: { metric: Metric; output: number; weighted: boolean; key: string }[] | null;
  lossTracker: Mean;
  /** `<output>_loss` for each output that has a loss, only when more than one has (as Keras 3). */
  outputLossTrackers: { output: number; tracker: Mean }[];
  /** The trainable variables, gathered once per fit rather than per step. */
  trainable: Variable[] | null;
  /** The weights with a constraint, gathered likewise: walking the layers each step costs more than a small step. */
  constrained: [Variable, (w: Tensor) => Tensor][] | null;
}


export function compile(model: Model, args: CompileArgs): void {
  if (args.jitCompile !== undefined && typeof args.jitCompile !== 'boolean') fail('compile', `jitCompile must be true or false, got ${String(args.jitCompile)}`);
  // a new compile starts from eager calls: the old plans read buffers the new state may not keep
  releasePlans(model);
  const names = model.outputNames.length ? model.outputNames : ['output'];
  const perOutput = <T>(v: PerOutput<T> | undefined, what: string, isList = false): (T | undefined)[] => {
    if (v === undefined) return names.map(() => undefined);
    if (isList ? Array.isArray(v) && !(Array.isArray(v) && v.some(Array.isArray)) : !Array.isArray(v) && !isRecord(v)) {
      return names.map(() => v as T);
    }
    if (Array.isArray(v)) {
      if (v.length !== names.length) fail('compile', `${what} has ${v.length} entries but the model has ${names.length} outputs (${names.join(', ')})`);
      return v as T[];
    }
    const rec = v as Record<string, T>;
    const unknown = Object.keys(rec).filter((k) => !names.includes(k));
    if (unknown.length) fail('compile', `${what} names unknown output(s) ${unknown.join(', ')}; outputs: ${names.join(', ')}`);
    return names.map((n) => rec[n]);
  };
  const losses = perOutput(args.loss, 'loss').map((id) => (id === undefined || id === null ? null : getLoss(id)));
  const lossWeights = perOutput(args.lossWeights as PerOutput<number> | undefined, 'lossWeights').map((w, i) => {
    // checked here: a bad weight would otherwise surface only at the first training step
    if (w !== undefined && (typeof w !== 'number' || !Number.isFinite(w))) {
      fail('compile', `lossWeights for output '${names[i]}' must be a finite number, got ${JSON.stringify(w) ?? String(w)}`);
    }
    return w ?? 1;
  });
  const metricIds = perOutput(args.metrics as PerOutput<unknown[]>, 'metrics', true).map((m) => (m ?? []) as unknown[]);
  const weightedMetricIds = perOutput(args.weightedMetrics as PerOutput<unknown[]>, 'weightedMetrics', true).map((m) => (m ?? []) as unknown[]);
  for (const id of [...metricIds, ...weightedMetricIds].flat()) {
    if (typeof id === 'string' && !['accuracy', 'acc'].includes(id.toLowerCase())) checkMetricId(id, 'compile');
  }
  model.compiled = {
    args,
    optimizer: getOptimizer(args.optimizer ?? 'rmsprop'),
    losses,
    lossWeights,
    metricIds,
    weightedMetricIds,
    metrics: null,
    lossTracker: new Mean({ name: 'loss' }),
    outputLossTrackers: outputLossTrackers(names, losses),
    trainable: null,
    constrained: null,
  };
}

/**
 * Keras 3 tracks an output's loss on its own only when the total has more than one term: with a
 * single loss, `<output>_loss` would repeat `loss`.
 */
function outputLossTrackers(names: string[], losses: (Loss | null)[]): { output: number; tracker: Mean }[] {
  const withLoss = losses.flatMap((l, output) => (l ? [output] : []));
  return withLoss.length > 1 ? withLoss.map((output) => ({ output, tracker: new Mean({ name: `${names[output]}_loss` }) })) : [];
}

/** A plain object keyed by output name (a serialized `{ className, config }` is one value, not a map). */
function isRecord(v: unknown): boolean {
  return v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype && !('className' in v);
}

export function compiledOf(model: Model, op: string): Compiled {
  if (!model.compiled) fail(op, `model '${model.name}' is not compiled: call model.compile({ optimizer, loss }) first`);
  return model.compiled;
}

/**
 * The total loss of a batch: weighted per-output losses plus the layers' regularization losses.
 * An output's mask leaves its masked steps out of its loss (Loss.apply).
 */
export function computeLoss(model: Model, c: Compiled, y: Tensor[], yPred: Tensor[], sw: Tensor | null): { total: Tensor; perOutput: (Tensor | null)[] } {
  const perOutput: (Tensor | null)[] = c.losses.map(() => null);
  let total: Tensor | null = null;
  c.losses.forEach((loss, i) => {
    if (!loss) return;
    if (!y[i]) fail('fit', `no target given for output '${model.outputNames[i] ?? i}'`);
    const li = loss.apply(y[i], yPred[i], sw, maskOf(yPred[i]));
    perOutput[i] = li;
    const weighted = c.lossWeights[i] === 1 ? li : multiply(li, c.lossWeights[i]);
    total = total ? add(total, weighted) : weighted;
  });
  if (!total) fail('fit', 'compile() was given no loss for any output');
  for (const r of model.losses) total = add(total, r);
  return { total, perOutput };
}

export function updateMetrics(model: Model, c: Compiled, y: Tensor[], yPred: Tensor[], sw: Tensor | null, loss: Tensor, perOutput: (Tensor | null)[]): Record<string, Tensor> {
  c.metrics ??= buildMetrics(model, c, y, yPred);
  // weighted by batch size: the epoch's loss is the mean over samples, not over batches
  const n = yPred[0].shape[0];
  c.lossTracker.updateState(loss, n);
  for (const { output, tracker } of c.outputLossTrackers) tracker.updateState(perOutput[output]!, n);
  for (const { metric, output, weighted } of c.metrics) {
    if (!y[output]) continue;
    const weights = weighted ? sw : null;
    const mask = maskOf(yPred[output]);
    // as Keras: the metrics that average a per-step function (MeanMetricWrapper's) weigh the masked
    // steps 0, so their mean runs over the others; confusion counts and curves read no mask
    const masked = mask && metric instanceof MeanMetricWrapper ? applyMask(metric.toString(), weights, mask, metric.dtype, 'sum') : weights;
    metric.updateState(y[output], yPred[output], masked ?? undefined);
  }
  return metricResults(c);
}

/**
 * The compiled metrics with Keras 3's log names: `<output>_` before each name when the model has
 * several outputs; a repeated name gets `_1`, `_2`, …, except that a weighted metric whose name an
 * unweighted one already took becomes `weighted_<name>` first (`mae` and `weighted_mae`).
 */
function buildMetrics(model: Model, c: Compiled, y: Tensor[], yPred: Tensor[]): NonNullable<Compiled['metrics']> {
  const taken = new Map<string, number>();
  const unique = (name: string): string => {
    const count = taken.get(name);
    taken.set(name, (count ?? 0) + 1);
    return count === undefined ? name : `${name}_${count}`;
  };
  const prefix = (i: number, name: string) => (c.losses.length > 1 ? `${model.outputNames[i]}_${name}` : name);
  const built: NonNullable<Compiled['metrics']> = [];
  const make = (ids: unknown[][], weighted: boolean) => ids.forEach((list, i) => {
    for (const id of list) {
      const metric = getMetric(id, { loss: c.losses[i] ?? undefined, yTrueShape: y[i]?.shape, yPredShape: yPred[i].shape });
      const plain = prefix(i, metric.name);
      const key = !weighted || !taken.has(plain) ? unique(plain) : unique(prefix(i, `weighted_${metric.name}`));
      built.push({ metric, output: i, weighted, key });
    }
  });
  make(c.metricIds, false);
  make(c.weightedMetricIds, true);
  return built;
}

function metricResults(c: Compiled): Record<string, Tensor> {
  const logs: Record<string, Tensor> = { loss: c.lossTracker.result() };
  for (const { tracker } of c.outputLossTrackers) logs[tracker.name] = tracker.result();
  for (const { metric, key } of c.metrics ?? []) logs[key] = metric.result();
  return logs;
}

export function resetMetrics(c: Compiled): void {
  c.lossTracker.resetState();
  for (const { tracker } of c.outputLossTrackers) tracker.resetState();
  for (const { metric } of c.metrics ?? []) metric.resetState();
}
