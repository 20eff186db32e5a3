import { escapeXml, scriptJson } from '../../models/plot/markup.js';
import type { RunLog } from './run-log.js';
import type { ChartLibrary } from './uplot.js';

export interface ReportParts {
  title: string;
  log: RunLog;
  /** The model's summary table, when the report knows the model. */
  summary: string | null;
  /** The model's plotModel SVG (already escaped by its writer). */
  svg: string | null;
}

/** One chart: a metric's training values and, on the same axes, its `val_` twin. */
export interface Chart {
  title: string;
  keys: string[];
}

const TITLES: Record<string, string> = { learning_rate: 'learning rate', lr: 'learning rate', epoch_time: 'time per epoch (s)' };

/** Groups the logged keys into charts: `x` with `val_x`, a `val_` key alone when `x` was not logged. */
export function chartsFor(keys: readonly string[]): Chart[] {
  const present = new Set(keys);
  const charts: Chart[] = [];
  for (const key of keys) {
    if (key.startsWith('val_') && present.has(key.slice(4))) continue;
    const base = key.startsWith('val_') ? key.slice(4) : key;
    charts.push({ title: TITLES[key] ?? base, keys: present.has(`val_${key}`) ? [key, `val_${key}`] : [key] });
  }
  return charts;
}

/**
 * The report page. The numbers travel as JSON in a `<script type="application/json">` element
 * (`id="kiln-report-data"`): the page's script draws them with uPlot, a reader or a test parses
 * them back, and a table below the charts shows them without script.
 */
export function reportHtml({ title, log, summary, svg }: ReportParts, lib: ChartLibrary): string {
  const keys = Object.keys(log.series);
  const data = { title, epochs: log.epochs, series: log.series, charts: chartsFor(keys) };
  const table = [
    `<tr><th>epoch</th>${keys.map((k) => `<th>${escapeXml(k)}</th>`).join('')}</tr>`,
    ...log.epochs.map((e, i) => `<tr><td>${e}</td>${keys.map((k) => `<td>${cell(log.series[k][i])}</td>`).join('')}</tr>`),
  ].join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="generator" content="kiln">
<title>${escapeXml(title)}</title>
<!--
The charts are drawn by uPlot ${lib.version} (https://github.com/leeoniya/uPlot), whose script and
style sheet are inlined below, unchanged, under its license:

${lib.license.trim()}
-->
<style>${lib.css}</style>
<style>
body { font-family: Helvetica, Arial, sans-serif; margin: 24px; color: #222; }
.charts { display: flex; flex-wrap: wrap; gap: 16px; }
.chart { border: 1px solid #ddd; padding: 8px; }
table.values { border-collapse: collapse; font-size: 12px; }
table.values td, table.values th { border: 1px solid #ccc; padding: 2px 6px; text-align: right; }
pre.summary { font-size: 12px; line-height: 1.25; }
</style>
</head>
<body>
<h1>${escapeXml(title)}</h1>
<p>${log.epochs.length} epoch${log.epochs.length === 1 ? '' : 's'}</p>
<h2>Curves</h2>
<div class="charts" id="charts"></div>
${summary === null ? '' : `<h2>Model</h2>\n<pre class="summary">${escapeXml(summary)}</pre>`}
${svg === null ? '' : `<div class="plot">${svg}</div>`}
<h2>Values</h2>
<table class="values">
${table}
</table>
<script type="application/json" id="kiln-report-data">${scriptJson(data)}</script>
<script>${lib.js}</script>
<script>${DRAW}</script>
</body>
</html>
`;
}

function cell(v: number | null): string {
  return v === null ? '' : String(Number(v.toPrecision(6)));
}

// the page's own script: one uPlot chart per entry of `charts`, training and validation on one pair of axes
const DRAW = `
(function () {
  var data = JSON.parse(document.getElementById('kiln-report-data').textContent);
  var colors = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728'];
  var host = document.getElementById('charts');
  // uPlot's default labels round to the tick step's decimals, so a flat series at 1e-3 reads 0.002, 0.002, 0.001
  function tickText(u, splits) {
    return splits.map(function (v) { return v == null ? '' : String(Number(v.toPrecision(6))); });
  }
  data.charts.forEach(function (chart) {
    var el = document.createElement('div');
    el.className = 'chart';
    el.setAttribute('data-keys', chart.keys.join(','));
    host.appendChild(el);
    var series = [{ label: 'epoch' }].concat(chart.keys.map(function (k, i) {
      return { label: k, stroke: colors[i % colors.length], width: 2, points: { show: true } };
    }));
    var columns = [data.epochs].concat(chart.keys.map(function (k) { return data.series[k]; }));
    new uPlot({ title: chart.title, width: 520, height: 280, scales: { x: { time: false } }, series: series, axes: [{ label: 'epoch' }, { size: 60, values: tickText }] }, columns, el);
  });
})();
`;
