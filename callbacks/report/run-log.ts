import { fail } from '../../src/errors.js';

/**
 * A run's per-epoch numbers: `series[key][i]` belongs to `epochs[i]`; null where a value is
 * missing or not finite (NaN, ±Infinity: JSON has no such numbers, and a chart cannot draw them).
 */
export interface RunLog {
  epochs: number[];
  series: Record<string, (number | null)[]>;
}

/** What `fit` returns (a History), or its `history` object as Keras users save it with JSON. */
export interface HistoryLike {
  epoch?: readonly number[];
  history: Readonly<Record<string, readonly number[]>>;
}

/** The numbers of a History (or `{ epoch, history }`), checked: every series one value per epoch. */
export function fromHistory(h: HistoryLike, op: string, where = 'the history'): RunLog {
  if (h === null || typeof h !== 'object' || h.history === null || typeof h.history !== 'object' || Array.isArray(h.history)) {
    fail(op, `${where}: expected a History or { epoch?, history: { <name>: number[] } }, got ${describe(h)}`);
  }
  const keys = Object.keys(h.history);
  const length = keys.length ? h.history[keys[0]]?.length : (h.epoch?.length ?? 0);
  const series: RunLog['series'] = {};
  for (const key of keys) {
    const values = h.history[key];
    if (!Array.isArray(values)) fail(op, `${where}: history.${key} must be a list of numbers, got ${describe(values)}`);
    if (values.length !== length) fail(op, `${where}: history.${key} has ${values.length} values, history.${keys[0]} has ${length}: every log needs one value per epoch`);
    series[key] = values.map((v, i) => number(v, op, `${where}: history.${key}[${i}]`));
  }
  const epochs = h.epoch === undefined ? Array.from({ length: length ?? 0 }, (_, i) => i) : [...h.epoch];
  if (!Array.isArray(h.epoch ?? []) || epochs.length !== length || !epochs.every((e) => Number.isInteger(e))) {
    fail(op, `${where}: epoch must list ${length} epoch numbers (integers), got ${describe(h.epoch)}`);
  }
  return { epochs, series };
}

/** A logged value: a finite number, or null (missing, NaN or infinite). */
export function number(v: unknown, op: string, where: string): number | null {
  if (v === null) return null;
  if (typeof v !== 'number') fail(op, `${where}: expected a number, got ${describe(v)}`);
  return Number.isFinite(v) ? v : null;
}

export function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  const text = JSON.stringify(v);
  return text === undefined ? typeof v : text.length > 60 ? `${text.slice(0, 60)}…` : text;
}
