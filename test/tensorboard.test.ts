/**
 * TensorBoard's event files, read back by a reader written here and sharing no code with kiln's
 * writer: TFRecord framing checked with a bitwise CRC32C, protobuf wire format decoded by hand
 * with the field numbers of tensorflow's event.proto, summary.proto, histogram.proto, graph.proto
 * and node_def.proto. What the files hold is compared with the History and the weights.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import crc32c from 'crc-32/crc32c.js';
import * as kiln from '../index.js';
import { histogram } from '../callbacks/tensorboard/histogram.js';

const { Dense } = kiln.layers;
const { TensorBoard, LambdaCallback } = kiln.callbacks;
const { SGD } = kiln.optimizers;

/** CRC-32C (Castagnoli), bit by bit: the reflected polynomial 0x82F63B78, init and final xor ~0. */
function crc32cBitwise(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** TFRecord's masked CRC: rotate right by 15, add 0xa282ead8, modulo 2^32. */
const masked = (crc: number) => ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) % 2 ** 32;

/** The records of a TFRecord file, each frame's length and both checksums checked. */
function readRecords(file: Buffer): Buffer[] {
  const records: Buffer[] = [];
  let at = 0;
  while (at < file.length) {
    expect(file.length - at, 'room for a frame header').toBeGreaterThanOrEqual(12);
    const length = Number(file.readBigUInt64LE(at));
    expect(file.readUInt32LE(at + 8), `length CRC at byte ${at}`).toBe(masked(crc32cBitwise(file.subarray(at, at + 8))));
    const data = file.subarray(at + 12, at + 12 + length);
    expect(data.length, `record at byte ${at} is whole`).toBe(length);
    expect(file.readUInt32LE(at + 12 + length), `data CRC at byte ${at}`).toBe(masked(crc32cBitwise(data)));
    records.push(data);
    at += 12 + length + 4;
  }
  return records;
}

type Wire = { no: number; type: number; varint: bigint; bytes: Buffer };

/** Protobuf wire format: (field number << 3 | wire type) keys, then a varint, 8, length-prefixed or 4 bytes. */
function wireFields(buf: Buffer): Wire[] {
  const out: Wire[] = [];
  let at = 0;
  const varint = (): bigint => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      const b = buf[at++];
      v |= BigInt(b & 0x7f) << shift;
      if (!(b & 0x80)) return v;
    }
  };
  while (at < buf.length) {
    const key = Number(varint());
    const [no, type] = [key >>> 3, key & 7];
    const size = type === 1 ? 8 : type === 5 ? 4 : type === 2 ? Number(varint()) : 0;
    const v = type === 0 ? varint() : 0n;
    expect([0, 1, 2, 5]).toContain(type);
    out.push({ no, type, varint: v, bytes: buf.subarray(at, at + size) });
    at += size;
  }
  return out;
}

const one = (fs: Wire[], no: number) => fs.find((f) => f.no === no);
const all = (fs: Wire[], no: number) => fs.filter((f) => f.no === no);
const str = (f?: Wire) => f?.bytes.toString('utf8');
const double = (f?: Wire) => (f ? f.bytes.readDoubleLE(0) : 0);
/** A repeated double, packed (one length-delimited run) or not (one fixed64 per element): readers take both. */
const doubles = (fs: Wire[], no: number) => all(fs, no).flatMap((f) => (f.type === 2 ? Array.from({ length: f.bytes.length / 8 }, (_, i) => f.bytes.readDoubleLE(8 * i)) : [double(f)]));

interface Histo { min: number; max: number; num: number; sum: number; sumSquares: number; limits: number[]; counts: number[] }
interface Read { step: number; fileVersion?: string; nodes?: { name: string; op: string; input: string[] }[]; tag?: string; value?: number; histo?: Histo }

/** Event: wall_time 1, step 2, file_version 3, graph_def 4, summary 5. Summary.value 1: tag 1, simple_value 2, histo 5. */
function decodeEvent(data: Buffer): Read {
  const ev = wireFields(data);
  expect(one(ev, 1)?.type, 'wall_time is a double').toBe(1);
  const read: Read = { step: Number(one(ev, 2)?.varint ?? 0n), fileVersion: str(one(ev, 3)) };
  const graph = one(ev, 4);
  if (graph) {
    // GraphDef.node 1; NodeDef name 1, op 2, input 3
    read.nodes = all(wireFields(graph.bytes), 1).map((n) => {
      const f = wireFields(n.bytes);
      return { name: str(one(f, 1))!, op: str(one(f, 2))!, input: all(f, 3).map((i) => str(i)!) };
    });
  }
  const summary = one(ev, 5);
  if (summary) {
    const values = all(wireFields(summary.bytes), 1);
    expect(values, 'one value per summary').toHaveLength(1);
    const v = wireFields(values[0].bytes);
    read.tag = str(one(v, 1));
    const simple = one(v, 2);
    if (simple) read.value = simple.bytes.readFloatLE(0);
    const histo = one(v, 5);
    if (histo) {
      // HistogramProto: min 1, max 2, num 3, sum 4, sum_squares 5, bucket_limit 6, bucket 7
      const h = wireFields(histo.bytes);
      read.histo = {
        min: double(one(h, 1)), max: double(one(h, 2)), num: double(one(h, 3)), sum: double(one(h, 4)),
        sumSquares: double(one(h, 5)), limits: doubles(h, 6), counts: doubles(h, 7),
      };
    }
  }
  return read;
}

/** The events of the one event file in `dir`, its name checked against TensorFlow 2's pattern. */
async function readRun(dir: string): Promise<Read[]> {
  const files = await readdir(dir);
  expect(files).toHaveLength(1);
  expect(files[0]).toMatch(/^events\.out\.tfevents\.\d{10}\..+\.\d+\.\d+\.v2$/);
  const events = readRecords(await readFile(join(dir, files[0]))).map(decodeEvent);
  expect(events[0].fileVersion).toBe('brain.Event:2');
  return events.slice(1);
}

const scalars = (events: Read[], tag: string) => events.filter((e) => e.tag === tag && e.value !== undefined).map((e) => [e.step, e.value]);

/** x (2 features) → hidden (Dense 3, tanh) → out (Dense 1). */
function model(learningRate: number): kiln.Model {
  kiln.setSeed(3);
  const x = kiln.Input({ shape: [2], name: 'x' });
  const h = new Dense(3, { activation: 'tanh', name: 'hidden' }).apply(x as never);
  const y = new Dense(1, { name: 'out' }).apply(h as never);
  const m = new kiln.Model({ inputs: x, outputs: y as never, name: 'tb' });
  m.compile({ optimizer: new SGD({ learningRate }), loss: 'mse', metrics: ['mae'] });
  return m;
}

function data(n: number, seed: number): [kiln.Tensor, kiln.Tensor] {
  kiln.setSeed(seed);
  return [kiln.random.normal([n, 2]), kiln.random.normal([n, 1])];
}

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kiln-tb-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('TensorBoard', () => {
  it('uses a CRC32C that gives the standard check value, as the bitwise loop does', () => {
    const check = Buffer.from('123456789');
    expect(crc32cBitwise(check)).toBe(0xe3069283);
    expect(crc32c.buf(check) >>> 0).toBe(0xe3069283);
    const bytes = Buffer.from(Array.from({ length: 1000 }, (_, i) => (i * 7919) % 256));
    expect(crc32c.buf(bytes) >>> 0).toBe(crc32cBitwise(bytes));
  });

  it('writes epoch scalars, evaluations, histograms and the layer graph of a short fit', async () => {
    const m = model(0.05);
    const [x, y] = data(8, 1);
    const [xv, yv] = data(4, 2);
    const snapshots: Float32Array[][] = [];
    const snapshot = new LambdaCallback({
      onEpochEnd: async () => void snapshots.push(await Promise.all(m.layers.flatMap((l) => l.weights).map((w) => w.value.data() as Promise<Float32Array>))),
    });
    const logDir = join(dir, 'run');
    const history = await m.fit(x, y, {
      epochs: 3, batchSize: 4, shuffle: false, verbose: 0, validationData: [xv, yv],
      callbacks: [snapshot, new TensorBoard({ logDir, histogramFreq: 1 })],
    });
    const h = history.history;
    const train = await readRun(join(logDir, 'train'));
    const val = await readRun(join(logDir, 'validation'));
    const steps = [0, 1, 2];

    expect(scalars(train, 'epoch_loss')).toEqual(steps.map((s) => [s, h.loss[s]]));
    expect(scalars(train, 'epoch_mae')).toEqual(steps.map((s) => [s, h.mae[s]]));
    expect(scalars(train, 'epoch_learning_rate')).toEqual(steps.map((s) => [s, Math.fround(0.05)]));
    expect(scalars(val, 'epoch_loss')).toEqual(steps.map((s) => [s, h.val_loss[s]]));
    expect(scalars(val, 'epoch_mae')).toEqual(steps.map((s) => [s, h.val_mae[s]]));
    // 8 samples in batches of 4: the optimizer has made 2, 4, 6 updates at each evaluation
    expect(scalars(val, 'evaluation_loss_vs_iterations')).toEqual(steps.map((s) => [2 * (s + 1), h.val_loss[s]]));
    expect(scalars(val, 'evaluation_mae_vs_iterations')).toEqual(steps.map((s) => [2 * (s + 1), h.val_mae[s]]));
    expect(new Set(val.map((e) => e.tag))).toEqual(new Set(['epoch_loss', 'epoch_mae', 'evaluation_loss_vs_iterations', 'evaluation_mae_vs_iterations']));

    const tags = ['hidden/kernel/histogram', 'hidden/bias/histogram', 'out/kernel/histogram', 'out/bias/histogram'];
    for (const step of steps) {
      const histos = train.filter((e) => e.histo && e.step === step);
      expect(histos.map((e) => e.tag)).toEqual(tags);
      histos.forEach((e, k) => {
        const w = Array.from(snapshots[step][k]);
        const hg = e.histo!;
        expect(hg.num).toBe(w.length);
        expect(hg.counts.reduce((a, b) => a + b, 0)).toBe(w.length);
        expect(hg.min).toBe(Math.min(...w));
        expect(hg.max).toBe(Math.max(...w));
        expect(hg.sum).toBeCloseTo(w.reduce((a, b) => a + b, 0), 10);
        expect(hg.sumSquares).toBeCloseTo(w.reduce((a, b) => a + b * b, 0), 10);
        expect(hg.limits.at(-1)).toBe(hg.max);
        // bucket i holds the values in (limit[i-1], limit[i]]
        hg.limits.forEach((hi, i) => {
          const lo = i === 0 ? -Infinity : hg.limits[i - 1];
          expect(hg.counts[i], `${e.tag} bucket ${i}`).toBe(w.filter((v) => v > lo && v <= hi).length);
        });
      });
    }

    const graphs = train.filter((e) => e.nodes);
    expect(graphs).toHaveLength(1);
    expect(graphs[0].nodes).toEqual([
      { name: 'x', op: 'InputLayer', input: [] },
      { name: 'hidden', op: 'Dense', input: ['x'] },
      { name: 'out', op: 'Dense', input: ['hidden'] },
    ]);
  });

  it('puts a value on or just past a bucket edge in the bucket the edges say, not where arithmetic guesses', () => {
    // min + width is computed exactly as the writer computes the first edge, and the arithmetic
    // guess ceil((v - min) / width) - 1 puts it one bucket too high: (v - min) / width > 1 here
    const [min, max] = [-2.733731448715326, 2.045347516712443];
    const edge = min + (max - min) / 30;
    const h = histogram([min, edge, max]);
    expect(h.bucketLimit[0]).toBe(edge);
    expect(h.bucket[0]).toBe(2);
    expect(h.bucket.reduce((a, b) => a + b, 0)).toBe(3);
    expect(h.bucket[29]).toBe(1);

    // and one just above the second edge, which the guess puts a bucket too low: (v - min) / width rounds to 2
    const [lo, hi] = [-0.11060777653231257, 1.23271455042454];
    const above = -0.021052954735189058;
    const g = histogram([lo, above, hi]);
    expect(above).toBeGreaterThan(g.bucketLimit[1]);
    expect(above).toBeLessThanOrEqual(g.bucketLimit[2]);
    expect(g.bucket[2]).toBe(1);
  });

  it('writes histograms every histogramFreq epochs, no graph when writeGraph is false, and no validation run without validation', async () => {
    const m = model(0);
    const [x, y] = data(6, 4);
    const logDir = join(dir, 'run');
    await m.fit(x, y, { epochs: 3, batchSize: 6, verbose: 0, callbacks: [new TensorBoard({ logDir, histogramFreq: 2, writeGraph: false })] });
    const train = await readRun(join(logDir, 'train'));
    expect(existsSync(join(logDir, 'validation'))).toBe(false);
    expect(train.some((e) => e.nodes)).toBe(false);
    const bias = train.filter((e) => e.tag === 'hidden/bias/histogram');
    expect(bias.map((e) => e.step)).toEqual([0, 2]);
    // a learning rate of 0 keeps the zero-initialized bias at 0: every value in one bucket
    expect(bias[0].histo).toEqual({ min: 0, max: 0, num: 3, sum: 0, sumSquares: 0, limits: [0], counts: [3] });
    expect(train.filter((e) => e.tag?.startsWith('batch_'))).toEqual([]);
  });

  it.each([
    ['batch', [1, 2, 3, 4, 5, 6, 7, 8]],
    [3, [3, 6]],
  ] as const)('updateFreq %s writes batch_ scalars at those global batches', async (updateFreq, want) => {
    const m = model(0.05);
    const [x, y] = data(8, 5);
    const batchLogs: kiln.callbacks.Logs[] = [];
    const logDir = join(dir, 'run');
    await m.fit(x, y, {
      epochs: 2, batchSize: 2, shuffle: false, verbose: 0,
      callbacks: [new LambdaCallback({ onTrainBatchEnd: (_b, logs) => void batchLogs.push({ ...logs }) }), new TensorBoard({ logDir, updateFreq })],
    });
    const train = await readRun(join(logDir, 'train'));
    expect(scalars(train, 'batch_loss')).toEqual(want.map((s) => [s, batchLogs[s - 1].loss]));
    expect(scalars(train, 'batch_mae')).toEqual(want.map((s) => [s, batchLogs[s - 1].mae]));
    expect(scalars(train, 'epoch_loss').map(([s]) => s)).toEqual([0, 1]);
  });

  it('leaves whole records behind when training fails midway', async () => {
    const m = model(0.05);
    const [x, y] = data(8, 6);
    const logDir = join(dir, 'run');
    const boom = new LambdaCallback({ onTrainBatchEnd: (b) => { if (b === 2) throw new Error('boom'); } });
    await expect(m.fit(x, y, { epochs: 1, batchSize: 2, verbose: 0, callbacks: [new TensorBoard({ logDir, updateFreq: 'batch' }), boom] })).rejects.toThrow('boom');
    const train = await readRun(join(logDir, 'train'));
    expect(scalars(train, 'batch_loss').map(([s]) => s)).toEqual([1, 2, 3]);
  });

  it('names the file that stands where logDir must be a directory', async () => {
    const file = join(dir, 'taken');
    await writeFile(file, 'not a directory');
    const [x, y] = data(4, 7);
    for (const logDir of [file, join(file, 'sub')]) {
      await expect(model(0).fit(x, y, { verbose: 0, callbacks: [new TensorBoard({ logDir })] }))
        .rejects.toThrow(`TensorBoard: logDir must be a directory, but '${file}' is a file`);
    }
  });

  it('rejects bad options, naming the option, what it expects and what it got', () => {
    expect(() => new TensorBoard({ logDir: '' })).toThrow("TensorBoard: logDir must be a non-empty path, got ''");
    expect(() => new TensorBoard({ histogramFreq: -1 })).toThrow('histogramFreq must be a non-negative integer, got -1');
    expect(() => new TensorBoard({ histogramFreq: 1.5 })).toThrow('histogramFreq must be a non-negative integer, got 1.5');
    expect(() => new TensorBoard({ updateFreq: 0 })).toThrow("updateFreq must be 'epoch', 'batch' or a positive integer, got 0");
    expect(() => new TensorBoard({ updateFreq: 'step' as never })).toThrow("updateFreq must be 'epoch', 'batch' or a positive integer, got 'step'");
    expect(() => new TensorBoard({ writeGraph: 'yes' as never })).toThrow("writeGraph must be true or false, got 'yes'");
    expect(() => new TensorBoard({ writeImages: true } as never)).toThrow('TensorBoard: unknown option(s) writeImages; options are logDir, histogramFreq, writeGraph, updateFreq');
  });
});
