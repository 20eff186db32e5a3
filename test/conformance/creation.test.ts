/**
 * Making tensors and living with them: kiln.tensor from every kind of input, the creation
 * functions, the Tensor API (shape, dtype, size, rank, data, array, item, toString), and memory:
 * tidy, keep, dispose, Symbol.dispose and views, with memory() returning to its baseline.
 */
import { expect, vi } from 'vitest';
import * as kiln from '../../index.js';
import type { DType } from '../../backends/contract.js';
import { findBackend } from '../../src/backends.js';
import { check, checkOp, describeBackends, expectClose, group } from './harness.js';

const { ops } = kiln;

/** Runs `fn` and checks that the backend holds as many tensors and bytes afterwards as before. */
async function leavesNothing(fn: () => unknown): Promise<void> {
  const before = kiln.memory();
  await fn();
  const after = kiln.memory();
  expect({ numTensors: after.numTensors, numBytes: after.numBytes }).toEqual({ numTensors: before.numTensors, numBytes: before.numBytes });
}

/**
 * The fill kernel run directly on a buffer of `size` elements of `dtype`, read back. The
 * expected values are JavaScript's own typed-array stores (the contract's cast rule), except
 * bool, which is value != 0.
 */
async function fillKernel(backend: string, value: number, dtype: DType, size = 5): Promise<number[]> {
  const b = await findBackend(backend);
  const id = b.alloc(dtype, size);
  try {
    b.fill(value, { id, shape: [size], dtype });
    return Array.from(await b.read(id));
  } finally {
    b.free(id);
  }
}

/** What a store of `value` into `dtype` keeps: the contract's cast, written out. */
function castOf(value: number, dtype: DType): number {
  switch (dtype) {
    case 'float32': return Math.fround(value);
    case 'float64': return value;
    // ToInt32: truncate toward zero, wrap modulo 2^32, NaN and infinities give 0
    case 'int32': return Number.isFinite(value) ? Number(BigInt.asIntN(32, BigInt(Math.trunc(value)))) : 0;
    case 'bool': return value !== 0 ? 1 : 0;
  }
}

describeBackends('creation', (backend) => {
  group('fill kernel', () => {
    const specials = [0, -0, 1, -1.7, 1.7, 0.1, 2, 255, 256, -256, 2 ** 31, -(2 ** 31) - 1, 2 ** 32 + 5, 1e300, NaN, Infinity, -Infinity];
    for (const dtype of ['float32', 'float64', 'int32', 'bool'] as const) {
      check(`every value converts as cast does: ${dtype}`, async () => {
        for (const v of specials) {
          const got = await fillKernel(backend, v, dtype);
          const want = castOf(v, dtype);
          expect(got, `fill(${v}) into ${dtype}`).toEqual(new Array(5).fill(want));
          // -0 stays -0 in floats (toEqual does not tell them apart)
          if (Object.is(want, -0)) expect(Object.is(got[0], -0), `fill(-0) into ${dtype}`).toBe(true);
        }
      }, { requires: [dtype] });
    }
    check('sizes across the thread threshold are filled to the end', async () => {
      for (const size of [1, 7, 32_768, 100_003]) {
        const got = await fillKernel(backend, 3.5, 'float32', size);
        expect(got.length).toBe(size);
        expect(got.every((v) => v === 3.5), `size ${size}`).toBe(true);
      }
    });
    check('constants are made on the device: no upload', async () => {
      const b = await findBackend(backend);
      const write = vi.spyOn(b, 'write');
      try {
        const x = kiln.ones([3]);
        const made = kiln.tidy(() => [
          kiln.zeros([2, 2]), kiln.fill([4], -2, 'int32'), kiln.zerosLike(x), kiln.onesLike(x, 'bool'),
          kiln.ops.multiply(x, 2), kiln.ops.add(x, true), kiln.ops.where(kiln.ops.less(x, 2), 1, 0),
        ]);
        expect(write).not.toHaveBeenCalled();
        await expectClose(made[4], [2, 2, 2]);
        await expectClose(made[5], [2, 2, 2]);
        await expectClose(made[6], [1, 1, 1]);
        kiln.dispose([x, ...made]);
      } finally {
        write.mockRestore();
      }
    });
  });

  group('tensor', () => {
    checkOp('number is a float32 scalar', () => kiln.tensor(2.5), 2.5, { dtype: 'float32', shape: [] });
    checkOp('boolean is a bool scalar', () => kiln.tensor(true), true, { dtype: 'bool', shape: [] });
    checkOp('nested numbers', () => kiln.tensor([[1, 2, 3], [4, 5, 6]]), [[1, 2, 3], [4, 5, 6]], { dtype: 'float32' });
    checkOp('nested booleans', () => kiln.tensor([[true], [false]]), [[true], [false]], { dtype: 'bool' });
    checkOp('rank 4', () => kiln.tensor([[[[1]], [[2]]]]), [[[[1]], [[2]]]], { dtype: 'float32' });
    checkOp('empty array', () => kiln.tensor([]), [], { shape: [0], dtype: 'float32' });
    checkOp('empty rows', () => kiln.tensor([[], []]), [[], []], { shape: [2, 0] });
    checkOp('flat values with a shape', () => kiln.tensor([1, 2, 3, 4, 5, 6], [3, 2]), [[1, 2], [3, 4], [5, 6]]);
    checkOp('a number with shape [1,1]', () => kiln.tensor(5, [1, 1]), [[5]]);
    checkOp('explicit int32 truncates', () => kiln.tensor([1.7, -1.7, 3], [3], 'int32'), [1, -1, 3], { dtype: 'int32' });
    checkOp('explicit bool', () => kiln.tensor([1, 0, -2], [3], 'bool'), [true, false, true], { dtype: 'bool' });
    checkOp('explicit float64 keeps every digit', () => kiln.tensor([0.1, 1 / 3], [2], 'float64'), [0.1, 1 / 3], { dtype: 'float64' });
    checkOp('float32 rounds', () => kiln.tensor([0.1]), [Math.fround(0.1)], { dtype: 'float32', rtol: 0, atol: 0 });
    checkOp('special values', () => kiln.tensor([NaN, Infinity, -Infinity, -0]), [NaN, Infinity, -Infinity, 0]);
    checkOp('Float32Array', () => kiln.tensor(new Float32Array([1, 2])), [1, 2], { dtype: 'float32' });
    checkOp('Float64Array', () => kiln.tensor(new Float64Array([0.1, 2])), [0.1, 2], { dtype: 'float64' });
    checkOp('Int32Array', () => kiln.tensor(new Int32Array([-1, 2])), [-1, 2], { dtype: 'int32' });
    checkOp('Uint8Array is bool', () => kiln.tensor(new Uint8Array([1, 0])), [true, false], { dtype: 'bool' });
    checkOp('typed array with shape', () => kiln.tensor(new Int32Array([1, 2, 3, 4]), [2, 2]), [[1, 2], [3, 4]], { dtype: 'int32' });
    checkOp('typed array converted', () => kiln.tensor(new Float64Array([1.5, -2.5]), [2], 'int32'), [1, -2], { dtype: 'int32' });
    checkOp('Uint8Array values other than 0 and 1 are true', () => kiln.tensor(new Uint8Array([2, 0, 255])), [true, false, true], { dtype: 'bool' });
    checkOp('Int8Array converts to float32', () => kiln.tensor(new Int8Array([-128, 5])), [-128, 5], { dtype: 'float32' });
    checkOp('Float32Array to int32 truncates toward zero', () => kiln.tensor(new Float32Array([1.75, -1.75, 2.5]), [3], 'int32'), [1, -1, 2], { dtype: 'int32' });
    checkOp('Float32Array to float64 keeps the float32 values', () => kiln.tensor(new Float32Array([0.1]), [1], 'float64'), [Math.fround(0.1)], { dtype: 'float64', rtol: 0, atol: 0 });
    checkOp('a subarray is its own values only', () => kiln.tensor(new Float32Array([1, 2, 3, 4, 5]).subarray(1, 4), [3]), [2, 3, 4], { dtype: 'float32' });
    check('a BigInt64Array is refused, naming the element', () => {
      expect(() => kiln.tensor(new BigInt64Array([1n]) as unknown as number[])).toThrow('tensor: element 0 is bigint 1; expected numbers or booleans');
    });
    check('the source array is copied', async () => {
      const source = new Float32Array([1, 2]);
      const t = kiln.tensor(source);
      source[0] = 9;
      await expectClose(t, [1, 2]);
      t.dispose();
    });
  });

  group('fill and friends', () => {
    checkOp('zeros', () => kiln.zeros([2, 3]), [[0, 0, 0], [0, 0, 0]], { dtype: 'float32' });
    checkOp('zeros int32', () => kiln.zeros([2], 'int32'), [0, 0], { dtype: 'int32' });
    checkOp('zeros scalar', () => kiln.zeros([]), 0, { shape: [] });
    checkOp('zeros size 0', () => kiln.zeros([0, 4]), [], { shape: [0, 4] });
    checkOp('ones bool', () => kiln.ones([2], 'bool'), [true, true], { dtype: 'bool' });
    checkOp('ones float64', () => kiln.ones([1], 'float64'), [1], { dtype: 'float64' });
    checkOp('fill', () => kiln.fill([2, 2], -1.5), [[-1.5, -1.5], [-1.5, -1.5]], { dtype: 'float32' });
    checkOp('fill int32', () => kiln.fill([3], 7, 'int32'), [7, 7, 7], { dtype: 'int32' });
    checkOp('fill boolean', () => kiln.fill([2], true), [true, true], { dtype: 'bool' });
    checkOp('fill NaN', () => kiln.fill([2], NaN), [NaN, NaN]);
    checkOp('zerosLike', () => kiln.zerosLike(kiln.tensor([[1, 2]], [1, 2], 'int32')), [[0, 0]], { dtype: 'int32' });
    checkOp('onesLike with dtype', () => kiln.onesLike(kiln.tensor([1, 2]), 'float64'), [1, 1], { dtype: 'float64' });
    checkOp('fullLike', () => kiln.fullLike(kiln.tensor([true, false]), 1), [true, true], { dtype: 'bool' });
    checkOp('range(5) is int32', () => kiln.range(5), [0, 1, 2, 3, 4], { dtype: 'int32' });
    checkOp('range with fractional step', () => kiln.range(1, 2, 0.25), [1, 1.25, 1.5, 1.75], { dtype: 'float32' });
    checkOp('range counting down', () => kiln.range(5, 0, -2), [5, 3, 1], { dtype: 'int32' });
    checkOp('empty range', () => kiln.range(3, 1), [], { shape: [0] });
    checkOp('range with dtype', () => kiln.range(0, 3, 1, 'float64'), [0, 1, 2], { dtype: 'float64' });
    checkOp('eye', () => kiln.eye(3), [[1, 0, 0], [0, 1, 0], [0, 0, 1]], { dtype: 'float32' });
    checkOp('eye rectangular, upper diagonal', () => kiln.eye(2, 3, 1), [[0, 1, 0], [0, 0, 1]]);
    checkOp('eye lower diagonal int32', () => kiln.eye(3, 2, -1, 'int32'), [[0, 0], [1, 0], [0, 1]], { dtype: 'int32' });
  });

  group('Tensor API', () => {
    check('shape, dtype, size, rank', () => {
      const t = kiln.tensor([[1, 2, 3], [4, 5, 6]], undefined, 'int32');
      expect([t.shape, t.dtype, t.size, t.rank]).toEqual([[2, 3], 'int32', 6, 2]);
      expect(Object.isFrozen(t.shape)).toBe(true);
      const s = kiln.tensor(1);
      expect([s.shape, s.size, s.rank]).toEqual([[], 1, 0]);
      const e = kiln.zeros([3, 0]);
      expect([e.size, e.rank]).toEqual([0, 2]);
      kiln.dispose([t, s, e]);
    });
    const kinds: [DType, unknown][] = [['float32', Float32Array], ['float64', Float64Array], ['int32', Int32Array], ['bool', Uint8Array]];
    for (const [dtype, type] of kinds) {
      check(`data() of ${dtype} is a ${(type as { name: string }).name}`, async () => {
        const t = kiln.tensor([1, 0], [2], dtype);
        const d = await t.data();
        expect(d).toBeInstanceOf(type);
        expect(Array.from(d)).toEqual([1, 0]);
        t.dispose();
      }, { requires: [dtype] });
    }
    check('data() is a copy', async () => {
      const t = kiln.tensor([1, 2]);
      (await t.data())[0] = 9;
      expect(Array.from(await t.data())).toEqual([1, 2]);
      t.dispose();
    });
    check('array() nests numbers and booleans', async () => {
      const t = kiln.tensor([[1, 2], [3, 4]]);
      const b = kiln.tensor([[true, false]]);
      const s = kiln.tensor(7, [], 'int32');
      expect(await t.array()).toEqual([[1, 2], [3, 4]]);
      expect(await b.array()).toEqual([[true, false]]);
      expect(await s.array()).toBe(7);
      const e = kiln.zeros([2, 0]);
      expect(await e.array()).toEqual([[], []]);
      kiln.dispose([t, b, s, e]);
    });
    check('item()', async () => {
      const t = kiln.tensor([[3.5]]);
      expect(await t.item()).toBe(3.5);
      t.dispose();
    });
    check('toString shows dtype, shape and values', () => {
      const t = kiln.tensor([[1, 2.5], [NaN, -Infinity]]);
      const text = t.toString();
      expect(text).toContain('float32');
      expect(text).toContain('[2,2]');
      if (text.includes('await data()')) {
        // a backend without synchronous reads shows the head only, and says how to read
        t.dispose();
        return;
      }
      for (const v of ['1', '2.5', 'nan', '-inf']) expect(text).toContain(v);
      const b = kiln.tensor([true, false]);
      expect(b.toString()).toMatch(/true.*false/);
      b.dispose();
      const long = kiln.range(1000);
      expect(long.toString()).toContain('...');
      expect(long.toString().length).toBeLessThan(200);
      t.dispose();
      expect(t.toString()).toContain('disposed');
      long.dispose();
    });
  });

  group('memory', () => {
    check('tidy frees what it does not return', () => leavesNothing(async () => {
      const x = kiln.tensor([1, 2, 3]);
      const before = kiln.memory().numTensors;
      const y = kiln.tidy(() => ops.add(ops.square(x), ops.exp(x)));
      expect(kiln.memory().numTensors).toBe(before + 1);
      await expectClose(y, [1 + Math.E, 4 + Math.exp(2), 9 + Math.exp(3)]);
      kiln.dispose([x, y]);
    }));
    check('tidy returns arrays and objects of tensors', () => leavesNothing(() => {
      const out = kiln.tidy(() => ({ a: kiln.ones([2]), b: [kiln.zeros([3]), kiln.fill([1], 2)] }));
      expect(out.a.isDisposed || out.b[0].isDisposed || out.b[1].isDisposed).toBe(false);
      kiln.dispose(out);
    }));
    check('nested tidy hands its result to the outer scope', () => leavesNothing(() => {
      let inner: kiln.Tensor | null = null;
      kiln.tidy(() => {
        inner = kiln.tidy(() => ops.add(kiln.ones([2]), 1));
        return undefined;
      });
      expect(inner!.isDisposed).toBe(true);
    }));
    check('keep exempts a tensor from tidy', () => leavesNothing(() => {
      let kept: kiln.Tensor | null = null;
      kiln.tidy(() => {
        kept = kiln.keep(kiln.ones([4]));
        kiln.zeros([4]);
      });
      expect(kept!.isDisposed).toBe(false);
      kept!.dispose();
    }));
    check('tidy refuses an async function', () => {
      expect(() => kiln.tidy((async () => kiln.ones([1])) as unknown as () => kiln.Tensor)).toThrow(/tidy: .*Promise/);
    });
    // a backend may round buffers up (GPUs align them), so bytes are at least the values' size
    check('numBytes counts each buffer once', () => leavesNothing(() => {
      const base = kiln.memory().numBytes;
      const x = kiln.zeros([10]);
      const held = kiln.memory().numBytes - base;
      expect(held).toBeGreaterThanOrEqual(40);
      const view = ops.reshape(x, [2, 5]);
      expect(kiln.memory().numBytes - base).toBe(held);
      x.dispose();
      expect(kiln.memory().numBytes - base, 'the view still holds the buffer').toBe(held);
      view.dispose();
      const d = kiln.zeros([3], 'float64');
      const b = kiln.zeros([3], 'bool');
      const i = kiln.zeros([3], 'int32');
      expect(kiln.memory().numBytes - base).toBeGreaterThanOrEqual(3 * 8 + 3 + 3 * 4);
      kiln.dispose([d, b, i]);
    }), { requires: ['float64'] });
    check('dispose takes arrays, objects and Variables', () => leavesNothing(() => {
      const init = kiln.ones([2]);
      const v = new kiln.Variable(init);
      kiln.dispose({ a: kiln.ones([1]), b: [kiln.ones([2]), { c: kiln.ones([3]) }], v, init });
    }));
    check('disposing twice is harmless', () => leavesNothing(() => {
      const t = kiln.ones([3]);
      t.dispose();
      t.dispose();
      expect(t.isDisposed).toBe(true);
    }));
    check('Symbol.dispose disposes', () => leavesNothing(() => {
      const t = kiln.ones([3]);
      t[Symbol.dispose]();
      expect(t.isDisposed).toBe(true);
    }));
    check('ops on many tensors in a loop leave nothing', () => leavesNothing(async () => {
      const w = kiln.ones([4, 4]);
      for (let step = 0; step < 50; step++) {
        const y = kiln.tidy(() => ops.sum(ops.relu(ops.matmul(w, ops.transpose(w)))));
        await y.data();
        y.dispose();
      }
      w.dispose();
    }));
  });
});
