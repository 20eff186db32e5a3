import { Graph, layout, type Point } from '@dagrejs/dagre';
import { escapeXml } from './markup.js';
import type { PlotGraph, PlotNode } from './graph.js';

const TITLE_FONT = 14;
const DETAIL_FONT = 12;
const LINE = 20;
const PAD = 10;
const CLUSTER_LABEL = 22;
const FONT = 'Helvetica, Arial, sans-serif';

/**
 * Lays the plot out with dagre (the layered layout Graphviz's dot also uses, with no Graphviz
 * installed) and draws it as Keras's boxes do: a black title bar with the name and class, white
 * rows for the shapes and dtype, arrows between boxes, nested models as dashed frames. Each box is
 * a `<g class="node" id="node_k">` titled with the layer's name, each edge a `<g class="edge">`
 * naming its ends in `data-from`/`data-to`, so a reader (or a test) finds them without guessing.
 */
export function toSvg(graph: PlotGraph, rankdir: 'TB' | 'LR', name: string): string {
  const g = new Graph({ compound: true, multigraph: false });
  g.setGraph({ rankdir, nodesep: 30, ranksep: 40, marginx: 16, marginy: 16 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of graph.nodes) g.setNode(n.id, size(n));
  for (const c of graph.clusters) g.setNode(c.id, { paddingTop: CLUSTER_LABEL });
  for (const c of graph.clusters) if (c.parent) g.setParent(c.id, c.parent);
  for (const n of graph.nodes) if (n.cluster) g.setParent(n.id, n.cluster);
  for (const e of graph.edges) g.setEdge(e.from, e.to);
  layout(g);
  const { width = 0, height = 0 } = g.graph();
  const w = Math.ceil(width);
  const h = Math.ceil(height);
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" font-family="${FONT}">`,
    `<title>${escapeXml(name)}</title>`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="black"/></marker></defs>',
    `<rect class="background" width="${w}" height="${h}" fill="white"/>`,
  ];
  for (const c of graph.clusters) {
    const b = g.node(c.id);
    const x = b.x - b.width / 2;
    const y = b.y - b.height / 2;
    parts.push(`<g class="cluster" id="${c.id}"><rect x="${r(x)}" y="${r(y)}" width="${r(b.width)}" height="${r(b.height)}" fill="none" stroke="black" stroke-dasharray="6,4"/><text x="${r(x + 6)}" y="${r(y + 15)}" font-size="${DETAIL_FONT}">${escapeXml(c.label)}</text></g>`);
  }
  for (const e of graph.edges) {
    const points: Point[] = g.edge(e.from, e.to).points ?? [];
    const d = points.map((p, i) => `${i ? 'L' : 'M'}${r(p.x)},${r(p.y)}`).join(' ');
    parts.push(`<g class="edge" data-from="${e.from}" data-to="${e.to}"><path d="${d}" fill="none" stroke="black" stroke-width="2" marker-end="url(#arrow)"/></g>`);
  }
  for (const n of graph.nodes) parts.push(box(n, g.node(n.id)));
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}

function title(n: PlotNode): string {
  return n.name === null ? n.className : `${n.name} (${n.className})`;
}

/** Text widths guessed from character counts: close enough for a sans-serif font, and no font metrics needed. */
function textWidth(text: string, font: number): number {
  return [...text].length * font * 0.6;
}

function size(n: PlotNode): { width: number; height: number } {
  const widths = [textWidth(title(n), TITLE_FONT), ...n.details.map((d) => textWidth(`${d.label}: ${d.value}`, DETAIL_FONT))];
  return { width: Math.ceil(Math.max(...widths) + 2 * PAD), height: LINE + 8 + n.details.length * LINE };
}

function box(n: PlotNode, at: { x: number; y: number; width: number; height: number }): string {
  const x = at.x - at.width / 2;
  const y = at.y - at.height / 2;
  const bar = LINE + 8;
  const name = n.name === null ? `<tspan font-weight="bold">${escapeXml(n.className)}</tspan>` : `<tspan font-weight="bold">${escapeXml(n.name)}</tspan> (${escapeXml(n.className)})`;
  const rows = n.details.map((d, i) => `<text x="${r(x + PAD)}" y="${r(y + bar + i * LINE + 14)}" font-size="${DETAIL_FONT}">${escapeXml(d.label)}: <tspan font-weight="bold">${escapeXml(d.value)}</tspan></text>`);
  return [
    `<g class="node" id="${n.id}"><title>${escapeXml(n.layer.name)}</title>`,
    `<rect x="${r(x)}" y="${r(y)}" width="${r(at.width)}" height="${r(at.height)}" fill="white" stroke="black"/>`,
    `<rect x="${r(x)}" y="${r(y)}" width="${r(at.width)}" height="${bar}" fill="black"/>`,
    `<text class="title" x="${r(x + PAD)}" y="${r(y + bar / 2 + 5)}" font-size="${TITLE_FONT}" fill="white">${name}</text>`,
    ...rows,
    '</g>',
  ].join('');
}

function r(v: number): string {
  return String(Math.round(v * 10) / 10);
}
