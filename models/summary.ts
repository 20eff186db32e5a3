import type { Shape } from '../src/shape.js';
import type { Layer } from '../layers/layer.js';
import { InputLayer } from '../layers/core/input.js';
import type { Model } from './model.js';
import { BYTES_PER_ELEMENT } from '../backends/contract.js';

export interface SummaryOptions {
  /** Receives each line; default console.log. Pass `() => {}` to only get the returned text. */
  printFn?: (line: string) => void;
  lineLength?: number;
}

/** Keras's summary table: layer (type), output shape, param #, and for Functional models connected to. */
export function summary(model: Model, { printFn = console.log }: SummaryOptions = {}): string {
  const functional = model.isFunctional && model.className !== 'Sequential';
  const nodes = (model as unknown as { graph: { nodes: { layer: Layer; outputs: { shape: Shape }[] }[]; inboundLayerNames(n: unknown): string[] } | null }).graph;
  const rows: string[][] = [];
  const layers = functional ? model.layers : model.layers.filter((l) => !(l instanceof InputLayer));
  for (const layer of layers) {
    const layerNodes = nodes ? nodes.nodes.filter((n) => n.layer === layer) : [];
    const shapes = layer instanceof InputLayer ? [layer.batchShape] : layerNodes.flatMap((n) => n.outputs.map((o) => o.shape));
    const shapeText = shapes.length ? shapes.map(formatShape).join(', ') : '?';
    const params = layer.built ? layer.countParams() : 0;
    const row = [`${layer.name} (${layer.className})`, shapeText, params.toLocaleString('en-US')];
    if (functional) row.push(layerNodes.flatMap((n) => nodes!.inboundLayerNames(n)).join(', ') || '-');
    rows.push(row);
  }
  const header = ['Layer (type)', 'Output Shape', 'Param #', ...(functional ? ['Connected to'] : [])];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)) + 2);
  const line = (l: string, m: string, r: string, fill: string) => l + widths.map((w) => fill.repeat(w)).join(m) + r;
  const cells = (r: string[]) => '│' + r.map((c, i) => (i === 2 ? ` ${c.padStart(widths[i] - 2)} ` : ` ${c.padEnd(widths[i] - 2)} `)).join('│') + '│';
  const out: string[] = [`Model: "${model.name}"`, line('┏', '┳', '┓', '━'), '┃' + header.map((h, i) => ` ${h.padEnd(widths[i] - 2)} `).join('┃') + '┃', line('┡', '╇', '┩', '━')];
  rows.forEach((r, i) => {
    out.push(cells(r));
    if (i < rows.length - 1) out.push(line('├', '┼', '┤', '─'));
  });
  out.push(line('└', '┴', '┘', '─'));
  const bytes = (vars: { size: number; dtype: keyof typeof BYTES_PER_ELEMENT }[]) => vars.reduce((b, v) => b + v.size * BYTES_PER_ELEMENT[v.dtype], 0);
  const count = (vars: { size: number }[]) => vars.reduce((n, v) => n + v.size, 0);
  const all = model.built ? model.weights : [];
  const trainable = model.built ? model.trainableWeights : [];
  const frozen = model.built ? model.nonTrainableWeights : [];
  out.push(` Total params: ${count(all).toLocaleString('en-US')} (${fmtBytes(bytes(all))})`);
  out.push(` Trainable params: ${count(trainable).toLocaleString('en-US')} (${fmtBytes(bytes(trainable))})`);
  out.push(` Non-trainable params: ${count(frozen).toLocaleString('en-US')} (${fmtBytes(bytes(frozen))})`);
  for (const l of out) printFn(l);
  return out.join('\n');
}

/** Keras prints shapes as Python tuples: (None, 10). */
export function formatShape(shape: Shape): string {
  const dims = shape.map((d) => (d === null ? 'None' : String(d)));
  return `(${dims.join(', ')}${dims.length === 1 ? ',' : ''})`;
}

function fmtBytes(b: number): string {
  if (b >= 1024 ** 3) return `${(b / 1024 ** 3).toFixed(2)} GB`;
  if (b >= 1024 ** 2) return `${(b / 1024 ** 2).toFixed(2)} MB`;
  if (b >= 1024) return `${(b / 1024).toFixed(2)} KB`;
  return `${b.toFixed(2)} B`;
}
