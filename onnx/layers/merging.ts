/** Rows of layers/merging/: elementwise merges as ONNX's binary or variadic ops, Concatenate as Concat, Dot traced. */
import { Concatenate } from '../../layers/merging/concatenate.js';
import { Dot } from '../../layers/merging/dot.js';
import { Add, Average, Maximum, Minimum, Multiply, Subtract, type Merge } from '../../layers/merging/merge.js';
import type { GraphBuilder, Value } from '../builder.js';
import { int } from '../proto.js';
import { row, traced, type RowClass, type RowEntry } from './row.js';

/** Lower-rank inputs of a merge get size-1 axes after the batch axis, as Merge.call adds them. */
function lifted(b: GraphBuilder, inputs: Value[]): string[] {
  const rank = Math.max(...inputs.map((v) => v.shape.length));
  return inputs.map((v) => b.unsqueeze(v.name, Array.from({ length: rank - v.shape.length }, (_, i) => i + 1)));
}

/** A merge as a chain of binary ops, in the order kiln reduces (so the rounding matches). */
const chain = (cls: RowClass<Merge>, opType: string): RowEntry =>
  row(cls, opType, ({ b, inputs }) => [lifted(b, inputs).reduce((acc, x) => b.op(opType, [acc, x]))]);

/** A merge as one variadic op. */
const variadic = (cls: RowClass<Merge>, opType: string): RowEntry =>
  row(cls, opType, ({ b, inputs }) => [inputs.length === 1 ? inputs[0].name : b.op(opType, lifted(b, inputs))]);

export const MERGING_ROWS: readonly RowEntry[] = [
  chain(Add, 'Add'),
  chain(Subtract, 'Sub'),
  chain(Multiply, 'Mul'),
  variadic(Average, 'Mean'),
  variadic(Maximum, 'Max'),
  variadic(Minimum, 'Min'),
  row(Concatenate, 'Concat', ({ b, layer, inputs }) => {
    const { axis } = layer;
    return [b.op('Concat', inputs.map((v) => v.name), { axis: int(axis < 0 ? axis + inputs[0].shape.length : axis) })];
  }),
  traced(Dot, 'Transpose, Reshape, MatMul (traced; ReduceSum, Sqrt, Max, Div to normalize)'),
];
