/**
 * What compile resolves (the optimizer, the loss and metrics per output) and what a step does with
 * it: the batch's loss, and the metrics' update. A mask on an output (layers/mask.ts) leaves the
 * masked steps out of both, as Keras's compiled loss and metrics do.
 */
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
}

/** What compile resolved, reused by every step. */
export interface Compiled {
  args: CompileArgs;
  optimizer: Optimizer;
  losses: (Loss | null)[];
  lossWeights: number[];
  metricIds: unknown[][];
  weightedMetricIds: unknown[][];
  /** Created at the first batch, when the shapes that resolve 'accuracy' are known. */
  metrics: { metric: Metric; output: number; weighted: boolean }[] | null;
  lossTracker: Mean;
  outputLossTrackers: Mean[];
  /** The trainable variables, gathered once per fit rather than per step. */
  trainable: Variable[] | null;
}


export function compile(model: Model, args: CompileArgs): void {
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
    outputLossTrackers: names.length > 1 ? names.map((n) => new Mean({ name: `${n}_loss` })) : [],
    trainable: null,
  };
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
export function computeLoss(model: Model, c: Compiled, y: Tensor[], yPred: Tensor[], sw: Tensor | null): { total: Tensor; perOutput: Tensor[] } {
  const perOutput: Tensor[] = [];
  let total: Tensor | null = null;
  c.losses.forEach((loss, i) => {
    if (!loss) return;
    if (!y[i]) fail('fit', `no target given for output '${model.outputNames[i] ?? i}'`);
    const li = loss.apply(y[i], yPred[i], sw, maskOf(yPred[i]));
    perOutput.push(li);
    const weighted = c.lossWeights[i] === 1 ? li : multiply(li, c.lossWeights[i]);
    total = total ? add(total, weighted) : weighted;
  });
  if (!total) fail('fit', 'compile() was given no loss for any output');
  for (const r of model.losses) total = add(total, r);
  return { total, perOutput };
}

export function updateMetrics(model: Model, c: Compiled, y: Tensor[], yPred: Tensor[], sw: Tensor | null, loss: Tensor, perOutput: Tensor[]): Record<string, Tensor> {
  if (!c.metrics) {
    c.metrics = [];
    const make = (ids: unknown[][], weighted: boolean) => ids.forEach((list, i) => {
      for (const id of list) {
        const metric = getMetric(id, { loss: c.losses[i] ?? undefined, yTrueShape: y[i]?.shape, yPredShape: yPred[i].shape });
        if (c.losses.length > 1) metric.name = `${model.outputNames[i]}_${metric.name}`;
        c.metrics!.push({ metric, output: i, weighted });
      }
    });
    make(c.metricIds, false);
    make(c.weightedMetricIds, true);
  }
  // weighted by batch size: the epoch's loss is the mean over samples, not over batches
  const n = yPred[0].shape[0];
  c.lossTracker.updateState(loss, n);
  c.outputLossTrackers.forEach((t, i) => perOutput[i] && t.updateState(perOutput[i], n));
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

function metricResults(c: Compiled): Record<string, Tensor> {
  const logs: Record<string, Tensor> = { loss: c.lossTracker.result() };
  for (const t of c.outputLossTrackers) logs[t.name] = t.result();
  for (const { metric } of c.metrics ?? []) logs[metric.name] = metric.result();
  return logs;
}

export function resetMetrics(c: Compiled): void {
  c.lossTracker.resetState();
  for (const t of c.outputLossTrackers) t.resetState();
  for (const { metric } of c.metrics ?? []) metric.resetState();
}
