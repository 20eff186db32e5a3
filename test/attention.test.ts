/**
 * kiln.ops.dotProductAttention (keras.ops.dot_product_attention): values against a direct
 * float64 loop (test/conformance/attention-oracle.ts) and one case worked by hand, on every
 * available backend with fused kernels on and off; gradients of query, key, value and bias
 * against central finite differences in float64 on `reference`; shapes inferred symbolically;
 * bad input. The fused kernel's own rows are in test/conformance/fused.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../index.js';
import type { Tensor } from '../index.js';
import { attentionOracle, pseudoRandom, type AttentionCase } from './conformance/attention-oracle.js';

const { ops } = kiln;

type FloatDType = 'float32' | 'float64';

interface Case extends AttentionCase {
  name: string;
}

function make(name: string, dims: AttentionCase['dims'], extra: Partial<AttentionCase> = {}, seed = 1): Case {
  const { B, T, S, N, K, H } = dims;
  return {
    name, dims,
    q: pseudoRandom(B * T * N * H, seed),
    k: pseudoRandom(B * S * K * H, seed + 1),
    v: pseudoRandom(B * S * K * H, seed + 2).map((x) => 3 * x),
    ...extra,
  };
}

const bools = (count: number, seed: number, pTrue = 0.6): boolean[] => pseudoRandom(count, seed).map((u) => u < 2 * pTrue - 1);

const d = (B: number, T: number, S: number, N: number, K: number, H: number) => ({ B, T, S, N, K, H });

const CASES: Case[] = [
  make('plain, T < S', d(2, 3, 5, 2, 2, 4)),
  make('T > S', d(1, 6, 2, 2, 2, 3)),
  make('explicit scale', d(1, 2, 3, 1, 1, 5), { scale: 0.7 }),
  make('grouped heads: N = 4 reads K = 2', d(2, 3, 4, 4, 2, 3)),
  make('multi-query: K = 1', d(1, 3, 3, 3, 1, 2)),
  make('size 1 everywhere', d(1, 1, 1, 1, 1, 1)),
  make('causal, T = S', d(2, 4, 4, 2, 1, 3), { causal: true }),
  make('causal, T < S: query i sees keys 0..i, not the last ones', d(1, 2, 5, 2, 2, 2), { causal: true }),
  make('causal, T > S: late queries see every key', d(1, 5, 3, 1, 1, 2), { causal: true }),
  make('mask [T, S]', d(2, 3, 4, 2, 2, 2), { mask: { values: bools(12, 5), shape: [3, 4] } }),
  make('mask [B, 1, T, S] with causal', d(2, 4, 4, 2, 2, 2), { causal: true, mask: { values: bools(32, 6), shape: [2, 1, 4, 4] } }),
  make('mask [B, N, 1, S], grouped', d(2, 3, 4, 4, 2, 2), { mask: { values: bools(32, 7), shape: [2, 4, 1, 4] } }),
  make('bias [N, T, S]', d(2, 3, 4, 2, 2, 3), { bias: { values: pseudoRandom(24, 8).map((x) => 2 * x), shape: [2, 3, 4] } }),
  make('bias [B, N, T, S] with mask and causal', d(1, 3, 3, 2, 1, 2), {
    causal: true, bias: { values: pseudoRandom(18, 9), shape: [1, 2, 3, 3] }, mask: { values: bools(9, 10), shape: [3, 3] },
  }),
  // row 1 of the mask is all false: every key masked, so Keras averages all S values
  make('a fully masked row', d(1, 3, 4, 2, 2, 2), {
    mask: { values: [true, false, true, true, false, false, false, false, true, true, false, true], shape: [3, 4] },
  }),
  // causal hides keys 1.. from query 0, and the mask hides key 0 from it: nothing left
  make('causal and mask leave query 0 nothing', d(1, 3, 3, 1, 1, 2), {
    causal: true, mask: { values: [false, true, true, true, true, true, true, true, true], shape: [3, 3] },
  }),
];

function inputsOf(c: Case, dtype: FloatDType): [Tensor, Tensor, Tensor, { bias?: Tensor; mask?: Tensor; scale?: number; isCausal: boolean }] {
  const { B, T, S, N, K, H } = c.dims;
  return [
    kiln.tensor(Array.from(c.q), [B, T, N, H], dtype),
    kiln.tensor(Array.from(c.k), [B, S, K, H], dtype),
    kiln.tensor(Array.from(c.v), [B, S, K, H], dtype),
    {
      bias: c.bias && kiln.tensor(Array.from(c.bias.values as number[]), [...c.bias.shape], dtype),
      mask: c.mask && kiln.tensor(Array.from(c.mask.values as boolean[]), [...c.mask.shape], 'bool'),
      scale: c.scale,
      isCausal: c.causal ?? false,
    },
  ];
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol: number, what: string): void {
  expect(actual.length, `${what}: size`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (!(Math.abs(actual[i] - expected[i]) <= atol + rtol * Math.abs(expected[i]))) {
      throw new Error(`${what}: element ${i} is ${actual[i]}, expected ${expected[i]}`);
    }
  }
}

const available = kiln.listBackends().filter((b) => b.available).map((b) => b.name);

describe.each(available)('dotProductAttention on %s', (backend) => {
  let before: string;
  beforeAll(async () => {
    before = kiln.getBackend();
    await kiln.setBackend(backend);
  });
  afterAll(async () => {
    kiln.setFusedKernels(true);
    await kiln.setBackend(before);
  });

  for (const fused of [true, false]) {
    for (const dtype of ['float32', 'float64'] as const) {
      it.each(CASES)(`$name (${dtype}, fused ${fused ? 'on' : 'off'})`, (c) => {
        kiln.setFusedKernels(fused);
        const out = kiln.tidy(() => {
          const [q, k, v, options] = inputsOf(c, dtype);
          return ops.dotProductAttention(q, k, v, options);
        });
        const { B, T, N, H } = c.dims;
        expect([...out.shape]).toEqual([B, T, N, H]);
        expect(out.dtype).toBe(dtype);
        const [rtol, atol] = dtype === 'float64' ? [1e-12, 1e-13] : [1e-5, 1e-6];
        expectClose(out.dataSync(), attentionOracle(c), rtol, atol, c.name);
        out.dispose();
      });
    }
  }

  it('one query, two keys, by hand: logits 0 and ln 3 give weights 1/4 and 3/4, so 4·¼ + 8·¾ = 7', () => {
    const out = ops.dotProductAttention([[[[1]]]], [[[[0]], [[Math.log(3)]]]], [[[[4]], [[8]]]], { scale: 1 });
    expect(out.dataSync()[0]).toBeCloseTo(7, 5);
    out.dispose();
  });

  it('a fully masked query averages every value, as Keras\'s numpy backend does: (4 + 8) / 2 = 6', () => {
    const out = ops.dotProductAttention([[[[1]]]], [[[[0]], [[5]]]], [[[[4]], [[8]]]], { mask: [[false, false]] });
    expect(out.dataSync()[0]).toBeCloseTo(6, 5);
    out.dispose();
  });
});

describe('dotProductAttention gradients (reference, float64, central differences)', () => {
  let before: string;
  beforeAll(async () => {
    before = kiln.getBackend();
    await kiln.setBackend('reference');
  });
  afterAll(async () => {
    kiln.setFusedKernels(true);
    await kiln.setBackend(before);
  });

  const GRAD_CASES: Case[] = [
    make('grouped heads with bias', d(2, 3, 4, 4, 2, 3), { bias: { values: pseudoRandom(48, 21), shape: [4, 3, 4] } }),
    make('causal and a mask with a fully masked row, T > S', d(1, 4, 3, 2, 1, 2), {
      causal: true, bias: { values: pseudoRandom(12, 22), shape: [1, 1, 4, 3] },
      mask: { values: [true, true, true, false, false, false, true, false, true, true, true, true], shape: [4, 3] },
    }),
  ];

  for (const fused of [true, false]) {
    it.each(GRAD_CASES)(`$name (fused ${fused ? 'on' : 'off'})`, (c) => {
      kiln.setFusedKernels(fused);
      const [q, k, v, { bias, mask, scale, isCausal }] = inputsOf(c, 'float64');
      const xs = [q, k, v, bias!];
      const { B, T, N, H } = c.dims;
      const w = kiln.tensor(pseudoRandom(B * T * N * H, 99), [B, T, N, H], 'float64');
      const loss = (...a: Tensor[]) => ops.sum(ops.multiply(ops.dotProductAttention(a[0], a[1], a[2], { bias: a[3], mask, scale, isCausal }), w));
      const grads = kiln.grad(loss)(...xs) as Tensor[];
      const lossAt = (args: Tensor[]) => kiln.tidy(() => loss(...args)).dataSync()[0];
      const eps = 1e-6;
      xs.forEach((x, i) => {
        const base = x.dataSync();
        const numeric = Array.from(base, (_, j) => {
          const moved = (delta: number) => {
            const values = base.slice();
            values[j] += delta;
            return kiln.tidy(() => lossAt(xs.map((o, m) => (m === i ? kiln.tensor(values, [...x.shape] as number[], 'float64') : o))));
          };
          return (moved(eps) - moved(-eps)) / (2 * eps);
        });
        expectClose(grads[i].dataSync(), numeric, 1e-6, 1e-8, `${c.name}: gradient of input ${i}`);
      });
      kiln.dispose([...xs, w, ...grads]);
      if (mask) mask.dispose();
    });
  }
});

describe('dotProductAttention shapes and errors', () => {
  const q = () => kiln.zeros([2, 3, 4, 5]);
  const kv = (K = 2, H = 5) => kiln.zeros([2, 6, K, H]);

  it('infers [B, T, N, H] symbolically, batch unknown, in the result dtype', () => {
    const query = kiln.Input({ shape: [3, 4, 5] }) as unknown as Tensor;
    const key = kiln.Input({ shape: [6, 2, 5] }) as unknown as Tensor;
    const out = ops.dotProductAttention(query, key, key, { mask: kiln.ones([3, 6], 'bool'), isCausal: true });
    expect([...out.shape]).toEqual([null, 3, 4, 5]);
    expect(out.dtype).toBe('float32');
  });

  it('integer operands compute in float32', () => {
    const out = ops.dotProductAttention(kiln.ones([1, 1, 1, 2], 'int32'), kiln.ones([1, 2, 1, 2], 'int32'), kiln.ones([1, 2, 1, 2], 'int32'));
    expect(out.dtype).toBe('float32');
    expect(Array.from(out.dataSync())).toEqual([1, 1]);
  });

  it('bad input fails, naming the op, what it expected and what it got', () => {
    const op = 'dotProductAttention';
    expect(() => ops.dotProductAttention(kiln.zeros([3, 4, 5]), kv(), kv())).toThrow(`${op}: query must have rank 4 ([B, T, N, H]), got shape [3,4,5]`);
    expect(() => ops.dotProductAttention(q(), kiln.zeros([2, 6, 10]), kv())).toThrow(`${op}: key must have rank 4 ([B, S, K, H]), got shape [2,6,10]`);
    expect(() => ops.dotProductAttention(q(), kv(), kv(1))).toThrow(`${op}: key and value must have the same shape [B, S, K, H]`);
    expect(() => ops.dotProductAttention(q(), kv(3), kv(3))).toThrow(`${op}: query's heads N must be a multiple of key's heads K (grouped-query attention), got N = 4 and K = 3`);
    expect(() => ops.dotProductAttention(q(), kv(2, 4), kv(2, 4))).toThrow(`${op}: query and key must have the same head size H`);
    expect(() => ops.dotProductAttention(q(), kiln.zeros([1, 6, 2, 5]), kiln.zeros([1, 6, 2, 5]))).toThrow(`${op}: query and key must have the same batch size B`);
    expect(() => ops.dotProductAttention(q(), kv(), kv(), { mask: kiln.ones([3, 5], 'bool') })).toThrow(`${op}: mask must broadcast to the logits' shape [B, N, T, S] = [2,4,3,6], got shape [3,5]`);
    expect(() => ops.dotProductAttention(q(), kv(), kv(), { bias: kiln.zeros([1, 2, 4, 3, 6]) })).toThrow(`${op}: bias must broadcast to the logits' shape [B, N, T, S] = [2,4,3,6], got shape [1,2,4,3,6]`);
    expect(() => ops.dotProductAttention(q(), kv(), kv(), { scale: Number.NaN })).toThrow(`${op}: scale must be a finite number or null, got NaN`);
    expect(() => ops.dotProductAttention(q(), kv(), kv(), { scale: '1' as never })).toThrow(`${op}: scale must be a finite number or null, got "1"`);
    expect(() => ops.dotProductAttention(q(), kv(), kv(), { isCausal: 1 as never })).toThrow(`${op}: isCausal must be a boolean, got 1`);
  });
});
