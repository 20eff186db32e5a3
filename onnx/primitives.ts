/**
 * kiln's primitives as ONNX ops, one row each, for layers without a row of their own (custom
 * layers, Lambda): their `call` is traced on symbolic tensors and each recorded primitive is
 * written with its row. The rows follow the reference kernels' semantics (Python's modulo,
 * int32 ArgMax), not ONNX's defaults where those differ.
 */
import type { DType } from '../backends/contract.js';
import { fail } from '../src/errors.js';
import type { Dim } from '../src/shape.js';
import type { GraphBuilder, Value } from './builder.js';
import { INT64_MAX, INT64_MIN, elemType, int, ints, str, tensorAttr, tensorProto, typedFrom } from './proto.js';

export interface PrimitiveArgs {
  b: GraphBuilder;
  inputs: Value[];
  /** The output kiln inferred. */
  out: { shape: readonly Dim[]; dtype: DType };
  attrs: any;
}

export interface PrimitiveRow {
  ops: string;
  minOpset?: number;
  emit(args: PrimitiveArgs): string;
}

const isFloat = (d: DType): boolean => d === 'float32' || d === 'float64';

const simple = (opType: string): PrimitiveRow => ({ ops: opType, emit: ({ b, inputs }) => b.op(opType, inputs.map((v) => v.name)) });

/** Python's remainder from C's fmod, moved by one divisor when the signs differ (as the reference kernel). */
function pythonMod(b: GraphBuilder, a: Value, d: Value): { r: string; fix: string } {
  const r = b.op('Mod', [a.name, d.name], { fmod: int(1) });
  const zero = b.scalar(a.dtype, 0);
  const signsDiffer = b.op('Xor', [b.op('Less', [r, zero]), b.op('Less', [d.name, zero])]);
  const fix = b.op('And', [b.op('Not', [b.op('Equal', [r, zero])]), signsDiffer]);
  return { r, fix };
}

const mod: PrimitiveRow = {
  ops: 'Mod (ints); Mod fmod=1, Where (floats)',
  emit: ({ b, inputs: [a, d] }) => {
    if (!isFloat(a.dtype)) return b.op('Mod', [a.name, d.name], { fmod: int(0) });
    const { r, fix } = pythonMod(b, a, d);
    return b.op('Where', [fix, b.op('Add', [r, d.name]), r]);
  },
};

const floorDiv: PrimitiveRow = {
  ops: 'Mod, Sub, Div (ints); Mod, Sub, Div, Where (floats)',
  emit: ({ b, inputs: [a, d] }) => {
    if (!isFloat(a.dtype)) {
      // a minus Python's remainder is an exact multiple of d, so the truncating Div is exact
      return b.op('Div', [b.op('Sub', [a.name, b.op('Mod', [a.name, d.name], { fmod: int(0) })]), d.name]);
    }
    const { r, fix } = pythonMod(b, a, d);
    const q = b.op('Div', [b.op('Sub', [a.name, r]), d.name]);
    return b.op('Where', [fix, b.op('Sub', [q, b.scalar(a.dtype, 1)]), q]);
  },
};

/** On bools kiln's minimum is AND and maximum OR; ONNX's Min and Max take no bools. */
const extreme = (opType: 'Max' | 'Min', logical: 'Or' | 'And'): PrimitiveRow => ({
  ops: `${opType} (${logical} on bool)`,
  emit: ({ b, inputs }) => b.op(inputs[0].dtype === 'bool' ? logical : opType, inputs.map((v) => v.name)),
});

/** ONNX's Less and LessOrEqual take no bools: they compare as int32. */
const compare = (opType: 'Less' | 'LessOrEqual'): PrimitiveRow => ({
  ops: opType,
  emit: ({ b, inputs }) => b.op(opType, inputs.map((v) => (v.dtype === 'bool' ? b.op('Cast', [v.name], { to: int(elemType('int32')) }) : v.name))),
});

const reduce = (opType: 'ReduceSum' | 'ReduceProd' | 'ReduceMax' | 'ReduceMin'): PrimitiveRow => ({
  ops: opType,
  emit: ({ b, inputs: [x], attrs }) => b.reduce(opType, x.name, attrs.axes, false),
});

const argReduce = (opType: 'ArgMax' | 'ArgMin'): PrimitiveRow => ({
  ops: `${opType}, Cast`,
  emit: ({ b, inputs: [x], attrs }) => b.op('Cast', [b.op(opType, [x.name], { axis: int(attrs.axis), keepdims: int(0) })], { to: int(elemType('int32')) }),
});

/**
 * A kiln reshape target as ONNX's. A leading run of dims the target shares with the input (equal
 * sizes, or unknown in both) becomes 0 (copy the input's) only when the dims after it hold the
 * same number of elements in both, all known: an unknown in both is not the same size otherwise
 * (a repeat along an unknown axis reshapes [N, 2, 3] to [2N, 3]). One remaining unknown becomes
 * -1; more cannot be expressed.
 */
export function reshapeTarget(input: readonly Dim[], target: readonly Dim[], where: string): number[] {
  let shared = 0;
  while (shared < target.length && shared < input.length && target[shared] === input[shared]) shared++;
  const known = (dims: readonly Dim[]): number | null => (dims.includes(null) ? null : dims.reduce<number>((p, d) => p * (d as number), 1));
  const restIn = known(input.slice(shared));
  const copies = restIn !== null && restIn === known(target.slice(shared));
  const out = target.map((d, i) => (copies && i < shared && d === null ? 0 : d));
  const open = out.filter((d) => d === null || d === -1).length;
  if (open > 1) fail('onnx export', `${where}: a reshape to [${target.map(String).join(',')}] from [${input.map(String).join(',')}] has ${open} dimensions only known at run time; ONNX's Reshape can infer one`);
  return out.map((d) => (d === null ? -1 : d));
}

/**
 * A reshape with several unknown sizes that only adds or drops axes of size 1 (expandDims over
 * dynamic steps: [B, T, F] to [B, 1, T, F]), which Reshape cannot say and Squeeze then Unsqueeze
 * can: the sizes other than 1 must be the same, in order, in both. Null otherwise.
 */
function unitReshape(b: GraphBuilder, x: string, input: readonly Dim[], target: readonly Dim[]): string | null {
  if (target.filter((d) => d === null).length < 2) return null;
  const rest = (dims: readonly Dim[]) => dims.filter((d) => d !== 1);
  const [a, t] = [rest(input), rest(target)];
  if (a.length !== t.length || a.some((d, i) => d !== t[i])) return null;
  const ones = (dims: readonly Dim[]) => dims.flatMap((d, i) => (d === 1 ? [i] : []));
  const dropped = ones(input).length ? b.op('Squeeze', [x, b.int64s(ones(input), 'axes')]) : x;
  return b.unsqueeze(dropped, ones(target));
}

/** One axis of a kiln slice (begin, size, step; negative begin from the end) as ONNX start and end. */
function sliceBounds(dim: Dim, begin: number, size: number, step: number): [number, number] | null {
  let first = begin;
  let n = size;
  if (dim !== null) {
    first = begin < 0 ? begin + dim : begin;
    const fits = step > 0 ? Math.ceil((dim - first) / step) : Math.ceil((first + 1) / -step);
    n = size === -1 ? Math.max(0, fits) : size;
    if (n === 0) return [0, 0];
    if (first === 0 && step === 1 && n === dim) return null;
  } else if (begin === 0 && step === 1 && size === -1) {
    return null;
  }
  if (n === -1) return [first, step > 0 ? INT64_MAX : INT64_MIN];
  const end = first + (n - 1) * step + Math.sign(step);
  // an end that crosses zero would count from the other end of the axis in ONNX
  if (first < 0 && step > 0 && end >= 0) return [first, INT64_MAX];
  if (first >= 0 && step < 0 && end < 0) return [first, INT64_MIN];
  return [first, end];
}

const slice: PrimitiveRow = {
  ops: 'Slice',
  emit: ({ b, inputs: [x], attrs }) => {
    const starts: number[] = [];
    const ends: number[] = [];
    const axes: number[] = [];
    const steps: number[] = [];
    x.shape.forEach((dim, d) => {
      const bounds = sliceBounds(dim, attrs.begin[d], attrs.size[d], attrs.step[d]);
      if (!bounds) return;
      starts.push(bounds[0]);
      ends.push(bounds[1]);
      axes.push(d);
      steps.push(attrs.step[d]);
    });
    if (axes.length === 0) return b.op('Identity', [x.name]);
    return b.op('Slice', [x.name, b.int64s(starts, 'starts'), b.int64s(ends, 'ends'), b.int64s(axes, 'axes'), b.int64s(steps, 'steps')]);
  },
};

const matmul: PrimitiveRow = {
  ops: 'MatMul (Transpose for transposed operands)',
  emit: ({ b, inputs: [a, c], attrs }) => {
    const t = (v: Value, flag: boolean): string => {
      if (!flag) return v.name;
      const perm = v.shape.map((_, i) => i);
      [perm[perm.length - 2], perm[perm.length - 1]] = [perm[perm.length - 1], perm[perm.length - 2]];
      return b.op('Transpose', [v.name], { perm: ints(perm) });
    };
    return b.op('MatMul', [t(a, attrs.transposeA), t(c, attrs.transposeB)]);
  },
};

/**
 * The adjoint of gather: zeros of the output's shape, into which each slice of `updates` is
 * added at its index; indices are flattened and spread to the updates' shape, as
 * ScatterElements wants (its reduction='add' arrived in opset 16).
 */
const scatterAdd: PrimitiveRow = {
  ops: 'ScatterElements (reduction add), ConstantOfShape, Expand',
  minOpset: 16,
  emit: ({ b, inputs: [updates, indices], out, attrs }) => {
    const axis: number = attrs.axis;
    const k = indices.shape.length;
    const post = updates.shape.length - axis - k;
    const shape = b.op('Shape', [updates.name]);
    const pre = b.op('Slice', [shape, b.int64s([0]), b.int64s([axis])]);
    const rest = b.op('Slice', [shape, b.int64s([axis + k]), b.int64s([INT64_MAX])]);
    const flatUpdates = b.op('Reshape', [updates.name, b.op('Concat', [pre, b.int64s([-1]), rest], { axis: int(0) })]);
    const flatIndices = b.reshape(indices.name, [...new Array<number>(axis).fill(1), -1, ...new Array<number>(post).fill(1)]);
    const spread = b.op('Expand', [flatIndices, b.op('Shape', [flatUpdates])]);
    const zero = tensorProto('value', out.dtype, [1], typedFrom(out.dtype, [0]));
    const zeros = b.op('ConstantOfShape', [b.op('Concat', [pre, b.int64s([attrs.size]), rest], { axis: int(0) })], { value: tensorAttr(zero) });
    return b.op('ScatterElements', [zeros, spread, flatUpdates], { axis: int(axis), reduction: str('add') });
  },
};

export const PRIMITIVES: Record<string, PrimitiveRow> = {
  neg: simple('Neg'), abs: simple('Abs'), sqrt: simple('Sqrt'), exp: simple('Exp'), log: simple('Log'),
  sin: simple('Sin'), cos: simple('Cos'), tanh: simple('Tanh'), erf: simple('Erf'), floor: simple('Floor'),
  // ONNX's Round, like kiln's, rounds half to even
  round: simple('Round'),
  expm1: { ops: 'Exp, Sub', emit: ({ b, inputs: [x] }) => b.op('Sub', [b.op('Exp', [x.name]), b.scalar(x.dtype, 1)]) },
  log1p: { ops: 'Add, Log', emit: ({ b, inputs: [x] }) => b.op('Log', [b.op('Add', [x.name, b.scalar(x.dtype, 1)])]) },
  add: simple('Add'), sub: simple('Sub'), mul: simple('Mul'), div: simple('Div'), pow: simple('Pow'),
  maximum: extreme('Max', 'Or'), minimum: extreme('Min', 'And'),
  mod, floorDiv,
  equal: simple('Equal'), less: compare('Less'), lessEqual: compare('LessOrEqual'),
  where: simple('Where'),
  cast: { ops: 'Cast', emit: ({ b, inputs: [x], attrs }) => b.op('Cast', [x.name], { to: int(elemType(attrs as DType)) }) },
  sum: reduce('ReduceSum'), prod: reduce('ReduceProd'), max: reduce('ReduceMax'), min: reduce('ReduceMin'),
  argmax: argReduce('ArgMax'), argmin: argReduce('ArgMin'),
  cumsum: {
    ops: 'CumSum',
    emit: ({ b, inputs: [x], attrs }) => b.op('CumSum', [x.name, b.scalar('int64', attrs.axis, 'axis')], { exclusive: int(attrs.exclusive ? 1 : 0), reverse: int(attrs.reverse ? 1 : 0) }),
  },
  matmul,
  reshape: {
    ops: 'Reshape; Squeeze, Unsqueeze where only axes of size 1 come and go between several unknown sizes',
    emit: ({ b, inputs: [x], attrs }) => unitReshape(b, x.name, x.shape, attrs.shape as Dim[]) ?? b.reshape(x.name, reshapeTarget(x.shape, attrs.shape, b.scope)),
  },
  transpose: { ops: 'Transpose', emit: ({ b, inputs: [x], attrs }) => b.op('Transpose', [x.name], { perm: ints(attrs.perm) }) },
  slice,
  pad: {
    ops: 'Pad',
    emit: ({ b, inputs: [x], attrs }) => {
      const pads: [number, number][] = attrs.pads;
      const widths = b.int64s([...pads.map((p) => p[0]), ...pads.map((p) => p[1])], 'pads');
      return b.op('Pad', [x.name, widths, b.scalar(x.dtype, attrs.value, 'pad_value')], { mode: str('constant') });
    },
  },
  concatenate: { ops: 'Concat', emit: ({ b, inputs, attrs }) => b.op('Concat', inputs.map((v) => v.name), { axis: int(attrs.axis) }) },
  // Expand broadcasts both ways: a 1 keeps the input's size, which is what an unknown target dim is
  broadcastTo: { ops: 'Expand', emit: ({ b, inputs: [x], attrs }) => b.op('Expand', [x.name, b.int64s((attrs.shape as Dim[]).map((d) => d ?? 1))]) },
  gather: { ops: 'Gather', emit: ({ b, inputs: [x, i], attrs }) => b.op('Gather', [x.name, i.name], { axis: int(attrs.axis) }) },
  scatterAdd,
};
