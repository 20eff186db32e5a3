/**
 * The markdown report from a run's saved data, so that `npm run bench -- --render` can print
 * bench/results.json again (after a change to the report, or for RESULTS.md) without measuring.
 */
import type { EngineReport, Row, Workload } from './results.js';
import { workloadTable, type RunMeta } from './table.js';
import { targets, targetsTable, type Target } from './targets.js';

/** One child's run, as results.json keeps it (its rows are in `rows`). */
export interface RunInfo extends Omit<EngineReport, 'rows'> {
  workload: Workload;
  seconds: number;
  /** Share of the machine's CPU that other processes used while this child ran. */
  neighbours: number;
  retried: boolean;
}

export interface Saved {
  date: string;
  quick: boolean;
  machine: { cpu: string; simd: string; threads: number; node: string; loadavg: number[]; loadavgEnd?: number[] };
  /** Absent in files written before it was recorded: then the workloads the rows name. */
  workloads?: Workload[];
  runs: RunInfo[];
  rows: Row[];
}

export function render(s: Saved): { markdown: string; targets: Target[] } {
  const meta = new Map<string, RunMeta>(s.runs.map((r) => [`${r.engine}|${r.workload}`, { threads: r.threads, neighbours: r.neighbours }]));
  const ts = targets(s.rows, s.quick, meta);
  // the same engine may describe itself differently per workload (PyTorch adds its BLAS in W1)
  const infos = new Map<string, Set<string>>();
  for (const r of s.runs) if (r.info) infos.set(r.engine, (infos.get(r.engine) ?? new Set()).add(r.info));
  const m = s.machine;
  const markdown = [
    `## kiln benchmark, ${s.quick ? '--quick' : 'full'} run`,
    '',
    `${m.cpu} (${m.simd}), ${m.threads} threads for every engine, Node ${m.node}, ${s.date.slice(0, 16).replace('T', ' ')} UTC. ` +
      `Figures are medians after warm-up. Load average ${m.loadavg.join(' ')} at the start${m.loadavgEnd ? `, ${m.loadavgEnd.join(' ')} at the end` : ''}.`,
    '',
    ...(s.workloads ?? [...new Set(s.rows.map((r) => r.workload))]).flatMap((w) => [workloadTable(s.rows, w, meta), '']),
    targetsTable(ts),
    '',
    '### Engines',
    '',
    ...[...infos].map(([e, i]) => `- ${e}: ${[...i].join('; ')}`),
  ].join('\n');
  return { markdown, targets: ts };
}
