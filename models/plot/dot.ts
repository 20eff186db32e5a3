import { dotString, escapeXml } from './markup.js';
import type { PlotGraph, PlotNode } from './graph.js';

export interface DotOptions {
  rankdir: 'TB' | 'LR';
  dpi: number;
  name: string;
}

/**
 * Graphviz text for the plot, as Keras's model_to_dot writes it: record nodes with an HTML
 * table label (a black title cell, then one white cell per shape or dtype), 2-point edges, dashed
 * clusters labelled with the nested model's name, `concentrate`, orthogonal splines. Names reach
 * the label escaped as XML and the ids are kiln's own (`node_3`), so no name can break the file.
 */
export function toDot(graph: PlotGraph, { rankdir, dpi, name }: DotOptions): string {
  const lines = [
    `digraph ${dotString(name)} {`,
    `  graph [rankdir=${rankdir}, concentrate=true, dpi=${dpi}, splines=ortho];`,
    '  node [shape=record];',
  ];
  const body = (cluster: string | null, indent: string): void => {
    for (const n of graph.nodes.filter((n) => n.cluster === cluster)) lines.push(`${indent}${dotString(n.id)} [label=${label(n)}, fontname="Helvetica", border=0, margin=0];`);
    for (const c of graph.clusters.filter((c) => c.parent === cluster)) {
      lines.push(`${indent}subgraph ${dotString(c.id)} {`, `${indent}  graph [label=${dotString(c.label)}, labeljust=l, style=dashed];`);
      body(c.id, `${indent}  `);
      lines.push(`${indent}}`);
    }
  };
  body(null, '  ');
  for (const e of graph.edges) lines.push(`  ${dotString(e.from)} -> ${dotString(e.to)} [penwidth=2];`);
  lines.push('}');
  return lines.join('\n') + '\n';
}

function label(n: PlotNode): string {
  const colspan = Math.max(1, n.details.length);
  const title = n.name === null ? `<b>${escapeXml(n.className)}</b>` : `<b>${escapeXml(n.name)}</b> (${escapeXml(n.className)})`;
  let table = '<<table border="0" cellborder="1" bgcolor="black" cellpadding="10">';
  table += `<tr><td colspan="${colspan}" bgcolor="black"><font point-size="16" color="white">${title}</font></td></tr>`;
  if (n.details.length) table += `<tr>${n.details.map((d) => `<td bgcolor="white"><font point-size="14">${escapeXml(d.label)}: <b>${escapeXml(d.value)}</b></font></td>`).join('')}</tr>`;
  return `${table}</table>>`;
}
