/**
 * Elementwise ops of one input: the 13 unary kernel rows and the ops composed from them, on every
 * dtype, on scalars, size-0 shapes, special values and non-contiguous inputs. Expected values come
 * from JavaScript's float64 Math on the stored inputs.
 */
import * as kiln from '../../index.js';
import type { DType } from '../../backends/contract.js';
import { LAYOUTS, OPS, checkOp, describeBackends, group, nest, stored } from './harness.js';
import { erf64, roundHalfEven } from './math64.js';

/**
 * How an op treats dtypes: `exact` ops keep ints (bool counts as int32), `floating` ops compute
 * ints in float32, `rounding` ops are the identity on ints, `predicate` ops return bool.
 */
type Kind = 'exact' | 'floating' | 'rounding' | 'predicate';

interface Row {
  op: string;
  f: (x: number) => number;
  kind: Kind;
  /** Float inputs, an even count (the layout cases lay them out as [2, n/2]). */
  values: number[];
}

const SPECIAL = [NaN, Infinity, -Infinity, 0];
const INTS = [-3, -1, 0, 1, 2, 9];
const BOOLS = [1, 0, 0, 1];

const ROWS: Row[] = [
  // kernel rows
  { op: 'negative', kind: 'exact', f: (x) => -x, values: [-2.5, -0, 0, 1e-30, 3, 1e30, ...SPECIAL] },
  { op: 'abs', kind: 'exact', f: Math.abs, values: [-2.5, -0, 1e-30, 3, -1e30, 7, ...SPECIAL] },
  { op: 'sqrt', kind: 'floating', f: Math.sqrt, values: [0.25, 2, 1e4, 1e-20, -1, 3, ...SPECIAL] },
  { op: 'exp', kind: 'floating', f: Math.exp, values: [-100, -1, 0.5, 10, 100, 1e-7, ...SPECIAL] },
  { op: 'expm1', kind: 'floating', f: Math.expm1, values: [-1, -1e-10, 1e-10, 1, 20, -30, ...SPECIAL] },
  { op: 'log', kind: 'floating', f: Math.log, values: [-1, 1e-30, 0.5, 1, 10, 1e30, ...SPECIAL] },
  { op: 'log1p', kind: 'floating', f: Math.log1p, values: [-1, -2, -1e-10, 1e-10, 3, 1e30, ...SPECIAL] },
  { op: 'sin', kind: 'floating', f: Math.sin, values: [-10, -Math.PI / 2, 1, 3, 100, 1e-8, ...SPECIAL] },
  { op: 'cos', kind: 'floating', f: Math.cos, values: [-10, -Math.PI / 2, 1, 3, 100, 1e-8, ...SPECIAL] },
  { op: 'tanh', kind: 'floating', f: Math.tanh, values: [-30, -1, 1e-8, 0.5, 30, 2, ...SPECIAL] },
  { op: 'erf', kind: 'floating', f: erf64, values: [-3, -0.5, 1e-8, 0.5, 1, 2.5, ...SPECIAL] },
  { op: 'floor', kind: 'rounding', f: Math.floor, values: [-2.5, -0.5, 0.5, 1, 2.7, -1e-30, ...SPECIAL] },
  { op: 'round', kind: 'rounding', f: roundHalfEven, values: [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.6, -2.6, 0.49999997, 1e7 + 0.5, ...SPECIAL] },
  // composed
  { op: 'ceil', kind: 'rounding', f: Math.ceil, values: [-2.5, -0.5, 0.5, 1, 2.7, 1e-30, ...SPECIAL] },
  { op: 'sign', kind: 'exact', f: (x) => (Number.isNaN(x) ? 0 : Math.sign(x)), values: [-2.5, 1e-30, 3, -1e-30, ...SPECIAL] },
  { op: 'square', kind: 'exact', f: (x) => x * x, values: [-2.5, 1e-30, 3, 1e20, ...SPECIAL] },
  { op: 'reciprocal', kind: 'floating', f: (x) => 1 / x, values: [-2.5, 1e-30, 3, -0.125, ...SPECIAL] },
  { op: 'rsqrt', kind: 'floating', f: (x) => 1 / Math.sqrt(x), values: [0.25, 1e-30, 3, -1, ...SPECIAL] },
  { op: 'isnan', kind: 'predicate', f: (x) => Number(Number.isNaN(x)), values: [-2.5, 1e30, ...SPECIAL] },
  { op: 'isfinite', kind: 'predicate', f: (x) => Number(Number.isFinite(x)), values: [-2.5, 1e30, ...SPECIAL] },
  { op: 'isinf', kind: 'predicate', f: (x) => Number(x === Infinity || x === -Infinity), values: [-2.5, 1e30, ...SPECIAL] },
  { op: 'logicalNot', kind: 'predicate', f: (x) => Number(x === 0), values: [-2.5, 1e-30, ...SPECIAL] },
];

// division and reciprocal of 0 are ±inf, not errors; sign of NaN is 0 (see src/ops/unary.ts)

function outDType(kind: Kind, input: DType): DType | 'error' {
  if (kind === 'predicate') return 'bool';
  if (input === 'float32' || input === 'float64') return input;
  if (kind === 'floating') return 'float32';
  if (kind === 'rounding') return input === 'bool' ? 'error' : input;
  return 'int32';
}

/** Expected values: f in float64 on what the input dtype stores, then rounded to the output dtype. */
function expected(row: Row, values: readonly number[], input: DType): number[] {
  const out = outDType(row.kind, input) as DType;
  return values.map((v) => {
    const y = row.f(stored(v, input));
    return out === 'int32' ? y : stored(y, out);
  });
}

const op = (name: string) => OPS[name];

describeBackends('unary', () => {
  for (const row of ROWS) {
    group(row.op, () => {
      const inputs: Record<DType, number[]> = {
        float32: row.values,
        float64: row.values,
        int32: row.op === 'reciprocal' || row.op === 'rsqrt' ? INTS.filter((v) => v !== 0) : INTS,
        bool: BOOLS,
      };
      for (const dt of ['float32', 'float64', 'int32', 'bool'] as const) {
        const out = outDType(row.kind, dt);
        if (out === 'error') continue;
        const values = inputs[dt];
        checkOp(dt, () => op(row.op)(kiln.tensor(values, [values.length], dt)), expected(row, values, dt), { dtype: out, requires: [dt] });
      }
      const x0 = row.values[1];
      checkOp('scalar', () => op(row.op)(kiln.tensor(x0)), expected(row, [x0], 'float32')[0], { dtype: outDType(row.kind, 'float32') as DType });
      checkOp('size 0', () => op(row.op)(kiln.zeros([2, 0, 3])), [[], []], { shape: [2, 0, 3], dtype: outDType(row.kind, 'float32') as DType });
      checkOp('float64 scalar', () => op(row.op)(kiln.tensor(x0, [], 'float64')), expected(row, [x0], 'float64')[0], { dtype: outDType(row.kind, 'float64') as DType, requires: ['float64'] });
      const even = row.values.length % 2 === 0 ? row.values : row.values.slice(1);
      const [r, c] = [2, even.length / 2];
      for (const layout of LAYOUTS.slice(1)) {
        checkOp(`${layout.name} input`, () => op(row.op)(layout.make(even, r, c, 'float32')), nest(expected(row, even, 'float32'), [r, c]));
      }
    });
  }

  group('precision', () => {
    // the naive formulas lose every digit here: exp(x) - 1 and log(1 + x)
    checkOp('expm1 tiny float64', () => kiln.ops.expm1(kiln.tensor([1e-12, -1e-15], [2], 'float64')), [Math.expm1(1e-12), Math.expm1(-1e-15)], { dtype: 'float64' });
    checkOp('log1p tiny float64', () => kiln.ops.log1p(kiln.tensor([1e-12, -1e-15], [2], 'float64')), [Math.log1p(1e-12), Math.log1p(-1e-15)], { dtype: 'float64' });
    checkOp('erf float64 tail', () => kiln.ops.erf(kiln.tensor([-4, 0.1, 5.5], [3], 'float64')), [erf64(-4), erf64(0.1), erf64(5.5)], { dtype: 'float64' });
    checkOp('round half to even float32', () => kiln.ops.round(kiln.tensor([0.5, 1.5, 2.5, 3.5, -0.5, -3.5])), [0, 2, 2, 4, -0, -4], { dtype: 'float32' });
    checkOp('floor rank 3', () => kiln.ops.floor(kiln.tensor([[[1.5], [-1.5]], [[2.5], [-0.1]]])), [[[1], [-2]], [[2], [-1]]]);
  });
});
