/**
 * verify() on models whose file turns a mask into a recurrent op's sequence_lens, which holds for
 * right-padded masks only (docs/onnx.md): its random token ids are right-padded there (ids 1-4,
 * then zeros to the end; one sample full, one all padding), and drawn 0-4 anywhere elsewhere.
 * The inputs it drew are read back from the model's predict and checked against the rule here.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { toModelProto, verify } from '../../onnx/index.js';
import { onnx } from '../../onnx/proto.js';

const L = kiln.layers;
let dir = '';

/** Records the int32 token rows that verify feeds the model's predict. */
function recordInputs(model: kiln.Model): number[][][] {
  const seen: number[][][] = [];
  const predict = model.predict.bind(model);
  model.predict = ((x: kiln.Tensor, options: Parameters<kiln.Model['predict']>[1]) => {
    seen.push(x.arraySync() as number[][]);
    return predict(x, options);
  }) as typeof model.predict;
  return seen;
}

/** Each row: ids 1-4 up to its length, zeros after; returns the lengths. */
function rightPaddedLengths(rows: number[][]): number[] {
  return rows.map((row, i) => {
    const length = row.findIndex((v) => v === 0);
    const n = length < 0 ? row.length : length;
    expect(row.slice(0, n).every((v) => v >= 1 && v <= 4), `row ${i}: ${row}`).toBe(true);
    expect(row.slice(n).every((v) => v === 0), `row ${i}: ${row}`).toBe(true);
    return n;
  });
}

describe('verify draws right-padded token ids for files whose recurrent ops take sequence_lens', () => {
  beforeAll(async () => {
    kiln.setBackend('reference');
    dir = await mkdtemp(join(tmpdir(), 'kiln-verify-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('Embedding(maskZero) → LSTM exports with verify: true (holes in the mask once failed it by 5.7e-3)', async () => {
    kiln.setSeed(1);
    const model = new kiln.Sequential([kiln.Input({ shape: [null], dtype: 'int32' }), new L.Embedding(5, 2, { maskZero: true }), new L.LSTM(2)]);
    const seen = recordInputs(model);
    const result = await model.export(join(dir, 'lstm.onnx'), { format: 'onnx', verify: true });
    expect(result.verification!.ok).toBe(true);
    expect(result.verification!.cases.map((c) => c.inputs)).toEqual(['random inputs (int32 ones right-padded with 0), batch 1', 'random inputs (int32 ones right-padded with 0), batch 7']);
    expect(seen.map((rows) => rows.length)).toEqual([1, 7]);
    expect(rightPaddedLengths(seen[0])).toEqual([3]);
    const lengths = rightPaddedLengths(seen[1]);
    expect(lengths.slice(0, 2)).toEqual([3, 0]);
    expect(lengths.every((n) => n >= 0 && n <= 3)).toBe(true);
  });

  it('Embedding(maskZero) → Bidirectional(GRU) returning sequences, at batch 1, 7 and 40 and a longer time axis', async () => {
    kiln.setSeed(2);
    const x = kiln.Input({ shape: [null], dtype: 'int32' });
    const e = new L.Embedding(5, 3, { maskZero: true }).apply(x);
    const out = new L.Bidirectional(new L.GRU(3, { returnSequences: true })).apply(e as never) as unknown as kiln.SymbolicTensor;
    const model = new kiln.Model({ inputs: x, outputs: out });
    const seen = recordInputs(model);
    const bytes = onnx.ModelProto.encode(await toModelProto(model)).finish();
    const report = await verify(model, bytes, { batchSizes: [1, 7, 40], dynamicSize: 6 });
    expect(report.ok).toBe(true);
    const lengths = rightPaddedLengths(seen[2]);
    expect(lengths.slice(0, 2)).toEqual([6, 0]);
    // the others vary: more than the two lengths fixed above
    expect(new Set(lengths).size).toBeGreaterThan(2);
  });

  it('keeps ids 0-4 anywhere where no op takes sequence_lens (an LSTM without a mask)', async () => {
    kiln.setSeed(3);
    const model = new kiln.Sequential([kiln.Input({ shape: [null], dtype: 'int32' }), new L.Embedding(5, 2), new L.LSTM(2)]);
    const seen = recordInputs(model);
    const bytes = onnx.ModelProto.encode(await toModelProto(model)).finish();
    const report = await verify(model, bytes, { batchSizes: [7] });
    expect(report.ok).toBe(true);
    expect(report.cases[0].inputs).toBe('random inputs, batch 7');
    // a zero before a later non-zero id somewhere: not right-padded
    expect(seen[0].some((row) => row.some((v, t) => v === 0 && row.slice(t + 1).some((w) => w !== 0)))).toBe(true);
  });
});
