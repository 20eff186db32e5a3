/**
 * The normalization family in ONNX: each layer alone, exported at opsets 13, 17, 21 and 23 and run in
 * onnxruntime-node at batch 1, 7 and 256 (with the ops each opset should give), and the ONNX
 * project's own conformance cases for BatchNormalization, LayerNormalization and
 * GroupNormalization run through kiln's ops and layers against their expected outputs.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { onnx } from '../../onnx/proto.js';
import { expectParity, opTypes, randomizeWeights, reportErrors, single } from './harness.js';

const L = kiln.layers;
type Shape = (number | null)[];

interface Case {
  label: string;
  make: () => kiln.Layer;
  shape: Shape;
  /** The op that must appear, by opset; absent: the layer's ops are checked only for parity. */
  op?: (opset: number) => string | null;
  inputs?: (batch: number, seed: number) => kiln.Tensor[];
  /** Sets the weights itself (degenerate statistics); else they are random, variances positive. */
  setup?: (layer: kiln.Layer) => void;
}

const OPSETS = [13, 17, 21, 23];
const layerNormOp = (opset: number) => (opset >= 17 ? 'LayerNormalization' : null);
const rmsNormOp = (opset: number) => (opset >= 23 ? 'RMSNormalization' : null);
/**
 * Every sample a constant: its variance over the normalized axes is 0. The constants are
 * quarters (a few bits), so every mean of them is exact in float32: with a mean off by half an
 * ulp, x − mean / sqrt(0 + ε) would carry that ulp times 1/sqrt(ε) ≈ 32, and kiln and onnxruntime
 * would differ in how they round the mean, not in the ε path under test.
 */
const constantRows = (shape: number[]) => (batch: number, seed: number) => [
  kiln.tidy(() => {
    const quarters = kiln.ops.divide(kiln.ops.round(kiln.ops.multiply(kiln.random.normal([batch, ...shape.map(() => 1)], { seed }), 4)), 4);
    return kiln.ops.multiply(kiln.ones([batch, ...shape]), quarters);
  }),
];

const cases: Case[] = [
  { label: 'BatchNormalization', make: () => new L.BatchNormalization(), shape: [5] },
  { label: 'BatchNormalization axis 1 of rank 4', make: () => new L.BatchNormalization({ axis: 1 }), shape: [3, 4, 2] },
  { label: 'BatchNormalization channels last, rank 4', make: () => new L.BatchNormalization(), shape: [4, 2, 3] },
  { label: 'BatchNormalization without center and scale', make: () => new L.BatchNormalization({ center: false, scale: false }), shape: [4] },
  {
    label: 'BatchNormalization, a zero moving variance',
    make: () => new L.BatchNormalization({ epsilon: 1e-5 }),
    shape: [3],
    setup: (layer) => layer.setWeights([[1, 2, -1], [0, 0.5, 1], [1, -1, 2], [0, 4, 1e-3]]),
  },
  { label: 'LayerNormalization', make: () => new L.LayerNormalization(), shape: [6], op: layerNormOp },
  { label: 'LayerNormalization axis [1, 2]', make: () => new L.LayerNormalization({ axis: [1, 2] }), shape: [3, 4], op: layerNormOp },
  { label: 'LayerNormalization axis 1 of rank 3 (not trailing: decomposed)', make: () => new L.LayerNormalization({ axis: 1 }), shape: [3, 4] },
  { label: 'LayerNormalization without center and scale', make: () => new L.LayerNormalization({ center: false, scale: false }), shape: [5], op: layerNormOp },
  { label: 'LayerNormalization rmsScaling', make: () => new L.LayerNormalization({ rmsScaling: true }), shape: [5] },
  { label: 'LayerNormalization of constant samples', make: () => new L.LayerNormalization(), shape: [4], op: layerNormOp, inputs: constantRows([4]) },
  { label: 'LayerNormalization of one element', make: () => new L.LayerNormalization(), shape: [1], op: layerNormOp },
  { label: 'GroupNormalization', make: () => new L.GroupNormalization({ groups: 2 }), shape: [3, 6] },
  // two channels per group: where onnxruntime's own GroupNormalization op drifts past the tolerance
  { label: 'GroupNormalization rank 2', make: () => new L.GroupNormalization({ groups: 4 }), shape: [8] },
  { label: 'GroupNormalization instance (groups -1), rank 4', make: () => new L.GroupNormalization({ groups: -1 }), shape: [2, 3, 4] },
  { label: 'GroupNormalization channels first', make: () => new L.GroupNormalization({ groups: 3, axis: 1 }), shape: [6, 2, 2] },
  { label: 'GroupNormalization axis 2 of rank 4', make: () => new L.GroupNormalization({ groups: 2, axis: 2 }), shape: [3, 4, 2] },
  { label: 'GroupNormalization without center and scale', make: () => new L.GroupNormalization({ groups: 2, center: false, scale: false }), shape: [4] },
  { label: 'GroupNormalization of constant groups', make: () => new L.GroupNormalization({ groups: 1 }), shape: [2, 3], inputs: constantRows([2, 3]) },
  { label: 'RMSNormalization', make: () => new L.RMSNormalization(), shape: [6], op: rmsNormOp },
  { label: 'RMSNormalization axis [1, 2]', make: () => new L.RMSNormalization({ axis: [1, 2] }), shape: [3, 4], op: rmsNormOp },
  { label: 'RMSNormalization axis 1 of rank 3 (not trailing: decomposed)', make: () => new L.RMSNormalization({ axis: 1 }), shape: [3, 4] },
  { label: 'RMSNormalization of zeros', make: () => new L.RMSNormalization(), shape: [3], op: rmsNormOp, inputs: (batch) => [kiln.zeros([batch, 3])] },
  { label: 'UnitNormalization', make: () => new L.UnitNormalization(), shape: [5] },
  { label: 'UnitNormalization axis [1, 2]', make: () => new L.UnitNormalization({ axis: [1, 2] }), shape: [2, 3] },
  { label: 'UnitNormalization of zeros', make: () => new L.UnitNormalization(), shape: [3], inputs: (batch) => [kiln.zeros([batch, 3])] },
];

describe('normalization layers exported and run in onnxruntime-node', () => {
  beforeAll(() => kiln.setBackend('reference'));
  afterAll(reportErrors);

  for (const c of cases) {
    it.each(OPSETS)(`${c.label}, opset %i`, async (opset) => {
      kiln.setSeed(3);
      const layer = c.make();
      const model = single(layer, c.shape);
      if (c.setup) c.setup(layer);
      else randomizeWeights(model);
      const proto = await expectParity(model, { label: `${c.label} (opset ${opset})`, opset, batches: [1, 7, 256], inputs: c.inputs });
      const want = c.op?.(opset) ?? null;
      const ops = opTypes(proto);
      if (want) expect(ops).toContain(want);
      else expect(ops.filter((o) => o.endsWith('Normalization'))).toEqual([]);
    });
  }

  it('writes BatchNormalization as one Mul and one Add', async () => {
    const model = single(new L.BatchNormalization(), [4]);
    randomizeWeights(model);
    const proto = await expectParity(model, { label: 'BatchNormalization ops', batches: [2] });
    expect(opTypes(proto)).toEqual(['Mul', 'Add']);
  });
});

/** One case of ../shared/onnx-node-tests: its node, inputs and expected outputs, by name. */
interface NodeCase {
  name: string;
  attrs: Record<string, number>;
  inputs: kiln.Tensor[];
  expected: kiln.Tensor[];
}

const NODE_TESTS = new URL('../../../shared/onnx-node-tests/cases/', import.meta.url);

function tensorOf(file: URL): kiln.Tensor {
  const t = onnx.TensorProto.decode(readFileSync(file));
  const dims = t.dims.map(Number);
  if (t.dataType !== onnx.TensorProto.DataType.FLOAT) throw new Error(`${file.pathname}: expected float32 data, got type ${t.dataType}`);
  const raw = t.rawData && t.rawData.length ? t.rawData : null;
  const values = raw ? new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)) : Float32Array.from(t.floatData);
  return kiln.tensor(values, dims);
}

function readCase(name: string): NodeCase {
  const dir = new URL(`${name}/`, NODE_TESTS);
  const node = onnx.ModelProto.decode(readFileSync(new URL('model.onnx', dir))).graph!.node![0];
  const attrs = Object.fromEntries((node.attribute ?? []).map((a) => [a.name, a.type === onnx.AttributeProto.AttributeType.FLOAT ? a.f : Number(a.i)]));
  const data = new URL('test_data_set_0/', dir);
  const files = readdirSync(data);
  const read = (prefix: string) => files.filter((f) => f.startsWith(prefix)).sort().map((f) => tensorOf(new URL(f, data)));
  return { name, attrs, inputs: read('input_'), expected: read('output_') };
}

/** The cases of one family present in this copy of the suite (expanded variants share their data). */
function casesOf(prefix: string): string[] {
  if (!existsSync(NODE_TESTS)) return [];
  return readdirSync(NODE_TESTS).filter((n) => n.startsWith(prefix) && !n.includes('_expanded')).sort();
}

/** The suite's own criterion: |actual - expected| <= 1e-5 + 1e-3·|expected| per element. */
function expectMatches(where: string, actual: kiln.Tensor, expected: kiln.Tensor): void {
  expect([...actual.shape], `${where}: shape`).toEqual([...expected.shape]);
  const a = actual.dataSync();
  const e = expected.dataSync();
  for (let i = 0; i < e.length; i++) {
    if (!(Math.abs(a[i] - e[i]) <= 1e-5 + 1e-3 * Math.abs(e[i]))) expect.fail(`${where}: element ${i} is ${a[i]}, expected ${e[i]}`);
  }
}

/** NCHW to NHWC and back, for the channels-last forms. */
const toLast = (x: kiln.Tensor) => kiln.ops.moveaxis(x, 1, -1);
const toFirst = (x: kiln.Tensor) => kiln.ops.moveaxis(x, -1, 1);

describe('the ONNX conformance cases, through kiln', () => {
  beforeAll(() => kiln.setBackend('reference'));

  const batchNorm = casesOf('test_batchnorm_');
  if (!existsSync(NODE_TESTS)) console.log(`test/onnx/normalization: ${NODE_TESTS.pathname} not found (../shared is beside the repository): the ONNX node cases are skipped`);
  it.skipIf(!existsSync(NODE_TESTS))('finds the BatchNormalization and LayerNormalization cases', () => {
    expect(batchNorm.length).toBeGreaterThan(0);
    expect(casesOf('test_layer_normalization_').length).toBeGreaterThan(0);
  });

  it.each(batchNorm)('%s', (name) => kiln.tidy(() => {
    const { attrs, inputs: [x, scale, offset, mean, variance], expected } = readCase(name);
    const epsilon = attrs.epsilon ?? 1e-5;
    const momentum = attrs.momentum ?? 0.9;
    const layer = new L.BatchNormalization({ axis: 1, epsilon, momentum });
    layer.build([...x.shape]);
    layer.setWeights([scale, offset, mean, variance]);
    if (attrs.training_mode) {
      // the batch's statistics, and the moving ones folded toward them as ONNX and Keras both do
      expectMatches(`${name}: layer, training`, layer.apply(x, { training: true }), expected[0]);
      expectMatches(`${name}: moving mean`, layer.movingMean!.value, expected[1]);
      expectMatches(`${name}: moving variance`, layer.movingVariance!.value, expected[2]);
      const [m, v] = kiln.ops.moments(x, [0, 2, 3]);
      expectMatches(`${name}: op`, kiln.ops.batchNormalization(x, m, v, 1, { scale, offset, epsilon }), expected[0]);
      return;
    }
    expectMatches(`${name}: op, axis 1`, kiln.ops.batchNormalization(x, mean, variance, 1, { scale, offset, epsilon }), expected[0]);
    expectMatches(`${name}: op, channels last`, toFirst(kiln.ops.batchNormalization(toLast(x), mean, variance, -1, { scale, offset, epsilon })), expected[0]);
    expectMatches(`${name}: layer, inference`, layer.apply(x), expected[0]);
  }));

  it.each(casesOf('test_layer_normalization_'))('%s', (name) => kiln.tidy(() => {
    const { attrs, inputs: [x, gamma, beta], expected: [y, mean, invStd] } = readCase(name);
    const rank = x.rank;
    const first = (attrs.axis ?? -1) < 0 ? (attrs.axis ?? -1) + rank : attrs.axis;
    const axis = Array.from({ length: rank - first }, (_, i) => first + i);
    const epsilon = attrs.epsilon ?? 1e-5;
    expectMatches(`${name}: op`, kiln.ops.layerNormalization(x, { gamma, beta, axis, epsilon }), y);
    const layer = new L.LayerNormalization({ axis, epsilon });
    layer.build([...x.shape]);
    layer.setWeights([kiln.ops.reshape(gamma, axis.map((a) => x.shape[a])), kiln.ops.reshape(beta, axis.map((a) => x.shape[a]))]);
    expectMatches(`${name}: layer`, layer.apply(x), y);
    // the op's other outputs: the statistics kiln normalizes with
    const [m, v] = kiln.ops.moments(x, axis, { keepdims: true });
    expectMatches(`${name}: mean`, m, mean);
    expectMatches(`${name}: inverse standard deviation`, kiln.ops.rsqrt(kiln.ops.add(v, epsilon)), invStd);
  }));

  const groupNorm = casesOf('test_group_normalization_');
  // this copy of the suite holds none today (kept aside for acceptance checks): they run when present
  if (!groupNorm.length) it.skip('GroupNormalization cases: none in this copy of the suite', () => {});
  it.each(groupNorm)('%s', (name) => kiln.tidy(() => {
    const { attrs, inputs: [x, scale, bias], expected: [y] } = readCase(name);
    const channels = x.shape[1];
    const groups = attrs.num_groups;
    // opset 18's form has one scale and bias per group: each channel takes its group's
    const perChannel = (v: kiln.Tensor) => (v.shape[0] === channels ? v : kiln.ops.repeat(v, channels / groups, 0));
    const epsilon = attrs.epsilon ?? 1e-5;
    const layer = new L.GroupNormalization({ groups, axis: 1, epsilon });
    layer.build([...x.shape]);
    layer.setWeights([perChannel(scale), perChannel(bias)]);
    expectMatches(`${name}: layer, channels first`, layer.apply(x), y);
    const last = new L.GroupNormalization({ groups, epsilon });
    last.build([...toLast(x).shape]);
    last.setWeights(layer.getWeights());
    expectMatches(`${name}: layer, channels last`, toFirst(last.apply(toLast(x))), y);
  }));
});
