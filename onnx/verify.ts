/**
 * Checks an exported file against kiln: the same inputs through onnxruntime-node and through
 * `model.predict`, with the largest absolute and relative error per output. Random token ids
 * are right-padded where the file's recurrent ops take a mask as lengths, which assume so.
 */
import { readFile } from 'node:fs/promises';
import type { DType, TypedArray } from '../backends/contract.js';
import { fail } from '../src/errors.js';
import type { Dim } from '../src/shape.js';
import { Tensor } from '../src/tensor.js';
import { tensorFrom } from '../src/convert.js';
import { toList, type InputsLike } from '../models/data.js';
import type { Model } from '../models/model.js';
import { ORT_TYPE, onnx } from './proto.js';

export interface VerifyOptions {
  /** Inputs of your own (as `predict` takes them), checked besides the random ones. */
  sample?: InputsLike;
  /** Batch sizes of the random inputs (default [1, 7]). */
  batchSizes?: number[];
  /** Size given to the other dynamic axes of random inputs (default 3). */
  dynamicSize?: number;
  /** Allowed error per element: |kiln - ort| <= atol + rtol·|ort| (defaults 1e-5 and 1e-4). */
  atol?: number;
  rtol?: number;
  seed?: number;
}

export interface OutputCheck {
  name: string;
  maxAbsError: number;
  /** Over the elements where |ort| > atol (relative error means little near 0). */
  maxRelError: number;
  ok: boolean;
  /** Set when the shapes or dtypes differ. */
  problem?: string;
}

export interface VerifyCase {
  inputs: string;
  outputs: OutputCheck[];
}

export interface VerifyReport {
  ok: boolean;
  atol: number;
  rtol: number;
  cases: VerifyCase[];
}

/** The report as lines: one per case and output. */
export function formatReport(report: VerifyReport): string {
  const lines = [`onnxruntime vs kiln predict (tolerance |kiln - ort| <= ${report.atol} + ${report.rtol}·|ort|):`];
  for (const c of report.cases) {
    for (const o of c.outputs) {
      const errors = o.problem ?? `max abs error ${o.maxAbsError.toExponential(2)}, max rel error ${o.maxRelError.toExponential(2)}`;
      lines.push(`  ${o.ok ? 'ok  ' : 'FAIL'} ${c.inputs}, output '${o.name}': ${errors}`);
    }
  }
  return lines.join('\n');
}

/** mulberry32: the check's own random stream, so verifying leaves kiln's global seed alone. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Random values of an input's shape and dtype. int32 inputs (token ids) draw 0-4; `rightPadded`
 * ones draw ids 1-4 up to each sample's length along axis 1 and 0 after it, the padding a
 * recurrent op's sequence_lens assumes: the first sample full, the second (if any) all padding,
 * the others of random lengths.
 */
function randomInput(shape: readonly Dim[], dtype: DType, batch: number, size: number, next: () => number, rightPadded: boolean): Tensor {
  const dims = shape.map((d, i) => (i === 0 ? batch : d ?? size));
  const n = dims.reduce((p, d) => p * d, 1);
  const padded = rightPadded && dtype === 'int32' && dims.length >= 2;
  const steps = padded ? dims[1] : 0;
  const perStep = padded ? dims.slice(2).reduce((p, d) => p * d, 1) : 0;
  const lengths = Array.from({ length: padded ? batch : 0 }, (_, i) => (i === 0 ? steps : i === 1 ? 0 : Math.floor(next() * (steps + 1))));
  const values = Array.from({ length: n }, (_, k) => {
    if (dtype === 'bool') return next() < 0.5 ? 0 : 1;
    if (padded) return Math.floor(k / perStep) % steps < lengths[Math.floor(k / (perStep * steps))] ? 1 + Math.floor(next() * 4) : 0;
    if (dtype === 'int32') return Math.floor(next() * 5);
    // Box-Muller: standard normal draws
    return Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
  });
  return tensorFrom(values, dims, dtype, 'verify');
}

/**
 * Whether the file has an RNN, LSTM or GRU op given sequence_lens: a mask turned into lengths,
 * which holds only for right-padded masks (docs/onnx.md), so the random inputs must be so padded.
 */
async function takesSequenceLengths(onnxFile: string | Uint8Array): Promise<boolean> {
  const proto = onnx.ModelProto.decode(typeof onnxFile === 'string' ? await readFile(onnxFile) : onnxFile);
  return (proto.graph?.node ?? []).some((node) => ['RNN', 'LSTM', 'GRU'].includes(node.opType ?? '') && (node.input?.[4] ?? '') !== '');
}

function compare(name: string, kiln: Tensor, ortValue: { dims: readonly number[]; data: unknown; type: string }, kilnData: TypedArray, atol: number, rtol: number): OutputCheck {
  const check: OutputCheck = { name, maxAbsError: 0, maxRelError: 0, ok: true };
  if (kiln.shape.length !== ortValue.dims.length || kiln.shape.some((d, i) => d !== ortValue.dims[i])) {
    return { ...check, ok: false, maxAbsError: Infinity, maxRelError: Infinity, problem: `shapes differ: kiln [${kiln.shape.join(',')}], onnxruntime [${ortValue.dims.join(',')}]` };
  }
  const ort = ortValue.data as ArrayLike<number | boolean>;
  for (let i = 0; i < kilnData.length; i++) {
    const k = Number(kilnData[i]);
    const o = Number(ort[i]);
    if (Object.is(k, o) || (Number.isNaN(k) && Number.isNaN(o))) continue;
    const abs = Number.isNaN(k) || Number.isNaN(o) ? Infinity : Math.abs(k - o);
    check.maxAbsError = Math.max(check.maxAbsError, abs);
    if (Math.abs(o) > atol) check.maxRelError = Math.max(check.maxRelError, abs / Math.abs(o));
    if (!(abs <= atol + rtol * Math.abs(o))) check.ok = false;
  }
  return check;
}

/**
 * Runs `onnxFile` (a path or the file's bytes) in onnxruntime-node, graph optimizations on,
 * and `model.predict` on the same inputs: random ones of each batch size, and `sample`.
 * @example
 * const report = await kiln.onnx.verify(model, 'model.onnx', { sample: xTest });
 * console.log(kiln.onnx.formatReport(report));
 */
export async function verify(model: Model, onnxFile: string | Uint8Array, options: VerifyOptions = {}): Promise<VerifyReport> {
  const { batchSizes = [1, 7], dynamicSize = 3, atol = 1e-5, rtol = 1e-4, seed = 1 } = options;
  // loaded on first use: the native addon is only needed to verify
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(onnxFile as string, { graphOptimizationLevel: 'all' });
  const next = rng(seed);
  const rightPadded = await takesSequenceLengths(onnxFile);
  const cases: { label: string; xs: Tensor[] }[] = batchSizes.map((n) => ({
    label: `random inputs${rightPadded ? ' (int32 ones right-padded with 0)' : ''}, batch ${n}`,
    xs: model.inputs.map((t) => randomInput(t.shape, t.dtype, n, dynamicSize, next, rightPadded)),
  }));
  if (options.sample !== undefined) cases.push({ label: 'the given sample', xs: toList('verify', options.sample, model.inputNames, 'input') });
  // the sample's own tensors stay the caller's; arrays it held were uploaded here
  const given = new Set(Object.values(options.sample instanceof Tensor ? [options.sample] : options.sample ?? {}));
  const report: VerifyReport = { ok: true, atol, rtol, cases: [] };
  try {
    for (const c of cases) {
      const feeds: [string, InstanceType<typeof ort.Tensor>][] = [];
      for (const [i, x] of c.xs.entries()) {
        if (x.dtype !== model.inputs[i].dtype) fail('verify', `input '${model.inputNames[i]}' must be ${model.inputs[i].dtype}, got ${x.dtype}`);
        feeds.push([session.inputNames[i], new ort.Tensor(ORT_TYPE[x.dtype], (await x.data()) as never, [...x.shape])]);
      }
      // fromEntries defines own keys: assigning to feeds['__proto__'] (an input layer may have that name) would set the prototype
      const results = await session.run(Object.fromEntries(feeds));
      const predicted = await model.predict(model.multiInput ? c.xs : c.xs[0], { batchSize: Math.max(1, c.xs[0]?.shape[0] ?? 1) });
      const outs = Array.isArray(predicted) ? predicted : [predicted];
      const checks: OutputCheck[] = [];
      for (const [i, name] of session.outputNames.entries()) {
        checks.push(compare(name, outs[i], results[name] as never, await outs[i].data(), atol, rtol));
      }
      for (const t of outs) t.dispose();
      report.cases.push({ inputs: c.label, outputs: checks });
      report.ok &&= checks.every((o) => o.ok);
    }
  } finally {
    for (const c of cases) for (const t of c.xs) if (!given.has(t)) t.dispose();
    await session.release();
  }
  return report;
}
