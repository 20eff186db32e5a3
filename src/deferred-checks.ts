/**
 * Checks of values that live on the device (an index tensor, a batch of labels), done the same
 * way on every backend: the check runs as kernels next to the op, and its result is read with
 * the next read of that backend (`await t.data()`, `dataSync()`, fit's logs), where the first
 * failure is thrown. Reading the values at the op instead would need a synchronous read, which a
 * backend whose memory the CPU cannot see does not have; skipping the check there would make a
 * bad index an error on one backend and a silent clamp on another. docs/indices.md says why.
 *
 * A check keeps two small tensors until it is read: int32 [2] (whether any value failed, the
 * first failing position) and [1] (that value, in the checked tensor's dtype). Checks with the
 * same key (the same op with the same bounds, every training step) fold into one pair that
 * keeps the first failure, so unread checks never pile up.
 */
import type { Backend } from '../backends/contract.js';
import { ENGINE } from './engine.js';
import { readHooks, type Tensor } from './tensor.js';
import { cast, where } from './ops/select.js';
import { argmax } from './ops/reduce.js';
import { concatenate, reshape, slice } from './ops/movement.js';
import { GATHER } from './ops/gather.js';

interface Pending {
  backend: Backend;
  status: Tensor;
  value: Tensor;
  /** Throws the error for the first failing value, at `position` of the flattened tensor. */
  report(position: number, value: number): never;
}

const pending = new Map<string, Pending>();
let moved = 0;

/**
 * Checks `values` on the device: `bad` (bool, the shape of `values`) marks the failing ones, and
 * `report` throws the error naming the first, at the next read of the backend. `key` names the
 * check site and everything `report` says besides the position and value (op, bounds, shape), so
 * that checks of one key fold.
 */
export function checkOnDevice(key: string, values: Tensor, bad: Tensor, report: Pending['report']): void {
  if (values.size === 0) return;
  const backend = values.dataHandle('check').backend;
  const [status, value] = ENGINE.withoutTapes(() => ENGINE.tidy(() => {
    const marks = reshape(cast(bad, 'int32'), [-1]);
    const position = reshape(argmax(marks), [1]);
    // [whether the first marked position is marked (so any is), that position]; the first
    // failing value, or the first value when none fails (position 0, never read)
    return [concatenate([ENGINE.run(GATHER, [marks, position], { axis: 0 }), position]), ENGINE.run(GATHER, [reshape(values, [-1]), position], { axis: 0 })];
  }));
  const check = { key, backend, status: ENGINE.keep(status), value: ENGINE.keep(value), report };
  if (collecting) collecting.push(check);
  else addCheck(check);
}

/** A check's result as checkOnDevice made it, before it joins the ones waiting for a read. */
export interface Check extends Pending {
  key: string;
}

let collecting: Check[] | null = null;

/**
 * Runs `fn`, handing back the checks it made instead of adding them (models/jit.ts: a replayed
 * call makes its checks' tensors as outputs, and adds them after each replay with `addCheck`).
 */
export function collectChecks<T>(fn: () => T): { result: T; checks: Check[] } {
  const outer = collecting;
  const checks: Check[] = [];
  collecting = checks;
  try {
    return { result: fn(), checks };
  } finally {
    collecting = outer;
  }
}

/** Adds a check to those read at the next read of its backend, folding it into an earlier one of its key. */
export function addCheck({ key, backend, status, value, report }: Check): void {
  const earlier = pending.get(key);
  const folds = earlier !== undefined && earlier.backend === backend && !earlier.status.isDisposed && earlier.value.dtype === value.dtype;
  if (folds) {
    // the earlier failure, if any, is the one to report
    const [s, v] = ENGINE.withoutTapes(() => ENGINE.tidy(() => {
      const keepEarlier = cast(slice(earlier.status, [0], [1]), 'bool');
      return [where(keepEarlier, earlier.status, status), where(keepEarlier, earlier.value, value)];
    }));
    dispose(earlier);
    status.dispose();
    value.dispose();
    pending.set(key, { backend, status: ENGINE.keep(s), value: ENGINE.keep(v), report });
    return;
  }
  // an earlier check on another backend (or of another dtype) stays, to be read on its own
  if (earlier) pending.set(`${key} #${++moved}`, earlier);
  pending.set(key, { backend, status, value, report });
}

function dispose(p: Pending): void {
  p.status.dispose();
  p.value.dispose();
}

/** Takes the checks waiting on `backend` off the list. */
function due(backend: Backend): Pending[] {
  const out: Pending[] = [];
  for (const [key, p] of pending) {
    if (p.backend !== backend) continue;
    pending.delete(key);
    // a failed tidy or build frees what it made, a check's tensors included: nothing to read
    if (p.status.isDisposed || p.value.isDisposed) continue;
    out.push(p);
  }
  return out;
}

/** The status tensors of `checks` in one, so that one read serves them all. */
function statuses(checks: readonly Pending[]): Tensor {
  return checks.length === 1 ? checks[0].status : ENGINE.withoutTapes(() => concatenate(checks.map((c) => c.status)));
}

async function settle(backend: Backend): Promise<void> {
  const checks = due(backend);
  if (checks.length === 0) return;
  const all = statuses(checks);
  try {
    const s = await backend.read(all.dataHandle().id);
    const failed = checks.findIndex((_, i) => s[2 * i] !== 0);
    if (failed >= 0) {
      const v = await backend.read(checks[failed].value.dataHandle().id);
      checks[failed].report(s[2 * failed + 1], v[0]);
    }
  } finally {
    if (checks.length > 1) all.dispose();
    for (const c of checks) dispose(c);
  }
}

function settleSync(backend: Backend): void {
  if (!backend.readSync) return;
  const checks = due(backend);
  if (checks.length === 0) return;
  const all = statuses(checks);
  try {
    const s = backend.readSync(all.dataHandle().id);
    const failed = checks.findIndex((_, i) => s[2 * i] !== 0);
    if (failed >= 0) checks[failed].report(s[2 * failed + 1], backend.readSync(checks[failed].value.dataHandle().id)[0]);
  } finally {
    if (checks.length > 1) all.dispose();
    for (const c of checks) dispose(c);
  }
}

readHooks.beforeRead = settle;
readHooks.beforeReadSync = settleSync;
