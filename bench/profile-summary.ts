/**
 * Where a kiln run's time goes, from a V8 CPU profile: self time grouped by source folder
 * (autodiff tape, ops dispatch, layers, the native backend's JS side, the addon's kernels), then
 * the heaviest functions. Time inside a native addon call is charged to that call's frame.
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/child.ts kiln-native mlp-train '{"quick":false,"threads":2}'
 *   npx tsx bench/profile-summary.ts /tmp/prof/*.cpuprofile
 */
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

/** A folder of the repository, or what V8 calls the frame. */
function group(url: string, fn: string): string {
  if (!url) return fn.startsWith('(') ? fn : `native call: ${fn || '(anonymous)'}`;
  const m = /\/work\/[^/]+\/(?:[^/]+\/)?((?:src|backends|layers|losses|optimizers|bench)\/(?:[^/]+\/)?)/.exec(url) ?? /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  return url.startsWith('node:') ? 'node internals' : url;
}

function summarize(path: string): void {
  const p = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const groups = new Map<string, number>();
  const fns = new Map<string, number>();
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const g = group(url, functionName);
    groups.set(g, (groups.get(g) ?? 0) + us);
    const f = `${functionName || '(anonymous)'} ${url ? `${url.replace(/^.*\/work\/[^/]+\//, '')}:${lineNumber + 1}` : ''}`;
    fns.set(f, (fns.get(f) ?? 0) + us);
  }
  const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
  console.log(`## ${path}: ${(total / 1e6).toFixed(1)} s sampled\n\nself time by folder:`);
  for (const [g, us] of [...groups].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`${pct(us)}  ${g}`);
  console.log('\nheaviest functions (self time):');
  for (const [f, us] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${pct(us)}  ${f}`);
}

for (const path of process.argv.slice(2)) summarize(path);
