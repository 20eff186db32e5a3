import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { run } from '../../examples/serve-onnx.js';

let server: Awaited<ReturnType<typeof run>>;
let dir = '';

const post = (body: string) => fetch(`${server.url}/predict`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });

describe('examples/serve-onnx (train, export, serve with onnxruntime-node over HTTP)', () => {
  beforeAll(async () => {
    await kiln.setBackend('reference');
    dir = await mkdtemp(join(tmpdir(), 'kiln-serve-test-'));
    server = await run({ port: 0, epochs: 15, dir, log: false });
  });
  afterAll(async () => {
    await server?.close();
    server?.model.dispose();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers a batch of rows with what kiln predicts, and classifies the clusters', async () => {
    const rows = [[-1, -1], [1.5, 0], [0, 1.5], [0.3, -0.2]];
    const res = await post(JSON.stringify({ inputs: rows }));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const body = (await res.json()) as { probabilities: number[][]; classes: number[] };
    expect(body.classes.slice(0, 3)).toEqual([0, 1, 2]);
    const x = kiln.tensor(rows);
    const predicted = (await server.model.predict(x)) as kiln.Tensor;
    const expected = (await predicted.array()) as number[][];
    body.probabilities.forEach((p, i) => p.forEach((v, j) => expect(Math.abs(v - expected[i][j])).toBeLessThanOrEqual(1e-5 + 1e-4 * Math.abs(v))));
    kiln.dispose([x, predicted]);
  });

  it('answers concurrent requests, each a single row', async () => {
    const answers = await Promise.all([[1.4, 0.1], [-0.9, -1.1], [0.1, 1.6]].map((row) => post(JSON.stringify({ inputs: row })).then((r) => r.json())));
    expect(answers.map((a) => (a as { classes: number[] }).classes)).toEqual([[1], [0], [2]]);
  });

  it('runs requests that arrive together in one onnxruntime call', async () => {
    const before = server.batcher.runs;
    const results = await Promise.all([[[1.4, 0.1]], [[-0.9, -1.1], [0, 1.5]]].map((rows) => server.batcher.predict(rows)));
    expect(server.batcher.runs - before).toBe(1);
    expect(results.map((r) => r.length)).toEqual([1, 2]);
  });

  it('answers bad request bodies with 400 and a message', async () => {
    const cases: [string, RegExp][] = [
      ['{"inputs": [[1, 2]', /the body is not JSON/],
      ['{"rows": [[1, 2]]}', /expected \{"inputs": \[\[\.\.\.\], \.\.\.\]\}/],
      ['{"inputs": [[1, 2], [3]]}', /row 1 must be 2 finite numbers, got \[3\]/],
      ['{"inputs": [["a", 2]]}', /row 0 must be 2 finite numbers/],
    ];
    for (const [body, message] of cases) {
      const res = await post(body);
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toMatch(message);
    }
    expect((await fetch(`${server.url}/predict`)).status).toBe(405);
    expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
  });
});
