import { currentBackend } from '../src/backends.js';
import { ENGINE } from '../src/engine.js';
import { fusedKernelsEnabled } from '../src/fused/switch.js';
import type { Tensor } from '../src/tensor.js';
import type { Variable } from '../src/variable.js';
import { isInfo, Plan, type Trace } from '../src/trace.js';
import { addCheck, collectChecks, type Check } from '../src/deferred-checks.js';
import type { Model } from './model.js';

/**
 * `compile({ jitCompile: true })` (Keras's jit_compile): a model's inference call, and the forward
 * and backward half of its training step, run once per input signature as a recorded list of
 * kernels (src/trace.ts), with no layer calls, shape inference, tape, tidy or tensors per op.
 * The first two calls of a signature run eagerly under a trace; when both called the same
 * kernels and uploaded the same constants, and neither read a value back, drew random numbers or
 * kept a tensor it made, the second trace becomes the plan that later calls replay. A signature
 * that cannot be replayed runs eagerly for good, its reason kept (`jitStatus`). The plan reads the
 * weights' buffers: when a weight is given a new buffer (an optimizer step, setWeights), the
 * replay's check sees it; a training step's plan takes the weights as inputs instead, so it
 * replays step after step.
 */

/** What a traced function returns: its output tensors, and what its caller needs to read them. */
export interface Traced<M> {
  outs: Tensor[];
  meta: M;
  /** Set when this call can never be replayed (e.g. its outputs carry masks), with the reason. */
  refuse?: string;
}

type Entry =
  | { state: 'traced'; calls: string[]; uploads: string[] }
  | { state: 'plan'; plan: Plan; weights: Variable[]; ids: number[]; outputs: Output[]; meta: unknown; checks: Omit<Check, 'status' | 'value'>[] }
  | { state: 'eager'; reason: string };

/** An output of a plan: a fresh buffer, or a view of an earlier output's (the same tensor twice, or a reshape). */
interface Output {
  shape: readonly number[];
  dtype: Tensor['dtype'];
  viewOf: number;
}

const entries = new WeakMap<Model, Map<string, Entry>>();

const idsOf = (weights: readonly Variable[]) => weights.map((w) => w.value.dataHandle().id);

/**
 * The result of `eager(xs)`, computed by replaying its plan where there is one. `kind` keeps
 * predict's and training's plans apart; `weightInputs` are weights the plan takes as inputs
 * (their current buffers at each replay) rather than reading fixed buffers.
 */
export function jitCall<M>(model: Model, kind: string, xs: Tensor[], eager: (xs: Tensor[]) => Traced<M>, weightInputs: readonly Variable[] = []): Traced<M> {
  const backend = currentBackend();
  const all = [...xs, ...weightInputs.map((w) => w.value)];
  const handles = all.map((x) => x.dataHandle());
  // which inputs share a buffer is part of the signature: a plan maps each traced buffer to one input
  const shared = handles.map((h) => handles.indexOf(h)).join(',');
  const key = `${kind} ${backend.name} ${fusedKernelsEnabled()} ${xs.map((x) => `${x.dtype}[${x.shape}]`).join(' ')} ${shared}`;
  let byKey = entries.get(model);
  if (!byKey) entries.set(model, (byKey = new Map()));
  const entry = byKey.get(key);
  if (entry?.state === 'eager') return eager(xs);
  const inputs = () => [...xs, ...weightInputs.map((w) => w.value)];
  if (entry?.state === 'plan') {
    // model.weights walks the layers: the plan keeps the list and compares buffer ids only
    if (entry.weights.every((w, i) => w.value.dataHandle().id === entry.ids[i])) {
      const outs: Tensor[] = [];
      for (const o of entry.outputs) outs.push(o.viewOf < 0 ? ENGINE.allocate(backend, o.shape, o.dtype, kind) : ENGINE.view(outs[o.viewOf], o.shape));
      const fresh = outs.filter((_, i) => entry.outputs[i].viewOf < 0);
      entry.plan.replay([...inputs().map((x) => x.dataHandle().id), ...fresh.map((o) => o.dataHandle().id)]);
      // the last outputs are the device checks' results (an index or label range): they wait for a read as the eager call's do
      const n = outs.length - 2 * entry.checks.length;
      entry.checks.forEach((c, i) => addCheck({ ...c, status: ENGINE.keep(outs[n + 2 * i]), value: ENGINE.keep(outs[n + 2 * i + 1]) }));
      return { outs: outs.slice(0, n), meta: entry.meta as M };
    }
    entry.plan.dispose();
    byKey.delete(key);
    return jitCall(model, kind, xs, eager, weightInputs);
  }

  const { result: { result, checks }, trace } = ENGINE.trace(() => collectChecks(() => eager(xs)));
  const fixed = model.weights.filter((w) => !weightInputs.includes(w));
  const outsWithChecks = [...result.outs, ...checks.flatMap((c) => [c.status, c.value])];
  const reason = result.refuse ?? unreplayable(trace, inputs(), fixed, outsWithChecks);
  // buffers by shape and dtype: two traces allocate different ids for the same computation
  const calls = trace.calls.map((c) => `${c.method}:${JSON.stringify(c.args, (_, v: unknown) => (isInfo(v) ? `${v.dtype}[${v.shape}]` : v))}`);
  const uploads = trace.uploads.map((u) => `${u.data.constructor.name}:${Array.from(u.data).join(',')}`);
  if (reason === null && entry?.state === 'traced' && sameList(entry.calls, calls) && sameList(entry.uploads, uploads)) {
    const outHandles = outsWithChecks.map((o) => o.dataHandle());
    const outputs = outsWithChecks.map((o, i) => ({ shape: o.shape, dtype: o.dtype, viewOf: outHandles.indexOf(outHandles[i]) === i ? -1 : outHandles.indexOf(outHandles[i]) }));
    byKey.set(key, {
      state: 'plan',
      plan: new Plan(trace, inputs().map((x) => x.dataHandle().id), outHandles.filter((_, i) => outputs[i].viewOf < 0).map((h) => h.id)),
      weights: fixed,
      ids: idsOf(fixed),
      outputs,
      meta: result.meta,
      checks: checks.map(({ key, backend, report }) => ({ key, backend, report })),
    });
    for (const c of checks) addCheck(c);
    return result;
  }
  for (const c of checks) addCheck(c);
  trace.release();
  if (reason !== null) byKey.set(key, { state: 'eager', reason });
  else if (entry?.state === 'traced') byKey.set(key, { state: 'eager', reason: 'two calls with the same input shapes called different kernels or uploaded different values' });
  else byKey.set(key, { state: 'traced', calls, uploads });
  return result;
}

/** Why a trace cannot be replayed, or null. */
function unreplayable(trace: Trace, xs: Tensor[], weights: readonly Variable[], outs: Tensor[]): string | null {
  if (trace.readBack) return trace.readBack;
  if (trace.calls.some((c) => c.method === 'random')) return 'it draws random numbers, which a replay would repeat';
  const inputs = new Set(xs.map((x) => x.dataHandle().id));
  const outputs = new Set(outs.map((o) => o.dataHandle().id));
  if (outs.some((o) => !trace.made.has(o.dataHandle().id) || inputs.has(o.dataHandle().id))) return 'an output is not computed by the call (it is an input or a tensor made before)';
  for (const id of trace.made) if (!trace.kept.has(id) && !outputs.has(id)) return 'it keeps a tensor it made (a cache or a state update)';
  const fixed = new Set(idsOf(weights));
  for (const c of trace.calls) {
    for (const a of c.args.flatMap((x) => (Array.isArray(x) ? x : [x]))) {
      if (isInfo(a) && !trace.made.has(a.id) && !inputs.has(a.id) && !fixed.has(a.id)) return 'it reads a tensor that is neither an input, a weight nor made by the call';
    }
  }
  return null;
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((v, i) => v === b[i]);

/** For each signature of `model` traced so far: 'plan' (replayed), 'traced' (once), or why it runs eagerly. */
export function jitStatus(model: Model): Record<string, string> {
  return Object.fromEntries([...(entries.get(model) ?? new Map<string, Entry>())].map(([k, e]) => [k, e.state === 'eager' ? `eager: ${e.reason}` : e.state]));
}

/** Frees the plans of `model` (Model.dispose, and a new compile). */
export function releasePlans(model: Model): void {
  for (const e of entries.get(model)?.values() ?? []) if (e.state === 'plan') e.plan.dispose();
  entries.delete(model);
}
