/**
 * The native addon's convolution and pooling kernels (fused:conv, fused:convGrad, fused:pool:*,
 * fused:poolGrad:*), called on its buffers and checked against float64 loops written from the
 * contract (./conv-oracle.ts, run by ./conv-run.ts) and against the reference backend. The cases
 * reach every path of the C++: a 1×1 kernel (x is the GEMM's A), im2col packed from x (panels
 * whose rows cross output rows and the padding), groups, the depthwise loops (multiplier 1 and
 * 3, one input channel), col2im (one task per sample, and the threaded GEMM for a single
 * sample), row blocks on the pool's threads, shapes past the GEMM's k, row and column blocks
 * with odd tails, 1 to 3 spatial axes, both float dtypes, every micro-kernel family the CPU has.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { findBackend } from '../../src/backends.js';
import type { NativeBackend } from '../../backends/native/backend.js';
import type { Backend, FusedActivation, TensorInfo } from '../../backends/contract.js';
import { type ConvCase, product, values } from './conv-oracle.js';
import { Buffers, EPS, as, checkConv, checkPool, convCase, convInputs, kernels, mismatches, poolCase } from './conv-run.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const available = kiln.listBackends().some((b) => b.name === 'native' && b.available);
if (!available) console.log(`test/native/conv: skipped, the native backend is unavailable: ${kiln.listBackends().find((b) => b.name === 'native')?.reason}`);

const ACTIVATIONS: FusedActivation[] = ['linear', 'relu', 'sigmoid', 'tanh'];
const native = async () => (await findBackend('native')) as NativeBackend;

/** Runs f with the pool at `threads` threads, then puts the count back. */
async function withThreads<R>(threads: number, f: () => R | Promise<R>): Promise<R> {
  const b = await native();
  const before = b.addon.numThreads();
  b.addon.setNumThreads(threads);
  try {
    return await f();
  } finally {
    b.addon.setNumThreads(before);
  }
}

const same3 = [[1, 1], [1, 1]];
const CASES: [string, ConvCase][] = [
  ['2D 3x3 same', convCase([2, 9, 11, 5], [3, 3, 5, 7], { pads: same3 })],
  ['2D 1x1 (x is the GEMM operand)', convCase([2, 5, 6, 20], [1, 1, 20, 33])],
  ['2D 1x1 stride 2', convCase([2, 7, 6, 9], [1, 1, 9, 10], { strides: [2, 2] })],
  ['2D groups 2, stride 2, padding', convCase([3, 9, 8, 6], [3, 3, 3, 10], { strides: [2, 2], pads: same3, groups: 2 })],
  ['2D groups 3, 1x1', convCase([2, 4, 5, 9], [1, 1, 3, 6], { groups: 3 })],
  ['2D depthwise', convCase([2, 8, 7, 7], [3, 3, 1, 7], { pads: same3, groups: 7 })],
  ['2D depthwise x3, stride 2', convCase([3, 9, 9, 4], [3, 3, 1, 12], { strides: [2, 2], pads: same3, groups: 4 })],
  ['2D one input channel (single_channel_conv, 32 filters)', convCase([2, 10, 9, 1], [3, 3, 1, 32], { pads: same3 })],
  ['2D dilation 2', convCase([2, 11, 10, 4], [3, 3, 4, 6], { dilations: [2, 2], pads: [[2, 2], [2, 2]] })],
  ['2D padding past the kernel reach, asymmetric', convCase([1, 5, 6, 3], [2, 2, 3, 4], { pads: [[3, 0], [0, 2]] })],
  ['2D stride 3, kernel 2 (gaps between windows)', convCase([2, 10, 11, 3], [2, 2, 3, 5], { strides: [3, 3], pads: [[0, 1], [1, 0]] })],
  ['1D causal', convCase([3, 17, 3], [5, 3, 4], { pads: [[4, 0]] })],
  ['1D stride 2', convCase([2, 16, 6], [4, 6, 5], { strides: [2], pads: [[1, 1]] })],
  ['3D', convCase([2, 4, 5, 3, 3], [2, 3, 2, 3, 5], { strides: [1, 2, 1], pads: [[0, 1], [1, 1], [1, 0]] })],
  ['3D dilation (1, 2, 1), groups 3', convCase([1, 3, 6, 4, 6], [2, 2, 2, 2, 9], { dilations: [1, 2, 1], pads: [[1, 0], [1, 1], [0, 1]], groups: 3 })],
];

describe.runIf(available)('native conv and convGrad against float64 loops', () => {
  for (const dtype of ['float32', 'float64'] as const) {
    for (const [name, c] of CASES) {
      it(`${dtype} ${name}: every activation`, async () => {
        const b = await native();
        for (const [i, activation] of ACTIVATIONS.entries()) expect(checkConv(b, c, dtype, activation, 10 * i + 1)).toEqual([]);
      });
    }
  }

  it('absent bias and gradients nobody wants', async () => {
    const b = await native();
    const c = convCase([2, 6, 7, 4], [3, 3, 4, 5], { strides: [2, 1], pads: same3 });
    expect(checkConv(b, c, 'float32', 'relu', 3, { dx: false, dw: true, dBias: false, bias: false })).toEqual([]);
    expect(checkConv(b, c, 'float32', 'tanh', 4, { dx: true, dw: false, dBias: false, bias: true })).toEqual([]);
    expect(checkConv(b, c, 'float64', 'sigmoid', 5, { dx: false, dw: false, dBias: true, bias: true })).toEqual([]);
    const depthwise = convCase([2, 5, 5, 3], [3, 3, 1, 6], { groups: 3 });
    expect(checkConv(b, depthwise, 'float32', 'linear', 6, { dx: false, dw: true, dBias: false, bias: false })).toEqual([]);
  });

  // The GEMM blocks k by 384 floats, rows by ~2,700 at that depth and columns by ~700: 3x3x48 =
  // 432 is two k blocks and 5·30·30 = 4,500 rows two row blocks; 770 filters are two column
  // blocks. At 2 threads, 4,500 rows also make row blocks of their own (conv.h's row_blocks).
  it('float32 past the GEMM blocks, in row blocks on 2 threads: depth 432, 4,500 rows, 40 filters', async () => {
    const b = await native();
    const c = convCase([5, 30, 30, 48], [3, 3, 48, 40], { pads: same3 });
    expect(await withThreads(2, () => checkConv(b, c, 'float32', 'relu', 7))).toEqual([]);
  });
  // dw of an im2col at most 32 columns deep is summed row by row (conv_grad.cc's direct path):
  // 3x3 on 3 channels and on 1 (the depthwise case with one group), in row blocks on 2 threads
  it('float32 shallow im2col dw, in row blocks on 2 threads: 3x3 on 3 channels and on 1, 4 samples of 30x30', async () => {
    const b = await native();
    const rgb = convCase([4, 30, 30, 3], [3, 3, 3, 16], { pads: same3 });
    const grey = convCase([4, 30, 30, 1], [3, 3, 1, 32], { strides: [2, 1], pads: same3 });
    expect(await withThreads(2, () => checkConv(b, rgb, 'float32', 'relu', 11))).toEqual([]);
    expect(await withThreads(2, () => checkConv(b, grey, 'float32', 'tanh', 12))).toEqual([]);
    expect(await withThreads(2, () => checkConv(b, grey, 'float64', 'linear', 13, { dx: false, dw: true, dBias: true, bias: true }))).toEqual([]);
  });
  it('float32 past the GEMM blocks: 770 filters, stride 2 (col2im on the threaded GEMM)', async () => {
    const b = await native();
    expect(checkConv(b, convCase([1, 7, 6, 40], [3, 3, 40, 770], { strides: [2, 2], pads: same3 }), 'float32', 'sigmoid', 8)).toEqual([]);
  });
  it('float64 past the GEMM blocks: depth 225 > 192 doubles, groups 2', async () => {
    const b = await native();
    expect(checkConv(b, convCase([3, 12, 13, 18], [5, 5, 9, 22], { pads: [[2, 2], [2, 2]], groups: 2 }), 'float64', 'tanh', 9)).toEqual([]);
  });

  it('every micro-kernel family the CPU has packs its panels right', async () => {
    const b = await native();
    const families = ['portable', 'avx2', 'avx512'];
    // A child per family: the family is fixed when the addon loads.
    const script = `
      import { loadAddon } from './backends/native/addon.ts';
      import { NATIVE_ROWS, NativeBackend } from './backends/native/backend.ts';
      import { checkConv, convCase } from './test/native/conv-run.ts';
      const loaded = loadAddon(NATIVE_ROWS);
      const b = new NativeBackend(loaded.addon);
      b.addon.setNumThreads(2);
      const same = [[1, 1], [1, 1]];
      const cases = [
        convCase([5, 30, 30, 12], [3, 3, 12, 21], { pads: same }),
        convCase([2, 9, 11, 5], [3, 3, 5, 7], { strides: [2, 1], pads: same, groups: 1 }),
        convCase([2, 6, 7, 6], [2, 3, 3, 4], { dilations: [2, 1], pads: [[1, 0], [2, 1]], groups: 2 }),
      ];
      const bad = ['float32', 'float64'].flatMap((dtype) => cases.flatMap((c, i) => checkConv(b, c, dtype, 'tanh', i)));
      console.log(JSON.stringify({ isa: b.addon.isa(), bad: bad.slice(0, 5) }));`;
    for (const family of families.slice(0, families.indexOf(b.addon.isa()) + 1)) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        cwd: ROOT, env: { ...process.env, KILN_GEMM_ISA: family }, encoding: 'utf8',
      });
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout)).toEqual({ isa: family, bad: [] });
    }
  });

  it('agrees with the reference backend', async () => {
    const c = convCase([2, 7, 8, 6], [3, 2, 3, 8], { strides: [2, 1], dilations: [1, 2], pads: [[1, 1], [1, 1]], groups: 2 });
    const v = convInputs(c, 21);
    const run = (b: Backend) => {
      const buf = new Buffers(b, 'float64');
      const tx = buf.put(c.x, v.x), tw = buf.put(c.w, v.w);
      const out = buf.out(v.outShape), dx = buf.out(c.x), dw = buf.out(c.w), db = buf.out([8]);
      kernels(b).conv(tx, tw, buf.put([8], v.bias), c.geometry, 'tanh', out);
      kernels(b).convGrad(buf.put(v.outShape, v.dy), out, tx, tw, c.geometry, 'tanh', dx, dw, db);
      const r = [out, dx, dw, db].map((t) => Float64Array.from(buf.read(t)));
      buf.free();
      return r;
    };
    const [mine, theirs] = [run(await native()), run(await findBackend('reference'))];
    // both sum in float64, in different orders: within a few roundings of the largest value
    mine.forEach((m, i) => {
      const scale = new Float64Array(m.length).fill(Math.max(...theirs[i].map(Math.abs)));
      expect(mismatches(`output ${i}`, m, theirs[i], scale, 64, EPS.float64)).toEqual([]);
    });
  });
});

describe.runIf(available)('native pool and poolGrad against float64 loops', () => {
  const cases = [
    ['2D 3x3 stride 2 same', poolCase([2, 9, 8, 5], [3, 3], [2, 2], [[1, 1], [1, 0]])],
    ['2D 2x2 stride 2, 37 channels', poolCase([3, 8, 6, 37], [2, 2], [2, 2], [[0, 0], [0, 0]])],
    ['1D overlapping windows', poolCase([2, 13, 4], [4], [1], [[2, 1]])],
    ['3D', poolCase([2, 4, 5, 3, 3], [2, 3, 2], [2, 1, 2], [[0, 0], [1, 1], [1, 0]])],
    ['2D many channels, one sample (blocks of channels)', poolCase([1, 5, 5, 300], [3, 3], [1, 1], [[1, 1], [1, 1]])],
  ] as const;
  for (const dtype of ['float32', 'float64'] as const) {
    for (const op of ['max', 'avg'] as const) {
      for (const [name, p] of cases) {
        it(`${dtype} ${op} ${name}, native and reference`, async () => {
          // small integers: many ties within a window, which share max's gradient
          const x = as(dtype, values(product(p.x), 3).map((v) => Math.round(v * 3)));
          for (const b of [await native(), await findBackend('reference')]) expect(checkPool(b, p, op, dtype, x)).toEqual([]);
        });
      }
    }
  }

  it('a NaN wins a max window and sends NaN back to all of it; -Infinity is a max like any', async () => {
    const p = poolCase([1, 4, 4, 2], [2, 2], [2, 2], [[0, 0], [0, 0]]);
    const x = values(32, 4);
    x[0] = NaN;
    x[13] = -Infinity;
    for (const i of [10, 11, 14, 15]) x[i] = -Infinity;
    const b = await native();
    expect(checkPool(b, p, 'max', 'float32', as('float32', x))).toEqual([]);
    expect(checkPool(b, p, 'avg', 'float64', x)).toEqual([]);
  });

  it('a large pooling runs on the threads and gives what one thread gives', async () => {
    const b = await native();
    const p = poolCase([8, 20, 20, 64], [3, 3], [2, 2], [[1, 1], [1, 1]]);
    const x = as('float32', values(product(p.x), 5));
    for (const threads of [1, 3]) {
      expect(await withThreads(threads, () => checkPool(b, p, 'max', 'float32', x))).toEqual([]);
      expect(await withThreads(threads, () => checkPool(b, p, 'avg', 'float32', x))).toEqual([]);
    }
  });
});

describe.runIf(available)('native conv and pool refuse bad geometry with an Error', () => {
  /** fused:conv run with raw ints, as the encoding in backend.ts would send them. */
  const conv = async (ints: number[], shapes: number[][] = [[1, 5, 5, 4], [3, 3, 2, 6], [6], [1, 3, 3, 6]]) => {
    const b = await native();
    const buf = new Buffers(b, 'float32');
    const t = shapes.map((s) => buf.put(s, new Float64Array(product(s))));
    const encode = [t.length, ...t.flatMap((x) => [x.id, x.shape.length, ...x.shape]), ints.length, ...ints, 0];
    try {
      b.addon.run(b.addon.kernels.indexOf('fused:conv'), Int32Array.from(encode), new Float64Array(0));
    } finally {
      buf.free();
    }
  };
  // [d, strides, dilations, padsBefore, groups, activation]
  const ok = [2, 1, 1, 1, 1, 0, 0, 2, 0];
  it('accepts the geometry the contract describes', async () => {
    await expect(conv(ok)).resolves.toBeUndefined();
  });
  it.each([
    ['groups that do not divide the channels', [2, 1, 1, 1, 1, 0, 0, 3, 0]],
    ['a zero stride', [2, 0, 1, 1, 1, 0, 0, 2, 0]],
    ['a negative dilation', [2, 1, 1, 1, -1, 0, 0, 2, 0]],
    ['a negative padding', [2, 1, 1, 1, 1, -1, 0, 2, 0]],
    ['an unknown activation', [2, 1, 1, 1, 1, 0, 0, 2, 9]],
    ['too few ints', [2, 1, 1, 1, 1, 0, 0, 2]],
    ['a spatial rank that does not match x', [3, 1, 1, 1, 1, 1, 1, 0, 0, 0, 2, 0]],
    ['no ints', []],
  ])('%s', async (_, ints) => {
    await expect(conv(ints)).rejects.toThrow(/native: fused conv/);
  });
  it('w with the wrong channels per group, an output with the wrong filters, a bias of the wrong size, an empty kernel', async () => {
    await expect(conv(ok, [[1, 5, 5, 4], [3, 3, 4, 6], [6], [1, 3, 3, 6]])).rejects.toThrow(/channels per group/);
    await expect(conv(ok, [[1, 5, 5, 4], [3, 3, 2, 6], [6], [1, 3, 3, 5]])).rejects.toThrow(/filters/);
    await expect(conv(ok, [[1, 5, 5, 4], [3, 3, 2, 6], [5], [1, 3, 3, 6]])).rejects.toThrow(/tensor 2/);
    await expect(conv(ok, [[1, 5, 5, 4], [0, 3, 2, 6], [6], [1, 3, 3, 6]])).rejects.toThrow(/kernel size 0/);
  });
  it('convGrad with a y unlike dy, or a dw unlike w', async () => {
    const b = await native();
    const buf = new Buffers(b, 'float32');
    const g = { strides: [1], dilations: [1], padsBefore: [0], groups: 1 };
    const [x, w, dy] = [buf.out([1, 5, 2]), buf.out([3, 2, 4]), buf.out([1, 3, 4])];
    expect(() => kernels(b).convGrad(dy, buf.out([1, 4, 3]), x, w, g, 'relu', null, null, buf.out([4]))).toThrow(/tensor 1/);
    expect(() => kernels(b).convGrad(dy, dy, x, w, g, 'relu', null, buf.out([3, 4, 2]), null)).toThrow(/tensor 5/);
    buf.free();
  });
  it('empty tensors: no batch, no filters, no channels', async () => {
    const b = await native();
    const buf = new Buffers(b, 'float32');
    const g = (strides: number[]) => ({ strides, dilations: [1, 1], padsBefore: [1, 1], groups: 1 });
    const zeros = (t: TensorInfo) => expect(Array.from(buf.read(t))).toEqual(new Array(product(t.shape)).fill(0));
    for (const s of [[1, 1], [2, 2]]) {
      const o = s[0] === 1 ? 5 : 3;
      // no batch: dw and dBias are sums of nothing
      const dw = buf.out([3, 3, 2, 4]), db = buf.out([4]);
      kernels(b).convGrad(buf.out([0, o, o, 4]), buf.out([0, o, o, 4]), buf.out([0, 5, 5, 2]), buf.out([3, 3, 2, 4]), g(s), 'relu', buf.out([0, 5, 5, 2]), dw, db);
      [dw, db].forEach(zeros);
      // no filters: dx takes nothing
      const dx = buf.out([1, 5, 5, 2]);
      kernels(b).convGrad(buf.out([1, o, o, 0]), buf.out([1, o, o, 0]), buf.out([1, 5, 5, 2]), buf.out([3, 3, 2, 0]), g(s), 'tanh', dx, buf.out([3, 3, 2, 0]), null);
      zeros(dx);
      // no channels: the output is the bias, dBias still sums dy
      const out = buf.out([1, o, o, 4]), db2 = buf.out([4]);
      kernels(b).conv(buf.out([1, 5, 5, 0]), buf.out([3, 3, 0, 4]), buf.put([4], [1, 2, 3, 4]), g(s), 'linear', out);
      expect(Array.from(buf.read(out))).toEqual(Array.from({ length: o * o * 4 }, (_, i) => (i % 4) + 1));
      kernels(b).convGrad(buf.put([1, o, o, 4], new Float64Array(o * o * 4).fill(1)), out, buf.out([1, 5, 5, 0]), buf.out([3, 3, 0, 4]), g(s), 'linear', buf.out([1, 5, 5, 0]), buf.out([3, 3, 0, 4]), db2);
      expect(Array.from(buf.read(db2))).toEqual([o * o, o * o, o * o, o * o]);
    }
    buf.free();
  });
  it('a pooling window that holds no input position', async () => {
    const b = await native();
    const buf = new Buffers(b, 'float32');
    const x = buf.put([1, 4, 2], new Float64Array(8)), y = buf.out([1, 3, 2]);
    expect(() => kernels(b).pool('max', x, { window: [2], strides: [1], padsBefore: [3] }, y)).toThrow(/holds no input position/);
    expect(() => kernels(b).pool('avg', x, { window: [2], strides: [3], padsBefore: [0] }, y)).toThrow(/holds no input position/);
    expect(() => kernels(b).pool('avg', x, { window: [0], strides: [1], padsBefore: [0] }, y)).toThrow(/window 0/);
    expect(() => kernels(b).poolGrad('max', y, x, buf.out([1, 3, 3]), { window: [2], strides: [1], padsBefore: [0] }, buf.out([1, 4, 2]))).toThrow(/tensor 2/);
    buf.free();
  });
});
