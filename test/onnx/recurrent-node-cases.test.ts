/**
 * The ONNX project's conformance cases for RNN, LSTM and GRU (../shared/onnx-node-tests), through
 * kiln's SimpleRNN, LSTM and GRU: each case's weights moved into Keras's layout and gate order by a
 * loop written here, set on a kiln layer, and its outputs compared with the case's expected ones.
 * Skipped, saying why, where ../shared is absent.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { onnx } from '../../onnx/proto.js';

const L = kiln.layers;

const NODE_TESTS = new URL('../../../shared/onnx-node-tests/cases/', import.meta.url);

function tensorOf(file: URL): { dims: number[]; values: Float32Array } {
  const t = onnx.TensorProto.decode(readFileSync(file));
  if (t.dataType !== onnx.TensorProto.DataType.FLOAT) throw new Error(`${file.pathname}: expected float32 data, got type ${t.dataType}`);
  const raw = t.rawData && t.rawData.length ? t.rawData : null;
  const values = raw ? new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)) : Float32Array.from(t.floatData);
  return { dims: t.dims.map(Number), values };
}

/** A case's node attributes, its inputs by the node's input names, and its outputs by the node's output names. */
function readCase(name: string) {
  const dir = new URL(`${name}/`, NODE_TESTS);
  const node = onnx.ModelProto.decode(readFileSync(new URL('model.onnx', dir))).graph!.node![0];
  const attrs = Object.fromEntries((node.attribute ?? []).map((a) => [a.name, Number(a.i)]));
  const data = new URL('test_data_set_0/', dir);
  const files = readdirSync(data).sort();
  const named = (prefix: string, names: string[]) => Object.fromEntries(files.filter((f) => f.startsWith(prefix)).map((f, i) => [names.filter((n) => n)[i], tensorOf(new URL(f, data))]));
  return { attrs, inputs: named('input_', node.input ?? []), outputs: named('output_', node.output ?? []) };
}

/** ONNX's W or R [1, k·units, rows] (ONNX gate order) as Keras's kernel [rows, k·units] (Keras's), by a direct loop. */
function kerasKernel({ dims: [, ku, rows], values }: { dims: number[]; values: Float32Array }, order: number[]): number[][] {
  const units = ku / order.length;
  const out = Array.from({ length: rows }, () => new Array<number>(ku).fill(0));
  order.forEach((g, j) => {
    for (let u = 0; u < units; u++) for (let r = 0; r < rows; r++) out[r][g * units + u] = values[(j * units + u) * rows + r];
  });
  return out;
}

/** B [1, 2·k·units] as one Keras bias: Wb + Rb, which add outside every gate's reset (linear_before_reset 0). */
function kerasBias(b: { values: Float32Array } | undefined, order: number[], units: number): number[] {
  const k = order.length * units;
  const out = new Array<number>(k).fill(0);
  if (b) order.forEach((g, j) => { for (let u = 0; u < units; u++) out[g * units + u] = b.values[j * units + u] + b.values[k + j * units + u]; });
  return out;
}

/**
 * Each op's kiln layer, and ONNX gate j's place in Keras's order (LSTM: ONNX i, o, f, c; Keras i, f,
 * c, o). The LSTM cases fill every weight with one value, so they cannot see the gate order: the
 * parity tests above, with random weights, do.
 */
const OPS: Record<string, { make: (units: number) => kiln.Layer; order: number[] }> = {
  LSTM: { make: (u) => new L.LSTM(u, { returnSequences: true, returnState: true }), order: [0, 3, 1, 2] },
  GRU: { make: (u) => new L.GRU(u, { resetAfter: false, returnSequences: true, returnState: true }), order: [0, 1, 2] },
  RNN: { make: (u) => new L.SimpleRNN(u, { returnSequences: true, returnState: true }), order: [0] },
};

/** The suite's own criterion: |actual - expected| <= 1e-5 + 1e-3·|expected| per element. */
function expectMatches(where: string, actual: ArrayLike<number>, expected: Float32Array): void {
  expect(actual.length, `${where}: size`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= 1e-5 + 1e-3 * Math.abs(expected[i]))) expect.fail(`${where}: element ${i} is ${actual[i]}, expected ${expected[i]}`);
  }
}

const CASES: [name: string, op: string][] = [
  ['test_lstm_defaults', 'LSTM'], ['test_lstm_batchwise', 'LSTM'], ['test_gru_defaults', 'GRU'], ['test_gru_seq_length', 'GRU'],
  ['test_gru_with_initial_bias', 'GRU'], ['test_simple_rnn_batchwise', 'RNN'], ['test_simple_rnn_with_initial_bias', 'RNN'], ['test_rnn_seq_length', 'RNN'],
];

describe('the ONNX conformance cases for RNN, LSTM and GRU, through kiln', () => {
  beforeAll(() => kiln.setBackend('reference'));
  const present = existsSync(NODE_TESTS);
  if (!present) console.log(`test/onnx/recurrent-node-cases: ${NODE_TESTS.pathname} not found (../shared is beside the repository): the ONNX node cases are skipped`);

  it.skipIf(!present).each(CASES)('%s', (name, op) => kiln.tidy(() => {
    const { attrs, inputs, outputs } = readCase(name);
    const { make, order } = OPS[op];
    const units = attrs.hidden_size;
    const batchwise = attrs.layout === 1;
    const [d0, d1, features] = inputs.X.dims;
    const x = kiln.tensor(inputs.X.values, [d0, d1, features]);
    // Keras reads [batch, time, features]; ONNX's default layout is [time, batch, features]
    const sequence = batchwise ? x : kiln.ops.transpose(x, [1, 0, 2]);
    const layer = make(units);
    layer.build([...sequence.shape]);
    layer.setWeights([kerasKernel(inputs.W, order), kerasKernel(inputs.R, order), kerasBias(inputs.B, order, units)]);
    const [y, h] = layer.apply(sequence) as unknown as kiln.Tensor[];
    // Y_h is [1, batch, units] ([batch, 1, units] batchwise): the same values as kiln's [batch, units]
    expectMatches(`${name}: Y_h`, h.dataSync(), outputs.Y_h.values);
    // Y is [batch, time, 1, units] batchwise: kiln's [batch, time, units] in the same order
    if (outputs.Y) expectMatches(`${name}: Y`, y.dataSync(), outputs.Y.values);
  }));

  // Keras's LSTM has no peephole weights (P), so no kiln layer computes this case
  it.skip('test_lstm_with_peepholes: Keras has no peepholes', () => {});
});
