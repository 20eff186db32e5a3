/**
 * Rows of layers/recurrent/. SimpleRNN, LSTM and GRU (an RNN of one of their cells, a cell applied
 * alone, and Bidirectional around them) become ONNX's RNN, LSTM and GRU ops (../recurrent-ops.ts),
 * whose time axis is dynamic. A mask becomes the op's `sequence_lens`, the number of true steps of
 * each sample: exact for masks that are true up to a point and false after (right padding), which
 * the graph cannot check (docs/onnx.md). An RNN of any other cell is traced, which needs a fixed
 * sequence length. TimeDistributed folds time into the batch around its layer's own row.
 */
import { fail } from '../../src/errors.js';
import type { SymbolicTensor } from '../../src/symbolic.js';
import { Bidirectional, type MergeMode } from '../../layers/recurrent/bidirectional.js';
import { GRU } from '../../layers/recurrent/gru.js';
import { GRUCell } from '../../layers/recurrent/gru-cell.js';
import { LSTM } from '../../layers/recurrent/lstm.js';
import { LSTMCell } from '../../layers/recurrent/lstm-cell.js';
import { RNN } from '../../layers/recurrent/rnn.js';
import { SimpleRNN } from '../../layers/recurrent/simple-rnn.js';
import { SimpleRNNCell } from '../../layers/recurrent/simple-rnn-cell.js';
import { TimeDistributed } from '../../layers/recurrent/time-distributed.js';
import type { GraphBuilder, Value } from '../builder.js';
import { INT64_MAX, int, ints } from '../proto.js';
import { activationId, fixedCell, flipTime, recurrentOp, sequenceLengths, specOf, type FixedCell } from '../recurrent-ops.js';
import { row, type LayerArgs, type RowEntry } from './row.js';

const squeeze = (b: GraphBuilder, x: string, axis: number): string => b.op('Squeeze', [x, b.int64s([axis], 'axes')]);
/** Direction `d` of an op's output, its directions axis at 0 (Gather drops it). */
const direction = (b: GraphBuilder, x: string, d: number): string => b.op('Gather', [x, b.scalar('int64', d, 'direction')], { axis: int(0) });

function checkExportable(layer: RNN): void {
  if (layer.stateful) {
    fail('onnx export', `layer '${layer.name}' (${layer.className}) is stateful: its states carry from one call to the next, which an ONNX file cannot hold. Export a copy made with stateful: false (the same config and weights) and pass the states as initialState inputs`);
  }
}

/** The initial states given as inputs after the sequence, per state (h, then c), one per direction; null for zeros. */
function givenStates(inputs: readonly Value[], states: number, directions: number): (Value[] | null)[] {
  const given = inputs.slice(1);
  return Array.from({ length: states }, (_, k) => (given.length ? Array.from({ length: directions }, (_, d) => given[d * states + k]) : null));
}

/** SimpleRNN, LSTM, GRU, or an RNN of one of their cells, as one ONNX op run over time in one direction. */
function emitRecurrent(args: LayerArgs<RNN>): string[] {
  const { b, layer, inputs, masks } = args;
  checkExportable(layer);
  const cell = fixedCell(layer.cell);
  if (!cell) return traceCustom(args);
  const mask = masks?.[0] ?? null;
  const { y, states } = recurrentOp(b, {
    layer, cells: [cell], direction: layer.goBackwards ? 'reverse' : 'forward', x: inputs[0], dtype: layer.dtype,
    lengths: mask ? sequenceLengths(b, mask) : null, initial: givenStates(inputs, specOf(cell).states, 1),
  });
  const finals = states.map((s) => squeeze(b, s, 0));
  return [returned(b, layer, y, finals[0], mask), ...(layer.returnState ? finals : [])];
}

/** Y [time, batch, units] of one direction as Keras's [batch, time, units], in input order. */
const batchMajor = (b: GraphBuilder, y: string): string => b.op('Transpose', [y], { perm: ints([1, 0, 2]) });

/**
 * The layer's output from the op's: Y [time, 1, batch, units] as Keras's [batch, time, units], in
 * the order the steps ran (reversed going backwards), or the last output, which is the final h.
 */
function returned(b: GraphBuilder, layer: RNN, y: string, h: string, mask: Value | null): string {
  if (!layer.returnSequences) return h;
  const out = batchMajor(b, squeeze(b, y, 1));
  if (layer.goBackwards) return flipTime(b, out);
  // the op gives zeros past a sample's length; Keras repeats the last output there unless zeroOutputForMask
  if (!mask || layer.zeroOutputForMask) return out;
  const keep = mask.shape.length === 3 ? mask.name : b.unsqueeze(mask.name, [2]);
  return b.op('Where', [keep, out, b.unsqueeze(h, [1])]);
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

/** Whether one bidirectional op holds both layers: the same cell class, size and options, forward then backward. */
function oneOp(forward: RNN, backward: RNN, [f, r]: FixedCell[]): boolean {
  const same = (a: unknown, c: unknown) => a === c;
  const gates = (c: FixedCell) => ('recurrentActivation' in c ? activationId(c.recurrentActivation) : null);
  return !forward.goBackwards && backward.goBackwards && same(Object.getPrototypeOf(f), Object.getPrototypeOf(r)) && f.units === r.units
    && same(activationId(f.activation), activationId(r.activation)) && same(gates(f), gates(r)) && (f.bias === null) === (r.bias === null)
    && (!(f instanceof GRUCell) || f.resetAfter === (r as GRUCell).resetAfter) && forward.dtype === backward.dtype;
}

/** Merges the two directions as Keras's Bidirectional: concat on the last axis, sum, mul, ave, or both. */
function merge(b: GraphBuilder, mode: MergeMode, y: string, back: string, dtype: Value['dtype']): string[] {
  switch (mode) {
    case 'concat': return [b.op('Concat', [y, back], { axis: int(-1) })];
    case 'sum': return [b.op('Add', [y, back])];
    case 'mul': return [b.op('Mul', [y, back])];
    case 'ave': return [b.op('Mul', [b.op('Add', [y, back]), b.scalar(dtype, 0.5, 'half')])];
    default: return [y, back];
  }
}

/**
 * Bidirectional: one op with direction 'bidirectional' where it holds both layers, else one op per
 * layer; each direction's output in input order (Keras reverses the backward layer's), merged.
 * Keras makes both layers zero a masked step's output when returning sequences, as the op does.
 */
function emitBidirectional({ b, layer, inputs, masks }: LayerArgs<Bidirectional>): string[] {
  const layers = [layer.forwardLayer, layer.backwardLayer].map((l) => {
    if (!(l instanceof RNN)) fail('onnx export', `layer '${layer.name}' (Bidirectional) wraps ${l}, which is no kiln RNN: only SimpleRNN, LSTM, GRU and RNNs of their cells export`);
    checkExportable(l);
    return l;
  });
  const cells = layers.map((l) => fixedCell(l.cell) ?? fail('onnx export', `layer '${layer.name}' (Bidirectional) wraps ${l}, whose cell no ONNX op describes: only SimpleRNN, LSTM, GRU and RNNs of their cells export`));
  const mask = masks?.[0] ?? null;
  const lengths = mask ? sequenceLengths(b, mask) : null;
  const states = specOf(cells[0]).states;
  const given = givenStates(inputs, states, 2);
  const base = { layer, x: inputs[0], lengths };
  const ops = oneOp(layers[0], layers[1], cells)
    ? [recurrentOp(b, { ...base, cells, direction: 'bidirectional', dtype: layers[0].dtype, initial: given })]
    : layers.map((l, d) => recurrentOp(b, { ...base, cells: [cells[d]], direction: l.goBackwards ? 'reverse' : 'forward', dtype: l.dtype, initial: given.map((g) => g && [g[d]]) }));
  // direction d: of the one op, or the only direction of op d
  const pick = (x: (op: (typeof ops)[number]) => string, d: number) => (ops.length === 1 ? direction(b, x(ops[0]), d) : squeeze(b, x(ops[d]), 0));
  const outputs = layers.map((l, d) => {
    if (!layer.returnSequences) return pick((op) => op.states[0], d);
    const y = batchMajor(b, pick((op) => b.op('Transpose', [op.y], { perm: ints([1, 0, 2, 3]) }), d));
    // in input order: Keras reverses the backward layer's output, and a forward layer's that goes backwards stays reversed
    return (d === 1) === l.goBackwards ? y : flipTime(b, y);
  });
  const merged = merge(b, layer.mergeMode, outputs[0], outputs[1], layers[0].dtype);
  if (!layer.returnState) return merged;
  return [...merged, ...[0, 1].flatMap((d) => Array.from({ length: states }, (_, k) => pick((op) => op.states[k], d)))];
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
  const step: Value = { name: b.unsqueeze(x.name, [1]), dtype: x.dtype, shape: [x.shape[0], 1, ...x.shape.slice(1)] };
  const { states } = recurrentOp(b, { layer, cells: [layer], direction: 'forward', x: step, dtype: layer.dtype, lengths: null, initial: [] });
  return [squeeze(b, states[0], 0)];
}

/** The fixed cells write their masks as sequence_lens; another cell's mask is traced with it. */
const ownMasks = (layer: RNN): boolean => fixedCell(layer.cell) !== null;
const bothOwnMasks = (layer: Bidirectional): boolean => [layer.forwardLayer, layer.backwardLayer].every((l) => l instanceof RNN && ownMasks(l));

const OPS = 'RNN / LSTM / GRU (Transpose, Squeeze; ReduceSum of the mask as sequence_lens)';

export const RECURRENT_ROWS: readonly RowEntry[] = [
  row(SimpleRNN, 'RNN, Transpose, Squeeze (sequence_lens from a mask)', emitRecurrent, ownMasks),
  row(LSTM, 'LSTM, Transpose, Squeeze (sequence_lens from a mask)', emitRecurrent, ownMasks),
  row(GRU, 'GRU, Transpose, Squeeze (sequence_lens from a mask)', emitRecurrent, ownMasks),
  row(RNN, `${OPS} for SimpleRNNCell, LSTMCell, GRUCell; other cells traced (a fixed sequence length)`, emitRecurrent, ownMasks),
  row(SimpleRNNCell, 'RNN over one step (applied alone)', emitCell),
  row(LSTMCell, 'LSTM over one step (applied alone)', emitCell),
  row(GRUCell, 'GRU over one step (applied alone)', emitCell),
  row(Bidirectional, 'one RNN / LSTM / GRU with direction bidirectional (two ops where the layers differ), Gather, Transpose, then Concat / Add / Mul', emitBidirectional, bothOwnMasks),
  row(TimeDistributed, 'Shape, Reshape, the wrapped layer\'s ops, Reshape', emitTimeDistributed),
];

