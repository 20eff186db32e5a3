/**
 * The markdown report: one table per workload, each figure beside its ratio to kiln native
 * measured in the same run, then the targets, each met or missed by a stated ratio.
 */
import type { Row, Workload } from './results.js';

export const SUBJECT = 'kiln native';
const ORDER = ['kiln reference', 'kiln native', 'tfjs cpu', 'tfjs wasm', 'onnxruntime', 'pytorch'];

interface Column {
  kase: string;
  title: string;
  /** 'up': higher is faster; 'down': lower is faster (latency); 'none': no speed ratio. */
  better: 'up' | 'down' | 'none';
  digits: number;
}

const COLUMNS: Record<Workload, { title: string; cols: Column[] }> = {
  W1: { title: 'W1 SGEMM float32, GFLOPS', cols: [256, 512, 1024, 2048].map((n) => ({ kase: `n=${n}`, title: `n=${n}`, better: 'up' as const, digits: 1 })) },
  W2: { title: 'W2 MLP training, MNIST 784-256-256-10, Adam, batch 128', cols: [{ kase: 'samples/s', title: 'samples/s', better: 'up', digits: 0 }, { kase: 'test acc %', title: 'test acc %', better: 'none', digits: 2 }] },
  W3: { title: 'W3 CNN training, MNIST, (Conv2D 3×3 → BatchNorm → MaxPool 2) ×2 → Dense 128 → Dropout → Dense 10, Adam, batch 128', cols: [{ kase: 'samples/s', title: 'samples/s', better: 'up', digits: 0 }, { kase: 'test acc %', title: 'test acc %', better: 'none', digits: 2 }] },
  W5: { title: 'W5 LSTM training, Embedding 1000×64 → LSTM 128 → Dense 10, sequences of 100, Adam, batch 64', cols: [{ kase: 'samples/s', title: 'samples/s', better: 'up', digits: 0 }, { kase: 'held-out acc %', title: 'held-out acc %', better: 'none', digits: 1 }] },
  W6: { title: 'W6 transformer encoder training, d 128, 4 heads, 2 blocks, sequence 64, Adam, batch 32', cols: [{ kase: 'samples/s', title: 'samples/s', better: 'up', digits: 0 }, { kase: 'held-out acc %', title: 'held-out token acc %', better: 'none', digits: 1 }] },
  W4: {
    title: 'W4 inference (untrained weights)',
    cols: [
      { kase: 'mlp b1 µs', title: 'MLP b1 µs', better: 'down', digits: 0 },
      { kase: 'mlp b256 samples/s', title: 'MLP b256 samples/s', better: 'up', digits: 0 },
      { kase: 'cnn b1 µs', title: 'CNN b1 µs', better: 'down', digits: 0 },
      { kase: 'cnn b256 samples/s', title: 'CNN b256 samples/s', better: 'up', digits: 0 },
    ],
  },
};

export const find = (rows: Row[], w: Workload, engine: string, kase: string): Row | undefined =>
  rows.find((r) => r.workload === w && r.engine === engine && r.case === kase);
export const value = (rows: Row[], w: Workload, engine: string, kase: string): number | null => find(rows, w, engine, kase)?.value ?? null;

/** kiln native's speed ÷ the engine's: above 1, kiln native is faster. */
export function speedRatio(subject: number | null, other: number | null, better: Column['better']): number | null {
  if (subject === null || other === null || other <= 0 || subject <= 0) return null;
  return better === 'up' ? subject / other : other / subject;
}

export const fmt = (v: number, digits: number): string => v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
export const ratioText = (r: number | null): string => (r === null ? '' : `${r >= 10 ? r.toFixed(0) : r.toFixed(2)}×`);

export function engineOrder(rows: Row[], w: Workload): string[] {
  const names = [...new Set(rows.filter((r) => r.workload === w).map((r) => r.engine))];
  const rank = (n: string) => (ORDER.includes(n) ? ORDER.indexOf(n) : ORDER.length);
  return names.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** The engine each column's ratios are taken against: kiln native, or PyTorch where kiln native has no figure. */
function subjectOf(rows: Row[], w: Workload, kase: string): string {
  return value(rows, w, SUBJECT, kase) !== null ? SUBJECT : 'pytorch';
}

export interface RunMeta {
  threads: number | null;
  neighbours: number;
}

export function workloadTable(rows: Row[], w: Workload, meta: Map<string, RunMeta>): string {
  const { title, cols } = COLUMNS[w];
  const head = ['engine', 'threads', 'others', ...cols.flatMap((c) => (c.better === 'none' ? [c.title] : [c.title, '×'])), 'notes'];
  const lines = [`### ${title}`, '', `| ${head.join(' | ')} |`, `|${head.map((_, i) => (i < 3 || i === head.length - 1 ? '---' : '---:')).join('|')}|`];
  let fallback = false;
  for (const engine of engineOrder(rows, w)) {
    const m = meta.get(`${engine}|${w}`);
    const cells: string[] = [engine, String(m?.threads ?? '—'), m ? `${(m.neighbours * 100).toFixed(0)}%` : '—'];
    const notes = new Set<string>();
    for (const c of cols) {
      const r = find(rows, w, engine, c.kase);
      cells.push(r?.value == null ? '—' : fmt(r.value, c.digits));
      if (c.better !== 'none') {
        const subject = subjectOf(rows, w, c.kase);
        fallback ||= subject !== SUBJECT && value(rows, w, subject, c.kase) !== null;
        cells.push(engine === subject ? (r?.value == null ? '' : '1') : ratioText(speedRatio(value(rows, w, subject, c.kase), r?.value ?? null, c.better)));
      }
      if (r?.missing) notes.add(r.missing);
      else if (r?.note && c.better !== 'none') notes.add(r.note.split(';')[0]);
    }
    lines.push(`| ${[...cells, [...notes].join('; ')].join(' | ')} |`);
  }
  lines.push('', `× = kiln native's speed ÷ this engine's, same run (above 1: kiln native is faster)${fallback ? '; where kiln native has no figure, PyTorch\'s speed ÷ this engine\'s' : ''}. ` +
    'others = share of the machine\'s CPU that other processes used during this engine\'s run (they slow multi-threaded engines most).');
  return lines.join('\n');
}
