/**
 * expectParity: exports a model, checks ONNX's structural rules, loads the file in
 * onnxruntime-node with graph optimizations on, and asserts |kiln - ort| <= 1e-5 + 1e-4·|ort|
 * for every element of every output, for each batch size. The largest errors seen are kept per
 * label; with KILN_ONNX_ERRORS=<file> they are appended there (docs/onnx.md's table).
 */
import { appendFileSync } from 'node:fs';
import { expect } from 'vitest';
import * as ort from 'onnxruntime-node';
import * as kiln from '../../index.js';
import { toModelProto, type OnnxOptions } from '../../onnx/index.js';
import { onnx, type ModelProto } from '../../onnx/proto.js';
import { structuralProblems } from './check.js';

export const ATOL = 1e-5;
export const RTOL = 1e-4;

/** label → the largest absolute and relative error seen. */
export const ERRORS = new Map<string, { abs: number; rel: number; opset: number }>();

export interface ParityOptions extends OnnxOptions {
  label: string;
  /** Batch sizes; the default's largest is bigger than any size kiln ever traced with. */
  batches?: number[];
  /** Inputs for a batch size; default: normal draws (0..4 for int32), other dynamic axes 5. */
  inputs?: (batch: number, seed: number) => kiln.Tensor[];
}

export function randomInputs(model: kiln.Model, batch: number, seed: number): kiln.Tensor[] {
  return model.inputs.map((t, i) => {
    const shape = [batch, ...t.shape.slice(1).map((d) => d ?? 5)];
    if (t.dtype === 'int32') return kiln.random.randint(shape, 0, 5, { seed: seed + i });
    return kiln.random.normal(shape, { seed: seed + i, dtype: t.dtype });
  });
}

export function encode(proto: ModelProto): Uint8Array {
  return onnx.ModelProto.encode(proto).finish();
}

export function session(bytes: Uint8Array | string): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes as string, { graphOptimizationLevel: 'all' });
}

export async function run(s: ort.InferenceSession, xs: readonly kiln.Tensor[]): Promise<ort.InferenceSession.OnnxValueMapType> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const [i, x] of xs.entries()) feeds[s.inputNames[i]] = new ort.Tensor(x.dtype as 'float32', (await x.data()) as Float32Array, [...x.shape]);
  return s.run(feeds);
}

/** Compares one output; returns the largest errors, failing the test past the tolerance. */
export function compareOutput(where: string, kilnShape: readonly number[], k: ArrayLike<number>, o: ort.Tensor): { abs: number; rel: number } {
  expect([...o.dims], `${where}: shape`).toEqual([...kilnShape]);
  const ov = o.data as ArrayLike<number>;
  let abs = 0;
  let rel = 0;
  for (let i = 0; i < k.length; i++) {
    const a = Number(k[i]);
    const b = Number(ov[i]);
    if (Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b))) continue;
    const e = Math.abs(a - b);
    if (!(e <= ATOL + RTOL * Math.abs(b))) expect.fail(`${where}: element ${i} is ${a} in kiln, ${b} in onnxruntime`);
    abs = Math.max(abs, e);
    if (Math.abs(b) > ATOL) rel = Math.max(rel, e / Math.abs(b));
  }
  return { abs, rel };
}

export async function expectParity(model: kiln.Model, options: ParityOptions): Promise<ModelProto> {
  const { label, batches = [1, 3, 300] } = options;
  const proto = await toModelProto(model, options);
  expect(structuralProblems(proto), label).toEqual([]);
  const s = await session(encode(proto));
  try {
    for (const [k, batch] of batches.entries()) {
      const xs = options.inputs?.(batch, 100 + k) ?? randomInputs(model, batch, 100 + k);
      const results = await run(s, xs);
      const predicted = await model.predict(model.multiInput ? xs : xs[0], { batchSize: batch });
      const outs = Array.isArray(predicted) ? predicted : [predicted];
      for (const [i, name] of s.outputNames.entries()) {
        const e = compareOutput(`${label}, batch ${batch}, output ${name}`, outs[i].shape, await outs[i].data(), results[name] as ort.Tensor);
        const seen = ERRORS.get(label) ?? { abs: 0, rel: 0, opset: options.opset ?? 17 };
        ERRORS.set(label, { abs: Math.max(seen.abs, e.abs), rel: Math.max(seen.rel, e.rel), opset: seen.opset });
      }
      kiln.dispose([...xs, ...outs]);
    }
  } finally {
    await s.release();
  }
  return proto;
}

/** Appends the errors seen to $KILN_ONNX_ERRORS (one JSON line per label), for docs/onnx.md. */
export function reportErrors(): void {
  const file = process.env.KILN_ONNX_ERRORS;
  if (!file) return;
  for (const [label, e] of ERRORS) appendFileSync(file, `${JSON.stringify({ label, ...e })}\n`);
}

/** The op types of a proto's graph, in order. */
export const opTypes = (proto: ModelProto): string[] => (proto.graph?.node ?? []).map((n) => n.opType ?? '');

/** A Functional model of one layer on inputs of the given sample shapes (null: dynamic). */
export function single(layer: kiln.Layer, ...sampleShapes: (number | null)[][]): kiln.Model {
  const inputs = sampleShapes.map((s) => kiln.Input({ shape: s }));
  const out = layer.apply((inputs.length === 1 ? inputs[0] : inputs) as never) as unknown as kiln.SymbolicTensor;
  return new kiln.Model({ inputs: inputs.length === 1 ? inputs[0] : inputs, outputs: out });
}

/** Every weight replaced by normal draws (positive ones for `positive` names, e.g. variances). */
export function randomizeWeights(model: kiln.Layer, seed = 7, positive: RegExp = /variance/): void {
  let k = seed;
  for (const v of model.weights) {
    if (v.dtype !== 'float32' && v.dtype !== 'float64') continue;
    const draw = kiln.random.normal([...v.shape], { seed: k++, dtype: v.dtype });
    const value = positive.test(v.name) ? kiln.tidy(() => kiln.ops.add(kiln.ops.abs(draw), 0.1)) : draw;
    v.assign(value);
    kiln.dispose([draw, value]);
  }
}
