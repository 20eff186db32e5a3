/**
 * Rows of layers/recurrent/. SimpleRNN, LSTM and GRU (and an RNN of one of their cells) become
 * ONNX's RNN, LSTM and GRU ops, whose time axis is dynamic: Keras's weights are converted as they
 * are written (kernel [features, k·units] → W [1, k·units, features], gates reordered), the input
 * and outputs transposed between Keras's [batch, time, …] and ONNX's [time, …, batch, …]. A mask
 * becomes the op's `sequence_lens`, the number of true steps of each sample: exact for masks that
 * are true up to a point and false after (right padding), which the graph cannot check (docs/onnx.md).
 * An RNN of any other cell is traced, which needs a fixed sequence length. TimeDistributed folds
 * time into the batch around its layer's own row.
 */
import type { TypedArray } from '../../backends/contract.js';
import { fail } from '../../src/errors.js';
import { serializeActivation, type ActivationFn } from '../../src/activations.js';
import type { SymbolicTensor } from '../../src/symbolic.js';
import type { Variable } from '../../src/variable.js';
import type { Layer } from '../../layers/layer.js';
import { GRU } from '../../layers/recurrent/gru.js';
import { GRUCell } from '../../layers/recurrent/gru-cell.js';
import { LSTM } from '../../layers/recurrent/lstm.js';
import { LSTMCell } from '../../layers/recurrent/lstm-cell.js';
import { RNN } from '../../layers/recurrent/rnn.js';
import { SimpleRNN } from '../../layers/recurrent/simple-rnn.js';
import { SimpleRNNCell } from '../../layers/recurrent/simple-rnn-cell.js';
import { TimeDistributed } from '../../layers/recurrent/time-distributed.js';
import type { GraphBuilder, Value } from '../builder.js';
import { INT64_MAX, INT64_MIN, elemType, floats, int, ints, str, strs } from '../proto.js';
import { row, type LayerArgs, type RowEntry } from './row.js';

type FixedCell = SimpleRNNCell | LSTMCell | GRUCell;

/** ONNX's op for a cell, and where each of its gates sits in Keras's weights. */
interface OpSpec {
  op: 'RNN' | 'LSTM' | 'GRU';
  /** ONNX gate j is Keras gate order[j]: LSTM is i, o, f, c in ONNX and i, f, c, o in Keras; GRU's z, r, h agree. */
  order: readonly number[];
  states: number;
}

function specOf(cell: FixedCell): OpSpec {
  if (cell instanceof LSTMCell) return { op: 'LSTM', order: [0, 3, 1, 2], states: 2 };
  if (cell instanceof GRUCell) return { op: 'GRU', order: [0, 1, 2], states: 1 };
  return { op: 'RNN', order: [0], states: 1 };
}

/** The cell's class exactly: a subclass may step differently, so it is traced. */
function fixedCell(cell: unknown): FixedCell | null {
  const proto = cell === null || typeof cell !== 'object' ? null : Object.getPrototypeOf(cell);
  return proto === SimpleRNNCell.prototype || proto === LSTMCell.prototype || proto === GRUCell.prototype ? (cell as FixedCell) : null;
}

/**
 * Keras's activations as the recurrent ops name them. hard_sigmoid is Keras 3's relu6(x + 3) / 6,
 * that is clip(x/6 + 1/2, 0, 1): ONNX's HardSigmoid max(0, min(1, alpha·x + beta)) with alpha 1/6
 * and beta 1/2 (ONNX's defaults, 0.2 and 0.5, are Keras 2's). linear is Affine with alpha 1, beta 0.
 */
const RECURRENT_ACTIVATIONS: Record<string, { name: string; alpha?: number; beta?: number }> = {
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

function activationName(layer: Layer, option: string, fn: ActivationFn): { name: string; alpha?: number; beta?: number } {
  let id: string | null = null;
  try {
    id = serializeActivation(fn);
  } catch {
    id = null;
  }
  const known = id === null ? undefined : RECURRENT_ACTIVATIONS[id];
  if (!known) {
    fail('onnx export', `layer '${layer.name}' (${layer.className}): ${option} ${id === null ? 'is a function of your own' : `'${id}'`}, which ONNX's recurrent ops do not take; they take ${Object.keys(RECURRENT_ACTIVATIONS).join(', ')}`);
  }
  return known;
}

/**
 * The op's activation attributes, ONNX's order: RNN f; LSTM f, g, h (gates, cell, output); GRU
 * f, g. onnxruntime reads activation_alpha and activation_beta in order for the functions that
 * take them, so the lists hold only those functions' values.
 */
function activationAttrs(layer: Layer, cell: FixedCell, spec: OpSpec, directions: number) {
  const gate = 'recurrentActivation' in cell ? [activationName(layer, 'recurrentActivation', cell.recurrentActivation)] : [];
  const act = activationName(layer, 'activation', cell.activation);
  const one = spec.op === 'LSTM' ? [...gate, act, act] : [...gate, act];
  const all = Array.from({ length: directions }, () => one).flat();
  const alphas = all.filter((a) => a.alpha !== undefined).map((a) => a.alpha!);
  const betas = all.filter((a) => a.beta !== undefined).map((a) => a.beta!);
  return {
    activations: strs(all.map((a) => a.name)),
    ...(alphas.length ? { activation_alpha: floats(alphas) } : {}),
    ...(betas.length ? { activation_beta: floats(betas) } : {}),
  };
}

/**
 * [rows, k·units] (Keras's kernel layout, gates side by side) → [k·units, rows], ONNX's gate order:
 * ONNX row j·units + u is Keras column order[j]·units + u.
 */
function gatesTransposed(order: readonly number[], units: number) {
  return (v: TypedArray): TypedArray => {
    const cols = order.length * units;
    const rows = v.length / cols;
    const out = new (v.constructor as new (n: number) => TypedArray)(v.length);
    order.forEach((g, j) => {
      for (let u = 0; u < units; u++) for (let r = 0; r < rows; r++) out[(j * units + u) * rows + r] = v[r * cols + g * units + u];
    });
    return out;
  };
}

/** Keras's bias in ONNX's B [Wb, Rb]: GRU with resetAfter keeps both rows; the others have no Rb. */
function biasTransform(cell: FixedCell, order: readonly number[], units: number) {
  return (v: TypedArray): TypedArray => {
    const k = order.length * units;
    const out = new (v.constructor as new (n: number) => TypedArray)(2 * k);
    if (cell instanceof GRUCell && cell.resetAfter) {
      out.set(v);
      return out;
    }
    order.forEach((g, j) => out.set(v.subarray(g * units, (g + 1) * units), j * units));
    return out;
  };
}

/** W, R and B of one direction, [1, …] each (B absent without a bias). */
function directionWeights(b: GraphBuilder, cell: FixedCell, spec: OpSpec): { w: string; r: string; bias: string | null } {
  const u = cell.units;
  const k = spec.order.length * u;
  const features = cell.kernel!.shape[0];
  const w = b.weight(cell.kernel as Variable, { suffix: 'onnx_W', dims: [1, k, features], transform: gatesTransposed(spec.order, u) });
  const r = b.weight(cell.recurrentKernel as Variable, { suffix: 'onnx_R', dims: [1, k, u], transform: gatesTransposed(spec.order, u) });
  const bias = cell.bias ? b.weight(cell.bias, { suffix: 'onnx_B', dims: [1, 2 * k], transform: biasTransform(cell, spec.order, u) }) : null;
  return { w, r, bias };
}

/** Reverses axis 1 of [batch, time, …], whatever time is at run time. */
export const flipTime = (b: GraphBuilder, y: string): string =>
  b.op('Slice', [y, b.int64s([-1], 'starts'), b.int64s([INT64_MIN], 'ends'), b.int64s([1], 'axes'), b.int64s([-1], 'steps')]);

/** The number of true steps of each sample of a [batch, time] mask, as sequence_lens takes it (int32 [batch]). */
function sequenceLengths(b: GraphBuilder, mask: Value): string {
  const m = mask.shape.length === 3 ? b.op('Squeeze', [mask.name, b.int64s([2], 'axes')]) : mask.name;
  return b.reduce('ReduceSum', b.op('Cast', [m], { to: int(elemType('int32')) }), [1], false);
}

/** The layer's input in its dtype and ONNX's layout, [time, batch, features]. */
function timeMajor(b: GraphBuilder, x: Value, dtype: string): string {
  const cast = x.dtype === dtype ? x.name : b.op('Cast', [x.name], { to: int(elemType(dtype as Value['dtype'])) });
  return b.op('Transpose', [cast], { perm: ints([1, 0, 2]) });
}

/** ONNX's optional inputs, '' for the ones left out, the trailing ones dropped. */
function optionalInputs(list: readonly (string | null)[]): string[] {
  const out = list.map((x) => x ?? '');
  while (out.length && out[out.length - 1] === '') out.pop();
  return out;
}

/** Where the call's initial states are: after the layer's own input (call-options.ts). */
const initialStates = (inputs: readonly Value[]): Value[] => inputs.slice(1);

function checkExportable(layer: RNN): void {
  if (layer.stateful) {
    fail('onnx export', `layer '${layer.name}' (${layer.className}) is stateful: its states carry from one call to the next, which an ONNX file cannot hold. Export a copy made with stateful: false (the same config and weights) and pass the states as initialState inputs`);
  }
}

/** SimpleRNN, LSTM, GRU, or an RNN of one of their cells, as one ONNX op run over time in one direction. */
function emitRecurrent(args: LayerArgs<RNN>): string[] {
  const { b, layer, inputs, masks } = args;
  checkExportable(layer);
  const cell = fixedCell(layer.cell);
  if (!cell) return traceCustom(args);
  const spec = specOf(cell);
  const x = inputs[0];
  const mask = masks?.[0] ?? null;
  const { w, r, bias } = directionWeights(b, cell, spec);
  const lens = mask ? sequenceLengths(b, mask) : null;
  const given = initialStates(inputs).map((s) => b.unsqueeze(s.name, [0]));
  const attrs = {
    hidden_size: int(cell.units),
    direction: str(layer.goBackwards ? 'reverse' : 'forward'),
    ...activationAttrs(layer, cell, spec, 1),
    ...(spec.op === 'GRU' ? { linear_before_reset: int((cell as GRUCell).resetAfter ? 1 : 0) } : {}),
  };
  const ins = optionalInputs([timeMajor(b, x, layer.dtype), w, r, bias, lens, given[0] ?? null, given[1] ?? null]);
  const [y, ...states] = b.node(spec.op, ins, attrs, 1 + spec.states);
  const finals = states.map((s) => b.op('Squeeze', [s, b.int64s([0], 'axes')]));
  return [returned(b, layer, y, finals[0], mask), ...(layer.returnState ? finals : [])];
}

/**
 * The layer's output from the op's: Y [time, 1, batch, units] as Keras's [batch, time, units], in
 * the order the steps ran (reversed going backwards), or the last output, which is the final h.
 */
function returned(b: GraphBuilder, layer: RNN, y: string, h: string, mask: Value | null): string {
  if (!layer.returnSequences) return h;
  let out = b.op('Transpose', [b.op('Squeeze', [y, b.int64s([1], 'axes')])], { perm: ints([1, 0, 2]) });
  if (layer.goBackwards) return flipTime(b, out);
  // the op gives zeros past a sample's length; Keras repeats the last output there unless zeroOutputForMask
  if (mask && !layer.zeroOutputForMask) {
    const keep = mask.shape.length === 3 ? mask.name : b.unsqueeze(mask.name, [2]);
    out = b.op('Where', [keep, out, b.unsqueeze(h, [1])]);
  }
  return out;
}

/**
 * An RNN of another cell: no ONNX op describes it, so its loop is traced step by step, which needs
 * a fixed sequence length, and a loop that runs on symbolic tensors of unknown batch.
 */
function traceCustom({ layer, inputs, trace }: LayerArgs<RNN>): string[] {
  const cell = layer.cell as { className?: string; constructor?: { name?: string } };
  const where = `layer '${layer.name}' (${layer.className}) runs the cell ${cell.className ?? cell.constructor?.name ?? 'of your own'}, which no ONNX op describes`;
  const instead = 'use SimpleRNN, LSTM or GRU (or an RNN of their cells), which export as ONNX ops with a dynamic sequence length';
  if (inputs[0].shape[1] === null) {
    fail('onnx export', `${where}, and is traced one step at a time, so it needs a fixed sequence length: give the Input a fixed time axis (kiln.Input({ shape: [steps, features] })), or ${instead}`);
  }
  try {
    return trace();
  } catch (error) {
    fail('onnx export', `${where}, and tracing its loop failed (${error instanceof Error ? error.message : String(error)}): ${instead}`);
  }
}

/**
 * TimeDistributed: [batch, time, …] → [batch·time, …], the wrapped layer's row (or its trace),
 * and back, batch and time read from the input at run time.
 */
function emitTimeDistributed({ b, layer, inputs: [x], trace }: LayerArgs<TimeDistributed>): string[] {
  const shape = b.op('Shape', [x.name]);
  const tail = (s: string, from: number) => b.op('Slice', [s, b.int64s([from], 'starts'), b.int64s([INT64_MAX], 'ends')]);
  const folded = b.op('Reshape', [x.name, b.op('Concat', [b.int64s([-1]), tail(shape, 2)], { axis: int(0) })]);
  const step: Value = { name: folded, dtype: x.dtype, shape: [null, ...x.shape.slice(2)] };
  const [y] = trace(([s]) => layer.layer.apply(s as SymbolicTensor), [step]);
  const batchTime = b.op('Slice', [shape, b.int64s([0], 'starts'), b.int64s([2], 'ends')]);
  return [b.op('Reshape', [y, b.op('Concat', [batchTime, tail(b.op('Shape', [y]), 1)], { axis: int(0) })])];
}

/** A cell applied alone takes one step from zero states: the op over a sequence of one step, its final h. */
function emitCell({ b, layer, inputs: [x] }: LayerArgs<FixedCell>): string[] {
  const spec = specOf(layer);
  const { w, r, bias } = directionWeights(b, layer, spec);
  const cast = x.dtype === layer.dtype ? x.name : b.op('Cast', [x.name], { to: int(elemType(layer.dtype)) });
  const attrs = {
    hidden_size: int(layer.units),
    ...activationAttrs(layer, layer, spec, 1),
    ...(spec.op === 'GRU' ? { linear_before_reset: int((layer as GRUCell).resetAfter ? 1 : 0) } : {}),
  };
  const [, h] = b.node(spec.op, optionalInputs([b.unsqueeze(cast, [0]), w, r, bias]), attrs, 2);
  return [b.op('Squeeze', [h, b.int64s([0], 'axes')])];
}

/** The fixed cells write their masks as sequence_lens; another cell's mask is traced with it. */
const ownMasks = (layer: RNN): boolean => fixedCell(layer.cell) !== null;

const OPS = 'RNN / LSTM / GRU (Transpose, Squeeze; ReduceSum of the mask as sequence_lens)';

export const RECURRENT_ROWS: readonly RowEntry[] = [
  row(SimpleRNN, 'RNN, Transpose, Squeeze (sequence_lens from a mask)', emitRecurrent, ownMasks),
  row(LSTM, 'LSTM, Transpose, Squeeze (sequence_lens from a mask)', emitRecurrent, ownMasks),
  row(GRU, 'GRU, Transpose, Squeeze (sequence_lens from a mask)', emitRecurrent, ownMasks),
  row(RNN, `${OPS} for SimpleRNNCell, LSTMCell, GRUCell; other cells traced (a fixed sequence length)`, emitRecurrent, ownMasks),
  row(SimpleRNNCell, 'RNN over one step (applied alone)', emitCell),
  row(LSTMCell, 'LSTM over one step (applied alone)', emitCell),
  row(GRUCell, 'GRU over one step (applied alone)', emitCell),
  row(TimeDistributed, 'Shape, Reshape, the wrapped layer\'s ops, Reshape', emitTimeDistributed),
];
