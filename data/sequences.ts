import { tensor } from '../src/creation.js';
import { checkDType, isFloat } from '../src/dtype.js';
import { fail, fmtShape } from '../src/errors.js';
import type { DType } from '../backends/contract.js';
import type { Tensor } from '../src/tensor.js';

export interface PadSequencesOptions {
  /** The length of every sequence out (default: the longest sequence's). */
  maxlen?: number;
  /** The output's dtype (default 'int32'; values are truncated toward 0 for integer dtypes, as numpy casts). */
  dtype?: DType;
  /** Where padding goes: 'pre' (default) or 'post'. */
  padding?: 'pre' | 'post';
  /** Which end of a longer sequence is cut: 'pre' (default) or 'post'. */
  truncating?: 'pre' | 'post';
  /** The padding value (default 0). */
  value?: number;
}

type Step = number | readonly Step[];

function stepShape(step: Step): number[] {
  return typeof step === 'number' ? [] : [step.length, ...(step.length ? stepShape(step[0]) : [])];
}

/**
 * Sequences of different lengths as one [n, maxlen, ...] tensor (keras.utils.pad_sequences):
 * shorter ones padded with `value`, longer ones truncated. A step may be a number or an array
 * (all steps of the same shape).
 * @example
 * kiln.utils.padSequences([[1], [2, 3], [4, 5, 6]]);   // [[0, 0, 1], [0, 2, 3], [4, 5, 6]] int32
 */
export function padSequences(sequences: readonly (readonly Step[] | ArrayLike<number>)[], options: PadSequencesOptions = {}): Tensor {
  const op = 'padSequences';
  const { dtype = 'int32', padding = 'pre', truncating = 'pre', value = 0 } = options;
  checkDType(op, dtype);
  if (padding !== 'pre' && padding !== 'post') fail(op, `padding must be 'pre' or 'post', got ${String(padding)}`);
  if (truncating !== 'pre' && truncating !== 'post') fail(op, `truncating must be 'pre' or 'post', got ${String(truncating)}`);
  if (typeof value !== 'number') fail(op, `value must be a number, got ${typeof value}`);
  if (!Array.isArray(sequences)) fail(op, `sequences must be an array of sequences, got ${typeof sequences}`);
  const seqs = sequences.map((s, i) => (Array.isArray(s) || ArrayBuffer.isView(s) ? (Array.from(s as ArrayLike<Step>) as Step[]) : fail(op, `sequence ${i} is not an array, got ${typeof s}`)));
  let maxlen = options.maxlen;
  if (maxlen !== undefined && (!Number.isSafeInteger(maxlen) || maxlen < 0)) fail(op, `maxlen must be an integer >= 0, got ${maxlen}`);
  if (maxlen === undefined) {
    if (seqs.length === 0) fail(op, 'cannot infer maxlen from no sequences: pass maxlen');
    maxlen = Math.max(...seqs.map((s) => s.length));
  }
  const first = seqs.find((s) => s.length > 0);
  const sample = first ? stepShape(first[0]) : [];
  const per = sample.reduce((a, b) => a * b, 1);
  const n = seqs.length;
  const cast = isFloat(dtype) ? (v: number) => v : dtype === 'bool' ? (v: number) => (v ? 1 : 0) : Math.trunc;
  const out = new Float64Array(n * maxlen * per).fill(cast(value));
  seqs.forEach((s, i) => {
    const kept = truncating === 'pre' ? s.slice(Math.max(0, s.length - maxlen)) : s.slice(0, maxlen);
    const offset = padding === 'post' ? 0 : maxlen - kept.length;
    kept.forEach((step, t) => {
      const shape = stepShape(step);
      if (shape.join() !== sample.join()) fail(op, `a step of sequence ${i} has shape ${fmtShape(shape)}, but the first step has ${fmtShape(sample)}`);
      const flat = typeof step === 'number' ? [step] : (step as Step[]).flat(Infinity as 1) as number[];
      if (flat.length !== per) fail(op, `a step of sequence ${i} is ragged: ${flat.length} values for shape ${fmtShape(sample)}`);
      flat.forEach((v, j) => {
        if (typeof v !== 'number') fail(op, `sequence ${i} holds a ${typeof v}, expected numbers`);
        out[((i * maxlen) + offset + t) * per + j] = cast(v);
      });
    });
  });
  return tensor(out, [n, maxlen, ...sample], dtype);
}
