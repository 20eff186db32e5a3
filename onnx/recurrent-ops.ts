/**
 * ONNX's RNN, LSTM and GRU ops written from kiln's SimpleRNNCell, LSTMCell and GRUCell, for the
 * rows of layers/recurrent.ts: Keras's weights converted as they are written (kernel
 * [features, k·units] → W [directions, k·units, features], ONNX's gate order), its activations by
 * ONNX's names, and the layouts between Keras's [batch, time, …] and ONNX's time-major ones.
 */
import type { DType, TypedArray } from '../backends/contract.js';
import { fail } from '../src/errors.js';
import { serializeActivation, type ActivationFn } from '../src/activations.js';
import type { Variable } from '../src/variable.js';
import type { Layer } from '../layers/layer.js';
import { GRUCell } from '../layers/recurrent/gru-cell.js';
import { LSTMCell } from '../layers/recurrent/lstm-cell.js';
import { SimpleRNNCell } from '../layers/recurrent/simple-rnn-cell.js';
import type { GraphBuilder, Value } from './builder.js';
import { INT64_MIN, elemType, floats, int, ints, str, strs } from './proto.js';

export type FixedCell = SimpleRNNCell | LSTMCell | GRUCell;

/** ONNX's op for a cell, and where each of its gates sits in Keras's weights. */
export interface OpSpec {
  op: 'RNN' | 'LSTM' | 'GRU';
  /** ONNX gate j is Keras gate order[j]: LSTM is i, o, f, c in ONNX and i, f, c, o in Keras; GRU's z, r, h agree. */
  order: readonly number[];
  /** The op's state outputs: Y_h, and Y_c for LSTM. */
  states: number;
}

export function specOf(cell: FixedCell): OpSpec {
  if (cell instanceof LSTMCell) return { op: 'LSTM', order: [0, 3, 1, 2], states: 2 };
  if (cell instanceof GRUCell) return { op: 'GRU', order: [0, 1, 2], states: 1 };
  return { op: 'RNN', order: [0], states: 1 };
}

/** The cell, if its class is exactly one of kiln's three: a subclass may step differently. */
export function fixedCell(cell: unknown): FixedCell | null {
  const proto = cell === null || typeof cell !== 'object' ? null : Object.getPrototypeOf(cell);
  return proto === SimpleRNNCell.prototype || proto === LSTMCell.prototype || proto === GRUCell.prototype ? (cell as FixedCell) : null;
}

interface OnnxActivation {
  name: string;
  alpha?: number;
  beta?: number;
}

/**
 * Keras's activations as the recurrent ops name them. hard_sigmoid is Keras 3's relu6(x + 3) / 6,
 * that is clip(x/6 + 1/2, 0, 1): ONNX's HardSigmoid max(0, min(1, alpha·x + beta)) with alpha 1/6
 * and beta 1/2 (ONNX's defaults, 0.2 and 0.5, are Keras 2's). linear is Affine with alpha 1, beta 0.
 */
const RECURRENT_ACTIVATIONS: Record<string, OnnxActivation> = {
  tanh: { name: 'Tanh' },
  sigmoid: { name: 'Sigmoid' },
  relu: { name: 'Relu' },
  hard_sigmoid: { name: 'HardSigmoid', alpha: 1 / 6, beta: 0.5 },
  linear: { name: 'Affine', alpha: 1, beta: 0 },
  softsign: { name: 'Softsign' },
  softplus: { name: 'Softplus' },
  elu: { name: 'Elu', alpha: 1 },
  leaky_relu: { name: 'LeakyRelu', alpha: 0.2 },
};

/** The activation's Keras id, or null for a function of the user's own. */
export function activationId(fn: ActivationFn): string | null {
  try {
    return serializeActivation(fn);
  } catch {
    return null;
  }
}

function onnxActivation(layer: Layer, option: string, fn: ActivationFn): OnnxActivation {
  const id = activationId(fn);
  const known = id === null ? undefined : RECURRENT_ACTIVATIONS[id];
  if (!known) {
    fail('onnx export', `layer '${layer.name}' (${layer.className}): ${option} ${id === null ? 'is a function of your own' : `'${id}'`}, which ONNX's recurrent ops do not take; they take ${Object.keys(RECURRENT_ACTIVATIONS).join(', ')}`);
  }
  return known;
}

/**
 * The op's activation attributes, ONNX's order per direction: RNN f; LSTM f, g, h (gates, cell,
 * output); GRU f, g. onnxruntime reads activation_alpha and activation_beta in order for the
 * functions that take them, so the lists hold only those functions' values.
 */
function activationAttrs(layer: Layer, cells: readonly FixedCell[], spec: OpSpec) {
  const all = cells.flatMap((cell) => {
    const gate = 'recurrentActivation' in cell ? [onnxActivation(layer, 'recurrentActivation', cell.recurrentActivation)] : [];
    const act = onnxActivation(layer, 'activation', cell.activation);
    return spec.op === 'LSTM' ? [...gate, act, act] : [...gate, act];
  });
  const alphas = all.filter((a) => a.alpha !== undefined).map((a) => a.alpha!);
  const betas = all.filter((a) => a.beta !== undefined).map((a) => a.beta!);
  return {
    activations: strs(all.map((a) => a.name)),
    ...(alphas.length ? { activation_alpha: floats(alphas) } : {}),
    ...(betas.length ? { activation_beta: floats(betas) } : {}),
  };
}

const like = (v: TypedArray, n: number): TypedArray => new (v.constructor as new (n: number) => TypedArray)(n);

/**
 * [rows, k·units] (Keras's kernel layout, gates side by side) → [k·units, rows], ONNX's gate order:
 * ONNX row j·units + u is Keras column order[j]·units + u.
 */
function gatesTransposed(order: readonly number[], units: number) {
  return (v: TypedArray): TypedArray => {
    const cols = order.length * units;
    const rows = v.length / cols;
    const out = like(v, v.length);
    order.forEach((g, j) => {
      for (let u = 0; u < units; u++) for (let r = 0; r < rows; r++) out[(j * units + u) * rows + r] = v[r * cols + g * units + u];
    });
    return out;
  };
}

/** Keras's bias as ONNX's B [Wb, Rb]: GRU with resetAfter keeps both its rows; the others have no Rb (zeros). */
function biasTransform(cell: FixedCell, order: readonly number[], units: number) {
  return (v: TypedArray): TypedArray => {
    const out = like(v, 2 * order.length * units);
    if (cell instanceof GRUCell && cell.resetAfter) {
      out.set(v);
      return out;
    }
    order.forEach((g, j) => out.set(v.subarray(g * units, (g + 1) * units), j * units));
    return out;
  };
}

/** W, R and B of one direction, [1, …] each (B null without a bias). */
function directionWeights(b: GraphBuilder, cell: FixedCell, spec: OpSpec): [string, string, string | null] {
  const u = cell.units;
  const k = spec.order.length * u;
  const w = b.weight(cell.kernel as Variable, { suffix: 'onnx_W', dims: [1, k, cell.kernel!.shape[0]], transform: gatesTransposed(spec.order, u) });
  const r = b.weight(cell.recurrentKernel as Variable, { suffix: 'onnx_R', dims: [1, k, u], transform: gatesTransposed(spec.order, u) });
  const bias = cell.bias ? b.weight(cell.bias, { suffix: 'onnx_B', dims: [1, 2 * k], transform: biasTransform(cell, spec.order, u) }) : null;
  return [w, r, bias];
}

/** Reverses axis 1 of [batch, time, …], whatever time is at run time. */
export const flipTime = (b: GraphBuilder, y: string): string =>
  b.op('Slice', [y, b.int64s([-1], 'starts'), b.int64s([INT64_MIN], 'ends'), b.int64s([1], 'axes'), b.int64s([-1], 'steps')]);

/** The number of true steps of each sample of a [batch, time] mask, as sequence_lens takes it (int32 [batch]). */
export function sequenceLengths(b: GraphBuilder, mask: Value): string {
  const m = mask.shape.length === 3 ? b.op('Squeeze', [mask.name, b.int64s([2], 'axes')]) : mask.name;
  return b.reduce('ReduceSum', b.op('Cast', [m], { to: int(elemType('int32')) }), [1], false);
}

/** ONNX's optional inputs, '' for the ones left out, the trailing ones dropped. */
function optionalInputs(list: readonly (string | null)[]): string[] {
  const out = list.map((x) => x ?? '');
  while (out.length && out[out.length - 1] === '') out.pop();
  return out;
}

export interface OpCall {
  /** Names the layer in errors. */
  layer: Layer;
  /** One cell per direction, of one class, units and options (the caller checks). */
  cells: readonly FixedCell[];
  direction: 'forward' | 'reverse' | 'bidirectional';
  /** The input, [batch, time, features] in any dtype. */
  x: Value;
  dtype: DType;
  /** sequence_lens, int32 [batch]. */
  lengths: string | null;
  /** Per state (h, then c), [batch, units] per direction, or null for zeros. */
  initial: readonly (readonly Value[] | null)[];
}

/** Writes the op; returns Y [time, directions, batch, units] and the final states [directions, batch, units]. */
export function recurrentOp(b: GraphBuilder, c: OpCall): { y: string; states: string[] } {
  const cell = c.cells[0];
  const spec = specOf(cell);
  const per = c.cells.map((one) => directionWeights(b, one, spec));
  const joined = (k: 0 | 1 | 2): string | null => {
    const names = per.map((p) => p[k]);
    if (names.some((n) => n === null)) return null;
    return names.length === 1 ? names[0] : b.op('Concat', names as string[], { axis: int(0) });
  };
  const cast = c.x.dtype === c.dtype ? c.x.name : b.op('Cast', [c.x.name], { to: int(elemType(c.dtype)) });
  const x = b.op('Transpose', [cast], { perm: ints([1, 0, 2]) });
  const initial = c.initial.map((states) => {
    if (!states) return null;
    const lifted = states.map((s) => b.unsqueeze(s.dtype === c.dtype ? s.name : b.op('Cast', [s.name], { to: int(elemType(c.dtype)) }), [0]));
    return lifted.length === 1 ? lifted[0] : b.op('Concat', lifted, { axis: int(0) });
  });
  const attrs = {
    hidden_size: int(cell.units),
    direction: str(c.direction),
    ...activationAttrs(c.layer, c.cells, spec),
    ...(cell instanceof GRUCell ? { linear_before_reset: int(cell.resetAfter ? 1 : 0) } : {}),
  };
  const inputs = optionalInputs([x, joined(0), joined(1), joined(2), c.lengths, initial[0] ?? null, initial[1] ?? null]);
  const [y, ...states] = b.node(spec.op, inputs, attrs, 1 + spec.states);
  return { y, states };
}
