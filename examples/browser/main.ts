/// <reference types="@webgpu/types" />
// The browser demo: a small CNN trained on MNIST in the page with kiln's browser bundle, on the
// WebGPU backend where the browser offers an adapter (else on the reference backend, saying why),
// its loss and accuracy drawn live with uPlot, and a pad to draw a digit for it to classify.
//
// Query parameters: ?epochs=3&train=2000&test=1000&batch=64&backend=webgpu (backend=reference
// trains on the CPU). The page's state is on globalThis.kilnDemo for tests to read.
import * as kiln from 'kiln';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { compiledModel, loadSplit } from './model.js';

const params = new URLSearchParams(location.search);
function intParam(name: string, fallback: number, max: number): number {
  const v = Number(params.get(name) ?? fallback);
  if (!Number.isInteger(v) || v < 1 || v > max) throw new Error(`?${name}= must be an integer from 1 to ${max}, got '${params.get(name)}'`);
  return v;
}

interface EpochRow { epoch: number; loss: number; accuracy: number; val_loss: number; val_accuracy: number; seconds: number }

/** What the page did, for a reader of globalThis.kilnDemo (the Playwright test). */
const demo = {
  status: 'loading' as 'loading' | 'ready' | 'training' | 'trained' | 'error',
  backend: '',
  fallbackReason: '',
  /** Keras's batch logs: the epoch's running means after each step. */
  batches: [] as { loss: number; accuracy: number }[],
  epochs: [] as EpochRow[],
  prediction: null as { digit: number; probabilities: number[]; pixels: number[] } | null,
  error: '',
};
(globalThis as unknown as { kilnDemo: typeof demo }).kilnDemo = demo;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const say = (text: string) => ($('status').textContent = text);

/** WebGPU where the browser has an adapter; otherwise the reference backend, and the reason on the page. */
async function chooseBackend(wanted: string): Promise<void> {
  let why = `?backend=${wanted} asked for it`;
  if (wanted === 'webgpu') {
    const status = kiln.listBackends().find((b) => b.name === 'webgpu');
    try {
      if (!status?.available) throw new Error(status?.reason ?? 'not registered');
      await kiln.setBackend('webgpu');
      demo.backend = 'webgpu';
      const info = (await navigator.gpu.requestAdapter())?.info;
      const name = info ? [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') : '';
      // SwiftShader is Chrome's CPU stand-in for a GPU, offered only behind a flag: slower than reference
      $('adapter').textContent = name && `(${name}${/swiftshader/i.test(name) ? ': a CPU emulating a GPU, slower than the reference backend here' : ''})`;
      return;
    } catch (e) {
      why = `WebGPU is not available here: ${(e as Error).message}`;
    }
  }
  await kiln.setBackend('reference');
  demo.backend = 'reference';
  demo.fallbackReason = why;
  $('fallback').textContent = `${why}. Training on the reference backend instead (plain TypeScript, on one CPU core).`;
}

/** A live uPlot chart over training steps: one line per batch series, one point per epoch for validation. */
function chart(el: HTMLElement, label: string, color: string): (steps: number[], train: number[], val: (number | null)[]) => void {
  const plot = new uPlot({
    width: Math.max(320, el.clientWidth), height: 220,
    scales: { x: { time: false } },
    axes: [{ label: 'step' }, {}],
    series: [
      { label: 'step' },
      { label, stroke: color, width: 2 },
      { label: `val_${label}`, stroke: '#ff7f0e', width: 0, points: { show: true, size: 8, fill: '#ff7f0e' } },
    ],
  }, [[], [], []], el);
  return (steps, train, val) => plot.setData([steps, train, val]);
}

async function main(): Promise<void> {
  const epochs = intParam('epochs', 3, 100);
  const trainCount = intParam('train', 2000, 60000);
  const testCount = intParam('test', 1000, 10000);
  const batchSize = intParam('batch', 64, 4096);
  await chooseBackend(params.get('backend') ?? 'webgpu');
  $('backend').textContent = demo.backend;
  $('sizes').textContent = `the first ${trainCount} training digits, ${epochs} epoch${epochs > 1 ? 's' : ''} of batches of ${batchSize}, validated on ${testCount} test digits`;

  const [[xTrain, yTrain], [xTest, yTest]] = await Promise.all([loadSplit(location.href, 'train', trainCount), loadSplit(location.href, 'test', testCount)]);
  const model = compiledModel();

  const stepsPerEpoch = Math.ceil(trainCount / batchSize);
  const drawLoss = chart($('loss-chart'), 'loss', '#1f77b4');
  const drawAccuracy = chart($('accuracy-chart'), 'accuracy', '#2ca02c');
  const redraw = () => {
    const steps = demo.batches.map((_, i) => i + 1);
    const atEpochEnd = (key: 'val_loss' | 'val_accuracy') => steps.map((s) => demo.epochs.find((e) => e.epoch * stepsPerEpoch === s)?.[key] ?? null);
    drawLoss(steps, demo.batches.map((b) => b.loss), atEpochEnd('val_loss'));
    drawAccuracy(steps, demo.batches.map((b) => b.accuracy), atEpochEnd('val_accuracy'));
  };

  const button = $<HTMLButtonElement>('train');
  button.textContent = `Train ${epochs} epoch${epochs > 1 ? 's' : ''}`;
  button.disabled = false;
  demo.status = 'ready';
  say(`ready: ${trainCount} training and ${testCount} test digits loaded`);
  let waiting: Float32Array | null = null;
  setUpPad((pixels) => {
    // a digit drawn while fit runs waits for it to end rather than be predicted between two of
    // its steps, on weights half way through an epoch
    if (demo.status !== 'training') return void classify(model, pixels).catch(fatal);
    waiting = pixels;
    $('digit').textContent = '…';
  });

  button.addEventListener('click', async () => {
    button.disabled = true;
    demo.status = 'training';
    const initialEpoch = demo.epochs.length;
    let epochStart = 0;
    const progress = new kiln.callbacks.LambdaCallback({
      onEpochBegin: (epoch) => {
        epochStart = performance.now();
        say(`training epoch ${epoch + 1} of ${initialEpoch + epochs}…`);
      },
      onTrainBatchEnd: (_batch, logs) => {
        demo.batches.push({ loss: logs?.loss ?? NaN, accuracy: logs?.accuracy ?? NaN });
        redraw();
      },
      onEpochEnd: (epoch, logs = {}) => {
        const row: EpochRow = { epoch: epoch + 1, loss: logs.loss, accuracy: logs.accuracy, val_loss: logs.val_loss, val_accuracy: logs.val_accuracy, seconds: (performance.now() - epochStart) / 1000 };
        demo.epochs.push(row);
        const cells = [row.epoch, ...[row.loss, row.accuracy, row.val_loss, row.val_accuracy].map((v) => v.toFixed(4)), row.seconds.toFixed(1)];
        $('epochs').querySelector('tbody')!.insertAdjacentHTML('beforeend', `<tr>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`);
        redraw();
      },
    });
    try {
      await model.fit(xTrain, yTrain, { initialEpoch, epochs: initialEpoch + epochs, batchSize, validationData: [xTest, yTest], callbacks: [progress], verbose: 0 });
      const last = demo.epochs[demo.epochs.length - 1];
      demo.status = 'trained';
      say(`trained: validation accuracy ${(last.val_accuracy * 100).toFixed(1)}%; draw a digit below`);
      button.textContent = `Train ${epochs} more epoch${epochs > 1 ? 's' : ''}`;
      button.disabled = false;
      if (waiting) await classify(model, waiting);
      waiting = null;
    } catch (e) {
      fatal(e);
    }
  });
}

/** The pad's strokes as MNIST draws digits: fitted into 20×20, centred by mass in 28×28, in [0, 1]. */
function mnistPixels(pad: HTMLCanvasElement): Float32Array | null {
  const w = pad.width;
  const src = pad.getContext('2d')!.getImageData(0, 0, w, pad.height).data;
  let [x0, y0, x1, y1] = [w, pad.height, -1, -1];
  for (let i = 0; i < src.length; i += 4) {
    if (src[i] === 0) continue;
    const x = (i / 4) % w;
    const y = Math.floor(i / 4 / w);
    [x0, y0, x1, y1] = [Math.min(x0, x), Math.min(y0, y), Math.max(x1, x), Math.max(y1, y)];
  }
  if (x1 < 0) return null;
  const side = Math.max(x1 - x0, y1 - y0) + 1;
  const [bw, bh] = [((x1 - x0 + 1) / side) * 20, ((y1 - y0 + 1) / side) * 20];
  const box = document.createElement('canvas');
  box.width = box.height = 28;
  const ctx = box.getContext('2d')!;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(pad, x0, y0, x1 - x0 + 1, y1 - y0 + 1, (28 - bw) / 2, (28 - bh) / 2, bw, bh);
  const boxed = ctx.getImageData(0, 0, 28, 28).data;
  let [mass, mx, my] = [0, 0, 0];
  for (let i = 0; i < 784; i++) {
    mass += boxed[4 * i];
    mx += boxed[4 * i] * (i % 28);
    my += boxed[4 * i] * Math.floor(i / 28);
  }
  // shift so the centre of mass lands on the middle pixel, as the MNIST digits were
  const [dx, dy] = [Math.round(13.5 - mx / mass), Math.round(13.5 - my / mass)];
  const out = new Float32Array(784);
  for (let y = 0; y < 28; y++) {
    for (let x = 0; x < 28; x++) {
      const [sx, sy] = [x - dx, y - dy];
      if (sx >= 0 && sx < 28 && sy >= 0 && sy < 28) out[y * 28 + x] = boxed[4 * (sy * 28 + sx)] / 255;
    }
  }
  return out;
}

function showSeen(pixels: Float32Array): void {
  const seen = $<HTMLCanvasElement>('seen').getContext('2d')!;
  const img = seen.createImageData(28, 28);
  pixels.forEach((v, i) => img.data.set([v * 255, v * 255, v * 255, 255], 4 * i));
  seen.putImageData(img, 0, 0);
}

async function classify(model: kiln.Sequential, pixels: Float32Array): Promise<void> {
  const x = kiln.tensor(pixels, [1, 28, 28, 1]);
  const y = (await model.predict(x)) as kiln.Tensor;
  const probabilities = Array.from((await y.data()) as Float32Array);
  kiln.dispose([x, y]);
  const digit = probabilities.indexOf(Math.max(...probabilities));
  demo.prediction = { digit, probabilities, pixels: Array.from(pixels) };
  $('digit').textContent = String(digit);
  $('bars').innerHTML = probabilities
    .map((p, d) => `<span>${d}</span><div class="bar" style="width:${(p * 100).toFixed(1)}%"></div><span>${(p * 100).toFixed(1)}%</span>`)
    .join('');
}

/** The drawing pad: white strokes on black, handed to `drawn` as MNIST pixels when the pen lifts. */
function setUpPad(drawn: (pixels: Float32Array) => void): void {
  const pad = $<HTMLCanvasElement>('pad');
  const ctx = pad.getContext('2d', { willReadFrequently: true })!;
  const clear = () => {
    ctx.fillStyle = '#000';
    ctx.fillRect(0, 0, pad.width, pad.height);
  };
  clear();
  Object.assign(ctx, { strokeStyle: '#fff', lineWidth: 22, lineCap: 'round', lineJoin: 'round' });
  let drawing = false;
  const at = (e: PointerEvent): [number, number] => {
    const r = pad.getBoundingClientRect();
    return [((e.clientX - r.left) * pad.width) / r.width, ((e.clientY - r.top) * pad.height) / r.height];
  };
  pad.addEventListener('pointerdown', (e) => {
    drawing = true;
    pad.setPointerCapture(e.pointerId);
    ctx.beginPath();
    ctx.moveTo(...at(e));
    ctx.lineTo(...at(e));
    ctx.stroke();
  });
  pad.addEventListener('pointermove', (e) => {
    if (!drawing) return;
    ctx.lineTo(...at(e));
    ctx.stroke();
  });
  pad.addEventListener('pointerup', () => {
    drawing = false;
    const pixels = mnistPixels(pad);
    if (!pixels) return;
    showSeen(pixels);
    drawn(pixels);
  });
  $('clear').addEventListener('click', () => {
    clear();
    demo.prediction = null;
    $('digit').textContent = '–';
    $('bars').innerHTML = '';
  });
}

function fatal(e: unknown): void {
  demo.status = 'error';
  demo.error = e instanceof Error ? e.message : String(e);
  say(`error: ${demo.error}`);
  console.error(e);
}

main().catch(fatal);
