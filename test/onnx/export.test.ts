/**
 * model.export as files: dynamic axes (one file serves batch 1, 7 and 256), the names and
 * metadata at the model's boundary, verification, external data, and atomic replacement.
 */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { formatReport, toModelProto, verify } from '../../onnx/index.js';
import { onnx } from '../../onnx/proto.js';
import { compareOutput, randomInputs, randomizeWeights, run, session } from './harness.js';
import { structuralProblems } from './check.js';

const L = kiln.layers;
let dir = '';

function mlp(): kiln.Model {
  const model = new kiln.Sequential([
    kiln.Input({ shape: [6], name: 'pixels' }),
    new L.Dense(12, { activation: 'relu', name: 'hidden' }),
    new L.Dense(4, { activation: 'softmax', name: 'probs' }),
  ], { name: 'mlp' });
  randomizeWeights(model);
  return model;
}

const dimsOf = (v: { type?: { tensorType?: { shape?: { dim?: { dimValue?: unknown; dimParam?: string | null }[] | null } | null } | null } | null }) =>
  v.type!.tensorType!.shape!.dim!.map((d) => (d.dimParam ? d.dimParam : d.dimValue === undefined || d.dimValue === null ? null : Number(d.dimValue)));

describe('model.export(path, { format: "onnx" })', () => {
  beforeAll(async () => {
    await kiln.setBackend('reference');
    dir = await mkdtemp(join(tmpdir(), 'kiln-onnx-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('writes a verified file that serves batch 1, 7 and 256', async () => {
    const model = mlp();
    const path = join(dir, 'mlp.onnx');
    const sample = kiln.random.normal([5, 6], { seed: 4 });
    const result = await model.export(path, { format: 'onnx', verify: { sample } });
    expect(result.verification!.ok).toBe(true);
    expect(result.verification!.cases.map((c) => c.inputs)).toEqual(['random inputs, batch 1', 'random inputs, batch 7', 'the given sample']);
    expect(formatReport(result.verification!)).toMatch(/ok {3}random inputs, batch 1, output 'probs': max abs error/);
    const s = await session(path);
    for (const batch of [1, 7, 256]) {
      const [x] = randomInputs(model, batch, batch);
      const out = await run(s, [x]);
      const expected = (await model.predict(x, { batchSize: batch })) as kiln.Tensor;
      compareOutput(`batch ${batch}`, expected.shape, await expected.data(), out.probs as never);
      kiln.dispose([x, expected]);
    }
    await s.release();
    sample.dispose();
  });

  it('names inputs, outputs, weights and dynamic axes after the model, and carries its metadata', async () => {
    const x = kiln.Input({ shape: [null, 4], name: 'tokens' });
    const model = new kiln.Model({ inputs: x, outputs: new L.Dense(3, { name: 'logits' }).apply(x) as never, name: 'tagger' });
    const proto = await toModelProto(model);
    expect(structuralProblems(proto)).toEqual([]);
    expect(proto.producerName).toBe('kiln');
    expect(proto.producerVersion).toBe(kiln.version);
    expect(proto.docString).toContain('Total params');
    expect(proto.docString).toContain('logits (Dense)');
    expect(Number(proto.opsetImport[0].version)).toBe(17);
    expect(proto.graph!.name).toBe('tagger');
    expect(dimsOf(proto.graph!.input![0])).toEqual(['batch', 'tokens_dim1', 4]);
    expect(dimsOf(proto.graph!.output![0])).toEqual(['batch', null, 3]);
    expect(proto.graph!.initializer!.map((t) => t.name)).toEqual(['logits/kernel', 'logits/bias']);
    const named = await toModelProto(model, { dynamicAxes: { tokens: { 0: 'n', 1: 'steps' }, logits: { 1: 'steps' } } });
    expect(dimsOf(named.graph!.input![0])).toEqual(['n', 'steps', 4]);
    expect(dimsOf(named.graph!.output![0])).toEqual(['n', 'steps', 3]);
  });

  it('rejects dynamicAxes for unknown names and for fixed axes', async () => {
    const model = mlp();
    await expect(toModelProto(model, { dynamicAxes: { nope: { 0: 'n' } } })).rejects.toThrow(/dynamicAxes names 'nope', which is no input or output/);
    await expect(toModelProto(model, { dynamicAxes: { pixels: { 1: 'features' } } })).rejects.toThrow(/axis 1, which has the fixed size 6/);
  });

  it('replaces an existing file atomically, and a failed export leaves it as it was', async () => {
    const path = join(dir, 'replace.onnx');
    await writeFile(path, 'previous');
    await mlp().export(path);
    const written = await readFile(path);
    expect(onnx.ModelProto.decode(written).producerName).toBe('kiln');

    // a layer that computes something else on concrete tensors than on symbolic ones: its
    // trace is the identity, kiln adds 1, and verification catches it
    class Sneaky extends kiln.Layer {
      static readonly className = 'Sneaky';
      call(t: kiln.Tensor): kiln.Tensor {
        return t instanceof kiln.Tensor ? kiln.ops.add(t, 1) : t;
      }
    }
    const x = kiln.Input({ shape: [3] });
    const sneaky = new kiln.Model({ inputs: x, outputs: new Sneaky({ name: 'sneaky' }).apply(x) as never });
    const error = await sneaky.export(path, { verify: true }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(kiln.KilnError);
    expect((error as Error).message).toMatch(/does not match kiln's predict, so nothing was written/);
    expect((error as Error).message).toMatch(/FAIL random inputs, batch 1, output 'sneaky': max abs error 1\.00e\+0/);
    expect(await readFile(path)).toEqual(written);
    expect((await readdir(dir)).filter((f) => f.includes('.tmp') || f.includes('export-'))).toEqual([]);
  });

  it('fails clearly for a path in a missing folder and for an unknown format', async () => {
    await expect(mlp().export(join(dir, 'missing', 'm.onnx'))).rejects.toThrow(/export: cannot write .*m\.onnx: the folder .*missing does not exist/);
    await expect(mlp().export(join(dir, 'm.onnx'), { format: 'savedmodel' as never })).rejects.toThrow(/unknown format 'savedmodel'; kiln exports 'onnx'/);
  });

  it('writes weights as external data when asked (and past 2 GB by default)', async () => {
    const model = new kiln.Sequential([kiln.Input({ shape: [16] }), new L.Dense(64, { activation: 'relu', name: 'hidden' }), new L.Dense(4, { name: 'probs' })]);
    randomizeWeights(model);
    const path = join(dir, 'ext.onnx');
    const result = await model.export(path, { externalData: true, verify: true });
    expect(result.dataPath).toBe(`${path}.data`);
    const proto = onnx.ModelProto.decode(await readFile(path));
    const kernel = proto.graph!.initializer!.find((t) => t.name === 'hidden/kernel')!;
    expect(kernel.dataLocation).toBe(onnx.TensorProto.DataLocation.EXTERNAL);
    expect(Object.fromEntries(kernel.externalData!.map((e) => [e.key, e.value]))).toMatchObject({ location: 'ext.onnx.data', length: String(16 * 64 * 4) });
    // small tensors (the biases) stay inline
    expect(proto.graph!.initializer!.find((t) => t.name === 'hidden/bias')!.rawData!.length).toBe(64 * 4);
    expect((await stat(`${path}.data`)).size).toBeGreaterThanOrEqual(16 * 64 * 4 + 64 * 4 * 4);
    const s = await session(path);
    const [x] = randomInputs(model, 3, 9);
    const expected = (await model.predict(x)) as kiln.Tensor;
    compareOutput('external data', expected.shape, await expected.data(), (await run(s, [x])).probs as never);
    kiln.dispose([x, expected]);
    await s.release();
  });

  it('verify() compares a file with predict, and reports each output', async () => {
    const model = mlp();
    const bytes = onnx.ModelProto.encode(await toModelProto(model)).finish();
    const before = kiln.memory().numTensors;
    const report = await verify(model, bytes, { batchSizes: [2, 300] });
    expect(kiln.memory().numTensors).toBe(before);
    expect(report.ok).toBe(true);
    expect(report.cases).toHaveLength(2);
    expect(report.cases[1].outputs[0].maxAbsError).toBeLessThan(1e-5);
  });
});
