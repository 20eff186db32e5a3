/**
 * `kiln export <model> <out.onnx> [--opset N] [--verify] [--sample x.npy]`: the command module,
 * parsed by yargs as main.ts registers it.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import yargs from 'yargs';
import * as kiln from '../../index.js';
import { exportCommand, runExport } from '../../cli/commands/export.js';
import { onnx } from '../../onnx/proto.js';
import { randomizeWeights } from './harness.js';

let dir = '';
let modelPath = '';

describe('kiln export', () => {
  beforeAll(async () => {
    await kiln.setBackend('reference');
    dir = await mkdtemp(join(tmpdir(), 'kiln-onnx-cli-'));
    modelPath = join(dir, 'model.kiln');
    const model = new kiln.Sequential([kiln.Input({ shape: [3] }), new kiln.layers.Dense(4, { activation: 'relu' }), new kiln.layers.Dense(2)]);
    randomizeWeights(model);
    await model.save(modelPath);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('verifies by default, on random inputs and a sample file', async () => {
    const samplePath = join(dir, 'x.npy');
    const x = kiln.random.normal([4, 3], { seed: 2 });
    await kiln.io.writeNpy(samplePath, x);
    x.dispose();
    const result = await runExport({ model: modelPath, out: join(dir, 'a.onnx'), opset: 18, verify: true, sample: [samplePath] });
    expect(result.verification!.ok).toBe(true);
    expect(result.verification!.cases.at(-1)!.inputs).toBe('the given sample');
    expect(Number(onnx.ModelProto.decode(await readFile(join(dir, 'a.onnx'))).opsetImport[0].version)).toBe(18);
  });

  it('parses its arguments as main.ts registers it, and prints what it wrote', async () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      await yargs(['export', modelPath, join(dir, 'b.onnx'), '--opset', '15', '--no-verify']).command(exportCommand as never).strict().parseAsync();
      expect(log.mock.calls.map((c) => String(c[0])).join('\n')).toMatch(/^wrote .*b\.onnx: opset 15, [\d,]+ bytes$/);
      log.mockClear();
      await yargs(['export', modelPath, join(dir, 'c.onnx')]).command(exportCommand as never).strict().parseAsync();
      expect(log.mock.calls[0][0]).toMatch(/ok {3}random inputs, batch 1, output 'dense_\d+'/);
    } finally {
      log.mockRestore();
    }
  });

  it('verifies a saved Embedding(maskZero) → LSTM by default, on right-padded token ids', async () => {
    kiln.setSeed(1);
    const masked = new kiln.Sequential([kiln.Input({ shape: [null], dtype: 'int32' }), new kiln.layers.Embedding(5, 2, { maskZero: true }), new kiln.layers.LSTM(2)]);
    const path = join(dir, 'masked.kiln');
    await masked.save(path);
    const result = await runExport({ model: path, out: join(dir, 'masked.onnx'), opset: 17, verify: true });
    expect(result.verification!.ok).toBe(true);
    expect(result.verification!.cases[0].inputs).toBe('random inputs (int32 ones right-padded with 0), batch 1');
  });

  it('fails clearly on a sample count that does not match the inputs', async () => {
    await expect(runExport({ model: modelPath, out: join(dir, 'd.onnx'), opset: 17, verify: true, sample: [join(dir, 'x.npy'), join(dir, 'x.npy')] }))
      .rejects.toThrow(/--sample: the model has 1 inputs .*, got 2 sample files/);
  });
});
