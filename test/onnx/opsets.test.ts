/**
 * Every opset from 13 to the newest onnxruntime-node loads: the rows that change with the
 * opset (Gelu, HardSwish, Mish, reductions whose axes became an input in 18) give the same
 * numbers in each.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { MAX_OPSET, MIN_OPSET } from '../../onnx/index.js';
import { expectParity, opTypes, randomizeWeights, reportErrors } from './harness.js';

const L = kiln.layers;
const { ops } = kiln;

function model(): kiln.Model {
  const x = kiln.Input({ shape: [12] });
  let h = new L.Dense(12, { activation: 'gelu' }).apply(x);
  h = new L.Activation('hard_silu').apply(h);
  h = new L.Activation('mish').apply(h);
  h = new L.Normalization().apply(h);
  const grid = new L.Reshape([3, 4]).apply(h);
  const soft = new L.Softmax({ axis: [1, 2] }).apply(grid);
  const stats = new L.Lambda((t) => ops.concatenate([
    ops.max(t, 2), ops.min(t, 2), ops.prod(ops.add(t, 1), 2), ops.mean(t, 2), ops.cast(ops.argmin(t, 2), 'float32'),
  ], 1)).apply(soft);
  const out = new L.Dense(2).apply(new L.Concatenate().apply([stats, new L.Flatten().apply(soft)] as never));
  const m = new kiln.Model({ inputs: x, outputs: out as never });
  randomizeWeights(m);
  return m;
}

describe('every opset from 13 to 26', () => {
  beforeAll(() => kiln.setBackend('reference'));
  afterAll(reportErrors);

  for (let opset = MIN_OPSET; opset <= MAX_OPSET; opset++) {
    it(`opset ${opset}`, async () => {
      const proto = await expectParity(model(), { label: `opset sweep model (opset ${opset})`, opset, batches: [1, 5, 64] });
      const ops = opTypes(proto);
      expect(ops.includes('Gelu')).toBe(opset >= 20);
      expect(ops.includes('HardSwish')).toBe(opset >= 14);
      expect(ops.includes('Mish')).toBe(opset >= 18);
    });
  }
});
