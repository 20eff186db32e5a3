/** The issue's targets, each a ratio between two engines of the same run: met, missed, or not judged and why. */
import type { Row, Workload } from './results.js';
import { find, fmt, ratioText, speedRatio, SUBJECT, value, type RunMeta } from './table.js';

export interface Target {
  target: string;
  measured: string;
  status: 'met' | 'missed' | 'not judged';
  ratio: number | null;
}

/** W2 fed through kiln.data instead of whole tensors (bench/engines/kiln.ts, mnistPipeline). */
const PIPELINE = 'kiln native dataset';

const isBlas = (e: string) => e === 'pytorch' || e === 'onnxruntime' || e.startsWith('numpy');

export function targets(rows: Row[], quick: boolean, meta: Map<string, RunMeta>): Target[] {
  const out: Target[] = [];
  const why = (w: Workload, engines: string[], kase: string): string => {
    const gone = engines.find((e) => value(rows, w, e, kase) === null);
    return gone ? `${gone}: ${find(rows, w, gone, kase)?.missing ?? 'no figure'}` : 'no figure';
  };
  /** One target; `peer` is the other engine, so contention of either can be flagged beside the ratio. */
  const judge = (w: Workload, target: string, peer: string, ratio: number | null, ok: (r: number) => boolean, measured: string, kase: string, unjudged?: string) => {
    if (ratio === null || unjudged) {
      out.push({ target, measured: unjudged ?? why(w, [SUBJECT, peer], kase), status: 'not judged', ratio: null });
      return;
    }
    // a ratio measured while other processes held the CPU says little: say so beside it
    const busy = [SUBJECT, peer].map((e) => [e, meta.get(`${e}|${w}`)?.neighbours ?? 0] as const).filter(([, n]) => n > 0.2);
    const note = busy.length ? `; contended: ${busy.map(([e, n]) => `others took ${(n * 100).toFixed(0)}% of the CPU during ${e}`).join(', ')}` : '';
    out.push({ target, measured: measured + note, status: ok(ratio) ? 'met' : 'missed', ratio });
  };

  for (const n of [1024, 2048]) {
    const k = `n=${n}`;
    const best = rows.filter((r) => r.workload === 'W1' && r.case === k && isBlas(r.engine) && r.value !== null).sort((a, b) => b.value! - a.value!)[0];
    const kn = value(rows, 'W1', SUBJECT, k);
    const r = best ? speedRatio(kn, best.value, 'up') : null;
    judge('W1', `W1 ${k}: kiln native ≥ 0.8× best BLAS`, best?.engine ?? 'numpy', r, (x) => x >= 0.8,
      `${ratioText(r)} (${fmt(kn ?? 0, 1)} vs ${best?.engine} ${fmt(best?.value ?? 0, 1)} GFLOPS)`, k, best ? undefined : 'no BLAS peer ran');
  }
  const speed = (w: Workload, peer: string, min: number, label: string) => {
    const [a, b] = [value(rows, w, SUBJECT, 'samples/s'), value(rows, w, peer, 'samples/s')];
    judge(w, label, peer, speedRatio(a, b, 'up'), (x) => x >= min, `${ratioText(speedRatio(a, b, 'up'))} (${fmt(a ?? 0, 0)} vs ${fmt(b ?? 0, 0)} samples/s)`, 'samples/s');
  };
  speed('W2', 'pytorch', 1, 'W2 kiln native ≥ 1.0× PyTorch');
  speed('W2', 'tfjs wasm', 20, 'W2 kiln native ≥ 20× TF.js wasm');
  const [ka, pa] = [value(rows, 'W2', SUBJECT, 'test acc %'), value(rows, 'W2', 'pytorch', 'test acc %')];
  const gap = ka !== null && pa !== null ? Math.abs(ka - pa) : null;
  judge('W2', 'W2 accuracy within 0.5 points of PyTorch', 'pytorch', gap, (g) => g <= 0.5, `${fmt(gap ?? 0, 2)} points (${fmt(ka ?? 0, 2)} vs ${fmt(pa ?? 0, 2)} %)`, 'test acc %',
    quick && gap !== null ? `${fmt(gap, 2)} points after 100 steps (--quick); judged after a whole epoch` : undefined);
  const [tensors, piped] = [value(rows, 'W2', SUBJECT, 'samples/s'), value(rows, 'W2', PIPELINE, 'samples/s')];
  // the pipeline's cost per step as a share of the tensor path's step: (1/piped - 1/tensors) / (1/tensors)
  const overhead = tensors !== null && piped !== null ? tensors / piped - 1 : null;
  judge('W2', 'W2 Dataset pipeline overhead per step < 5 % of the native step', PIPELINE, overhead, (o) => o < 0.05,
    `${fmt((overhead ?? 0) * 100, 1)} % (${fmt(piped ?? 0, 0)} vs ${fmt(tensors ?? 0, 0)} samples/s)`, 'samples/s');
  speed('W3', 'pytorch', 1.2, 'W3 kiln native ≥ 1.2× PyTorch');
  speed('W5', 'pytorch', 1.2, 'W5 LSTM training: kiln native ≥ 1.2× PyTorch');
  speed('W6', 'pytorch', 1, 'W6 transformer training: kiln native ≥ 1.0× PyTorch');
  for (const [arch, name, latency] of [['mlp', 'MLP', 1.2], ['cnn', 'CNN', 1]] as const) {
    const [kl, ol] = [value(rows, 'W4', SUBJECT, `${arch} b1 µs`), value(rows, 'W4', 'onnxruntime', `${arch} b1 µs`)];
    const lat = kl !== null && ol !== null ? kl / ol : null;
    judge('W4', `W4 ${name} batch-1 latency ≤ ${latency.toFixed(1)}× onnxruntime`, 'onnxruntime', lat, (x) => x <= latency, `${ratioText(lat)} (${fmt(kl ?? 0, 0)} vs ${fmt(ol ?? 0, 0)} µs)`, `${arch} b1 µs`);
    const [kt, ot] = [value(rows, 'W4', SUBJECT, `${arch} b256 samples/s`), value(rows, 'W4', 'onnxruntime', `${arch} b256 samples/s`)];
    judge('W4', `W4 ${name} batch-256 throughput ≥ 0.8× onnxruntime`, 'onnxruntime', speedRatio(kt, ot, 'up'), (x) => x >= 0.8,
      `${ratioText(speedRatio(kt, ot, 'up'))} (${fmt(kt ?? 0, 0)} vs ${fmt(ot ?? 0, 0)} samples/s)`, `${arch} b256 samples/s`);
  }
  return out;
}

export function targetsTable(ts: Target[]): string {
  return ['### Targets (same run)', '', '| target | measured | status |', '|---|---|---|', ...ts.map((t) => `| ${t.target} | ${t.measured} | ${t.status} |`)].join('\n');
}
