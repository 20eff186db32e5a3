import { describe, expect, it } from 'vitest';
import * as kiln from '../index.js';
import type { DType } from '../index.js';
import { Generator } from '../src/random.js';
import {
  computeFans, Constant, getInitializer, GlorotNormal, GlorotUniform, HeNormal, HeUniform, Identity,
  Initializer, LecunNormal, LecunUniform, Ones, Orthogonal, RandomNormal, RandomUniform, serializeInitializer,
  TruncatedNormal, VarianceScaling, Zeros,
} from '../src/initializers/index.js';

/** The values of a freshly made tensor, as float64, the tensor disposed. */
function values(t: kiln.Tensor): Float64Array {
  const v = Float64Array.from(t.dataSync());
  t.dispose();
  return v;
}

function moments(v: Float64Array): { mean: number; variance: number; maxAbs: number } {
  let s = 0;
  let maxAbs = 0;
  for (const x of v) {
    s += x;
    maxAbs = Math.max(maxAbs, Math.abs(x));
  }
  const mean = s / v.length;
  let ss = 0;
  for (const x of v) ss += (x - mean) ** 2;
  return { mean, variance: ss / v.length, maxAbs };
}

/**
 * Checks the sample mean (0) and variance against `variance` within 5 standard errors:
 * sd(mean) = sqrt(var/N), sd(sample variance) = var·sqrt((kurtosis - 1)/N), with kurtosis 9/5
 * for uniform and at most 3 for (truncated) normal draws.
 */
function expectMoments(v: Float64Array, variance: number, kurtosis: number): void {
  const m = moments(v);
  const n = v.length;
  expect(Math.abs(m.mean)).toBeLessThan(5 * Math.sqrt(variance / n));
  expect(Math.abs(m.variance - variance)).toBeLessThan(5 * variance * Math.sqrt((kurtosis - 1) / n));
}

const UNIFORM_KURTOSIS = 9 / 5;
const NORMAL_KURTOSIS = 3;

describe('computeFans (Keras compute_fans)', () => {
  it('handles scalars, vectors, matrices and conv kernels', () => {
    expect(computeFans([])).toEqual({ fanIn: 1, fanOut: 1 });
    expect(computeFans([7])).toEqual({ fanIn: 7, fanOut: 7 });
    expect(computeFans([3, 5])).toEqual({ fanIn: 3, fanOut: 5 });
    // Conv2D kernel [kh, kw, in, out]: receptive field 3·3
    expect(computeFans([3, 3, 16, 32])).toEqual({ fanIn: 144, fanOut: 288 });
    expect(computeFans([5, 8, 4])).toEqual({ fanIn: 40, fanOut: 20 });
  });
});

describe('VarianceScaling presets match the Keras formulas', () => {
  // fanIn 400, fanOut 600, fanAvg 500; 240 000 draws
  const dense = [400, 600];
  // fanIn 5·5·64 = 1600, fanOut 5·5·128 = 3200; 204 800 draws
  const conv = [5, 5, 64, 128];

  const cases: [string, Initializer, number[], number, 'uniform' | 'truncated' | 'normal'][] = [
    ['glorot_uniform: limit sqrt(6/(in+out))', new GlorotUniform({ seed: 1 }), dense, 2 / 1000, 'uniform'],
    ['glorot_normal: stddev sqrt(2/(in+out))', new GlorotNormal({ seed: 2 }), dense, 2 / 1000, 'truncated'],
    ['he_uniform: limit sqrt(6/in)', new HeUniform({ seed: 3 }), dense, 2 / 400, 'uniform'],
    ['he_normal: stddev sqrt(2/in)', new HeNormal({ seed: 4 }), dense, 2 / 400, 'truncated'],
    ['lecun_uniform: limit sqrt(3/in)', new LecunUniform({ seed: 5 }), dense, 1 / 400, 'uniform'],
    ['lecun_normal: stddev sqrt(1/in)', new LecunNormal({ seed: 6 }), dense, 1 / 400, 'truncated'],
    ['he_normal on a conv kernel (receptive field)', new HeNormal({ seed: 7 }), conv, 2 / 1600, 'truncated'],
    ['glorot_uniform on a conv kernel', new GlorotUniform({ seed: 8 }), conv, 2 / 4800, 'uniform'],
    ['fan_out, untruncated normal', new VarianceScaling({ scale: 3, mode: 'fan_out', distribution: 'untruncated_normal', seed: 9 }), dense, 3 / 600, 'normal'],
    ['fan_avg, uniform', new VarianceScaling({ scale: 0.5, mode: 'fan_avg', distribution: 'uniform', seed: 10 }), conv, 0.5 / 2400, 'uniform'],
  ];

  for (const [name, init, shape, variance, kind] of cases) {
    it(name, () => {
      const t = init.call(shape);
      expect(t.shape).toEqual(shape);
      expect(t.dtype).toBe('float32');
      const v = values(t);
      expectMoments(v, variance, kind === 'uniform' ? UNIFORM_KURTOSIS : NORMAL_KURTOSIS);
      const { maxAbs } = moments(v);
      if (kind === 'uniform') {
        const limit = Math.sqrt(3 * variance);
        expect(maxAbs).toBeLessThanOrEqual(limit * (1 + 1e-6));
        expect(maxAbs).toBeGreaterThan(limit * 0.999);
      } else if (kind === 'truncated') {
        // the underlying normal's stddev is the target over Keras's truncation factor
        const raw = Math.sqrt(variance) / 0.87962566103423978;
        expect(maxAbs).toBeLessThanOrEqual(2 * raw * (1 + 1e-6));
        expect(maxAbs).toBeGreaterThan(2 * raw * 0.99);
      } else {
        expect(maxAbs).toBeGreaterThan(4 * Math.sqrt(variance));
      }
    });
  }

  it('a fan below 1 counts as 1', () => {
    const v = values(new VarianceScaling({ scale: 1, distribution: 'uniform', seed: 1 }).call([0, 100000]));
    expect(v.length).toBe(0);
    const s = values(new VarianceScaling({ scale: 1, distribution: 'uniform', seed: 1 }).call([]));
    expect(Math.abs(s[0])).toBeLessThanOrEqual(Math.sqrt(3));
  });

  it("accepts 'normal' as truncated_normal and rejects bad arguments", () => {
    expect(new VarianceScaling({ distribution: 'normal' }).distribution).toBe('truncated_normal');
    expect(() => new VarianceScaling({ scale: 0 })).toThrow(/scale must be a positive number, got 0/);
    expect(() => new VarianceScaling({ mode: 'fan_middle' as 'fan_in' })).toThrow(/mode must be one of fan_in, fan_out, fan_avg/);
    expect(() => new VarianceScaling({ distribution: 'cauchy' as 'uniform' })).toThrow(/distribution must be one of/);
    expect(() => new GlorotUniform({ seed: 1.5 })).toThrow(/GlorotUniform: seed must be an integer/);
  });
});

describe('random initializers with explicit parameters', () => {
  it('RandomNormal: Keras defaults mean 0, stddev 0.05', () => {
    const init = new RandomNormal({ seed: 11 });
    expect(init.getConfig()).toEqual({ seed: 11, mean: 0, stddev: 0.05 });
    expectMoments(values(init.call([200000])), 0.05 ** 2, NORMAL_KURTOSIS);
    const shifted = moments(values(new RandomNormal({ mean: 3, stddev: 2, seed: 1 }).call([200000])));
    expect(Math.abs(shifted.mean - 3)).toBeLessThan(5 * 2 / Math.sqrt(200000));
  });

  it('RandomUniform: Keras defaults [-0.05, 0.05)', () => {
    const init = new RandomUniform({ seed: 12 });
    expect(init.getConfig()).toEqual({ seed: 12, minval: -0.05, maxval: 0.05 });
    const v = values(init.call([200000]));
    expectMoments(v, 0.1 ** 2 / 12, UNIFORM_KURTOSIS);
    expect(v.reduce((a, b) => Math.min(a, b))).toBeGreaterThanOrEqual(-0.05 - 1e-9);
    expect(v.reduce((a, b) => Math.max(a, b))).toBeLessThan(0.05 + 1e-9);
  });

  it('TruncatedNormal: within two stddev of the mean', () => {
    const v = values(new TruncatedNormal({ mean: 1, stddev: 0.5, seed: 13 }).call([200000]));
    const m = moments(v.map((x) => x - 1));
    expect(m.maxAbs).toBeLessThanOrEqual(1 + 1e-6);
    // a standard normal truncated to ±2 has stddev 0.8796…
    expect(Math.abs(Math.sqrt(m.variance) - 0.5 * 0.87962566103423978)).toBeLessThan(0.005);
  });

  it('honours the dtype', () => {
    const t = new GlorotUniform({ seed: 1 }).call([4, 4], 'float64');
    expect(t.dtype).toBe('float64');
    t.dispose();
  });
});

describe('seeds', () => {
  const draw = (init: Initializer, dtype: DType = 'float32') => Array.from(values(init.call([50, 40], dtype)));

  it('a seeded initializer gives the same values on every call, as in Keras', () => {
    for (const init of [new GlorotUniform({ seed: 42 }), new HeNormal({ seed: 42 }), new RandomNormal({ seed: 42 }), new Orthogonal({ seed: 42 })]) {
      expect(draw(init)).toEqual(draw(init));
    }
    expect(draw(new GlorotUniform({ seed: 42 }))).toEqual(draw(new GlorotUniform({ seed: 42 })));
  });

  it('different seeds give different values', () => {
    expect(draw(new GlorotUniform({ seed: 1 }))).not.toEqual(draw(new GlorotUniform({ seed: 2 })));
  });

  it('unseeded initializers draw afresh each call, reproducibly after kiln.setSeed', () => {
    const init = new GlorotNormal();
    kiln.setSeed(7);
    const a = draw(init);
    const b = draw(init);
    kiln.setSeed(7);
    expect(draw(init)).toEqual(a);
    expect(draw(init)).toEqual(b);
    expect(a).not.toEqual(b);
  });
});

/** Row-major product aᵀ·b of [m, p]ᵀ and [m, q] matrices. */
function atb(a: Float64Array, b: Float64Array, m: number, p: number, q: number): Float64Array {
  const out = new Float64Array(p * q);
  for (let i = 0; i < p; i++) for (let j = 0; j < q; j++) {
    let s = 0;
    for (let k = 0; k < m; k++) s += a[k * p + i] * b[k * q + j];
    out[i * q + j] = s;
  }
  return out;
}

function transposeOf(a: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = a[i * cols + j];
  return out;
}

function expectIdentity(g: Float64Array, n: number, scale: number, tol: number): void {
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    expect(Math.abs(g[i * n + j] - (i === j ? scale : 0))).toBeLessThan(tol);
  }
}

describe('Orthogonal', () => {
  it('tall: orthonormal columns (WᵀW = I)', () => {
    const w = values(new Orthogonal({ seed: 3 }).call([64, 32], 'float64'));
    expectIdentity(atb(w, w, 64, 32, 32), 32, 1, 1e-12);
  });

  it('wide: orthonormal rows (WWᵀ = I)', () => {
    const w = values(new Orthogonal({ seed: 3 }).call([20, 50], 'float64'));
    const wt = transposeOf(w, 20, 50);
    expectIdentity(atb(wt, wt, 50, 20, 20), 20, 1, 1e-12);
  });

  it('square, float32, with gain: WᵀW = gain²·I', () => {
    const w = values(new Orthogonal({ gain: 2, seed: 5 }).call([48, 48]));
    expectIdentity(atb(w, w, 48, 48, 48), 48, 4, 1e-5);
  });

  it('conv kernels are flattened to [prod(shape[:-1]), shape[-1]]', () => {
    const t = new Orthogonal({ seed: 9 }).call([3, 3, 4, 16], 'float64');
    expect(t.shape).toEqual([3, 3, 4, 16]);
    const w = values(t);
    expectIdentity(atb(w, w, 36, 16, 16), 16, 1, 1e-12);
  });

  it("is the Q of the seed's normal draws with diag(R) > 0 (Keras's sign correction)", () => {
    const [m, n] = [30, 12];
    const q = values(new Orthogonal({ seed: 21 }).call([m, n], 'float64'));
    // drawn on the host, row by row, from the seed's generator (no readback from any backend)
    const g = new Generator(21);
    const a = Float64Array.from({ length: m * n }, () => g.normal());
    // R = QᵀA must be upper triangular with a positive diagonal, and A = QR
    const r = atb(q, a, m, n, n);
    for (let i = 0; i < n; i++) {
      expect(r[i * n + i]).toBeGreaterThan(0);
      for (let j = 0; j < i; j++) expect(Math.abs(r[i * n + j])).toBeLessThan(1e-12);
    }
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += q[i * n + k] * r[k * n + j];
      expect(Math.abs(s - a[i * n + j])).toBeLessThan(1e-12);
    }
  });

  it('rejects rank < 2', () => {
    expect(() => new Orthogonal().call([5])).toThrow(/Orthogonal: the shape must have rank >= 2, got \[5\] of rank 1/);
  });
});

describe('constant initializers', () => {
  it('Zeros, Ones, Constant', () => {
    expect(new Zeros().call([2, 2]).arraySync()).toEqual([[0, 0], [0, 0]]);
    expect(new Ones().call([3], 'int32').arraySync()).toEqual([1, 1, 1]);
    const c = new Constant({ value: 0.5 }).call([2]);
    expect(c.arraySync()).toEqual([0.5, 0.5]);
    expect(new Constant().getConfig()).toEqual({ value: 0 });
  });

  it('Identity: gain on the diagonal, 2-D only', () => {
    expect(new Identity({ gain: 2 }).call([2, 3]).arraySync()).toEqual([[2, 0, 0], [0, 2, 0]]);
    expect(new Identity().call([3, 2]).arraySync()).toEqual([[1, 0], [0, 1], [0, 0]]);
    expect(() => new Identity().call([2, 2, 2])).toThrow(/Identity: only 2-D shapes have an identity matrix, got \[2,2,2\] of rank 3/);
  });
});

describe('getInitializer and serializeInitializer', () => {
  it('maps every Keras id (and its camelCase and class name) to its class', () => {
    const ids: [string, string][] = [
      ['zeros', 'Zeros'], ['ones', 'Ones'], ['constant', 'Constant'], ['random_normal', 'RandomNormal'],
      ['random_uniform', 'RandomUniform'], ['truncated_normal', 'TruncatedNormal'], ['variance_scaling', 'VarianceScaling'],
      ['glorot_uniform', 'GlorotUniform'], ['glorot_normal', 'GlorotNormal'], ['he_normal', 'HeNormal'],
      ['he_uniform', 'HeUniform'], ['lecun_normal', 'LecunNormal'], ['lecun_uniform', 'LecunUniform'],
      ['orthogonal', 'Orthogonal'], ['identity', 'Identity'],
    ];
    for (const [id, className] of ids) {
      const camel = id.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
      for (const name of [id, camel, className]) expect(serializeInitializer(name).className).toBe(className);
      const t = getInitializer(id)([4, 4], 'float32');
      expect(t.shape).toEqual([4, 4]);
      t.dispose();
    }
  });

  it('round-trips configs through { className, config }', () => {
    const inits: Initializer[] = [
      new Constant({ value: 3 }), new RandomNormal({ mean: 1, stddev: 2, seed: 4 }), new RandomUniform({ minval: 0, maxval: 2, seed: 4 }),
      new TruncatedNormal({ stddev: 0.1, seed: 4 }), new VarianceScaling({ scale: 2, mode: 'fan_out', distribution: 'uniform', seed: 4 }),
      new GlorotUniform({ seed: 4 }), new HeNormal(), new Orthogonal({ gain: 3, seed: 4 }), new Identity({ gain: 2 }),
    ];
    for (const init of inits) {
      const saved = JSON.parse(JSON.stringify(serializeInitializer(init)));
      expect(serializeInitializer(saved)).toEqual(saved);
      const a = Array.from(values(init.call([6, 5])));
      const b = Array.from(values(getInitializer(saved)([6, 5], 'float32')));
      if (saved.config.seed !== null) expect(b).toEqual(a);
    }
    expect(serializeInitializer(new GlorotUniform({ seed: 4 }))).toEqual({ className: 'GlorotUniform', config: { seed: 4 } });
    expect(serializeInitializer('he_normal')).toEqual({ className: 'HeNormal', config: { seed: null } });
    expect(serializeInitializer(new RandomNormal())).toEqual({ className: 'RandomNormal', config: { seed: null, mean: 0, stddev: 0.05 } });
  });

  it('loads a config saved by Keras', () => {
    const init = getInitializer({ className: 'VarianceScaling', config: { scale: 2, mode: 'fan_in', distribution: 'uniform', seed: 1 } });
    const v = values(init([1000, 10], 'float32'));
    expect(moments(v).maxAbs).toBeLessThanOrEqual(Math.sqrt(3 * 2 / 1000) + 1e-6);
  });

  it('passes instances and functions through', () => {
    const init = new Ones();
    expect(getInitializer(init)([2], 'float32').arraySync()).toEqual([1, 1]);
    const fn = (shape: readonly number[], dtype: DType) => kiln.fill(shape, 7, dtype);
    expect(getInitializer(fn)).toBe(fn);
  });

  it('errors name the unknown id and list the known ones', () => {
    expect(() => getInitializer('glorot')).toThrow(/getInitializer: unknown initializer 'glorot'; known ids: zeros, ones, constant, random_normal, .*, identity/);
    expect(() => getInitializer({ className: 'Xavier', config: {} })).toThrow(/unknown initializer 'Xavier'/);
    expect(() => getInitializer(42 as unknown as string)).toThrow(/expected a string id, an Initializer, \{ className, config \} or a function, got number 42/);
    expect(() => serializeInitializer(() => kiln.zeros([1]))).toThrow(/serializeInitializer: cannot save the function \(anonymous\)/);
  });
});
