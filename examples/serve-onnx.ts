// Train in kiln, deploy with ONNX: a small classifier of 2-D points into 3 clusters is trained,
// exported with model.export (checked against kiln in onnxruntime before the file is written),
// loaded with onnxruntime-node, and served over HTTP with node:http alone.
//
//   npx tsx examples/serve-onnx.ts
//   curl -s localhost:8080/predict -d '{"inputs": [[1.5, 0.2], [-1, -1.3]]}'
//   → {"probabilities":[[0.02,0.97,0.01],[...]],"classes":[1,0]}
//
// `--model <file.onnx>` serves an exported model instead, e.g. the MNIST CNN's
// (`npx tsx examples/mnist-cnn.ts --onnx /tmp/mnist-cnn.onnx`): a row is then one sample of the
// model's input shape, flat or nested (a 28×28 digit as 784 numbers or as 28 lists of 28).
//
// Each request may hold a batch of rows; requests that arrive together also run together, in
// one onnxruntime call (up to MAX_BATCH rows), which is what keeps a busy server's latency flat.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import * as kiln from 'kiln';

const { layers, ops, random } = kiln;

const FEATURES = 2;
const CENTERS = [[-1, -1], [1.5, 0], [0, 1.5]];
const MAX_BODY = 1 << 20;
const MAX_BATCH = 256;
/** How long the first request of a batch waits for others to join it. */
const BATCH_WINDOW_MS = 5;

/** Points around each center; the label is the center's index. */
function clusters(n: number) {
  return kiln.tidy(() => {
    const labels = random.randint([n], 0, CENTERS.length, { dtype: 'int32' });
    const centers = ops.take(kiln.tensor(CENTERS), labels, 0);
    return { x: ops.add(centers, random.normal([n, FEATURES], { stddev: 0.4 })), y: labels };
  });
}

export async function train({ epochs = 30, seed = 1, verbose = 0 as 0 | 1 | 2 } = {}): Promise<kiln.Model> {
  kiln.setSeed(seed);
  const model = new kiln.Sequential([
    kiln.Input({ shape: [FEATURES], name: 'point' }),
    new layers.Dense(16, { activation: 'relu' }),
    new layers.Dense(CENTERS.length, { activation: 'softmax', name: 'cluster' }),
  ]);
  model.compile({ optimizer: 'adam', loss: 'sparse_categorical_crossentropy', metrics: ['accuracy'] });
  const { x, y } = clusters(600);
  await model.fit(x, y, { epochs, batchSize: 32, verbose });
  kiln.dispose([x, y]);
  return model;
}

/** A request's problem, answered with 400 and its message. */
class BadRequest extends Error {}

/**
 * The rows of a request body, each flattened to `size` numbers: `{"inputs": [row, ...]}`, where a
 * row is flat or nested (`[[1, 2], [3, 4]]` for a 2×2 sample), or one flat row `{"inputs": [x, y]}`.
 */
function parseRows(text: string, size: number): number[][] {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (err) {
    throw new BadRequest(`the body is not JSON: ${(err as Error).message}`);
  }
  const inputs = (body as { inputs?: unknown } | null)?.inputs;
  if (!Array.isArray(inputs) || inputs.length === 0) throw new BadRequest('expected {"inputs": [[...], ...]}: a non-empty list of rows');
  const rows = (typeof inputs[0] === 'number' ? [inputs] : inputs) as unknown[];
  if (rows.length > MAX_BATCH) throw new BadRequest(`at most ${MAX_BATCH} rows per request, got ${rows.length}`);
  return rows.map((row, i) => {
    const flat = Array.isArray(row) ? row.flat(Infinity) : [];
    if (flat.length !== size || !flat.every((v) => typeof v === 'number' && Number.isFinite(v))) {
      // a wrong 784-number row would make a long message: its start is enough to find it
      const shown = JSON.stringify(row) ?? String(row);
      throw new BadRequest(`row ${i} must be ${size} finite numbers, got ${shown.length > 80 ? `${shown.slice(0, 80)}…` : shown}`);
    }
    return flat as number[];
  });
}

interface Pending {
  rows: number[][];
  resolve(probabilities: number[][]): void;
  reject(err: unknown): void;
}

/** Runs the session on queued requests together: those that arrive within BATCH_WINDOW_MS of the first. */
export class Batcher {
  private queue: Pending[] = [];
  private scheduled = false;
  /** How many onnxruntime calls ran (fewer than requests when they were batched). */
  runs = 0;
  /** One sample's shape: the model input's shape after the batch axis. */
  readonly sampleShape: number[];
  /** Numbers in one sample (one row of a request). */
  readonly sampleSize: number;

  constructor(private readonly session: ort.InferenceSession) {
    const input = session.inputMetadata[0];
    const dims = input.isTensor ? input.shape.slice(1) : [];
    if (!input.isTensor || !dims.every((d): d is number => typeof d === 'number' && d > 0)) {
      throw new Error(`serve-onnx serves a model whose input has a fixed shape after the batch axis; '${input.name}' has ${input.isTensor ? `[${input.shape.join(', ')}]` : 'no tensor type'}`);
    }
    this.sampleShape = dims;
    this.sampleSize = dims.reduce((p, d) => p * d, 1);
  }

  predict(rows: number[][]): Promise<number[][]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ rows, resolve, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setTimeout(() => void this.flush(), BATCH_WINDOW_MS);
      }
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const batch: Pending[] = [];
    let size = 0;
    while (this.queue.length && size + this.queue[0].rows.length <= MAX_BATCH) {
      size += this.queue[0].rows.length;
      batch.push(this.queue.shift()!);
    }
    // what did not fit runs next, without waiting again
    if (this.queue.length) {
      this.scheduled = true;
      setImmediate(() => void this.flush());
    }
    try {
      const data = Float32Array.from(batch.flatMap((p) => p.rows.flat()));
      const input = new ort.Tensor('float32', data, [size, ...this.sampleShape]);
      this.runs++;
      const output = (await this.session.run({ [this.session.inputNames[0]]: input }))[this.session.outputNames[0]];
      const probs = output.data as Float32Array;
      const width = probs.length / size;
      let row = 0;
      for (const p of batch) {
        p.resolve(p.rows.map(() => Array.from(probs.subarray(row * width, ++row * width))));
      }
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new BadRequest(`the body is larger than ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The HTTP server: POST /predict (JSON in, JSON out) and GET /health. */
export function serve(batcher: Batcher): Server {
  return createServer((req, res) => {
    void (async () => {
      if (req.url === '/health' && req.method === 'GET') return send(res, 200, { ok: true });
      if (req.url !== '/predict') return send(res, 404, { error: `no route ${req.url}; POST /predict` });
      if (req.method !== 'POST') return send(res, 405, { error: 'use POST' });
      try {
        const probabilities = await batcher.predict(parseRows(await readBody(req), batcher.sampleSize));
        const classes = probabilities.map((p) => p.indexOf(Math.max(...p)));
        send(res, 200, { probabilities, classes });
      } catch (err) {
        if (err instanceof BadRequest) send(res, 400, { error: err.message });
        else send(res, 500, { error: `prediction failed: ${(err as Error).message}` });
      }
    })();
  });
}

/** Loads an ONNX file into onnxruntime and serves it; resolves once listening. */
export async function serveFile(path: string, { port = 8080, log = true } = {}) {
  const session = await ort.InferenceSession.create(path);
  const batcher = new Batcher(session);
  const server = serve(batcher);
  await new Promise<void>((resolve) => server.listen(port, resolve));
  const address = server.address();
  const url = `http://localhost:${typeof address === 'object' && address ? address.port : port}`;
  if (log) console.log(`serving ${path} on ${url}: POST ${url}/predict {"inputs": [row, ...]}, a row being [${batcher.sampleShape.join(', ')}] numbers`);
  const close = async () => {
    await new Promise((resolve) => server.close(resolve));
    await session.release();
  };
  return { url, batcher, path, close };
}

/** Trains the clusters classifier, exports, loads and serves it; resolves once listening. */
export async function run({ port = 8080, epochs = 30, dir = '', log = true } = {}) {
  const model = await train({ epochs });
  const folder = dir || (await mkdtemp(join(tmpdir(), 'kiln-serve-')));
  const path = join(folder, 'clusters.onnx');
  const exported = await model.export(path, { format: 'onnx', verify: true });
  if (log) {
    const worst = Math.max(...exported.verification!.cases.flatMap((c) => c.outputs.map((o) => o.maxAbsError)));
    console.log(`exported ${path} (onnxruntime matches kiln within ${worst.toExponential(1)})`);
  }
  const served = await serveFile(path, { port, log });
  if (log) console.log(`try: curl -s ${served.url}/predict -d '{"inputs": [[1.5, 0.2], [-1, -1.3]]}'`);
  return { ...served, model };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { model: { type: 'string' }, port: { type: 'string', default: '8080' } } });
  const port = Number(values.port);
  if (values.model) await serveFile(values.model, { port });
  else await run({ port });
}
