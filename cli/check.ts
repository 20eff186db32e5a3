/**
 * Checks for values read from JSON: each failure names the field, what it should be and what it
 * was (`fit.epochs: expected a positive integer, got "2"`). The field path is the error's op, so
 * a caller can prefix the file name.
 */
import { fail } from '../src/errors.js';

export type Json = Record<string, unknown>;

/** A short rendering of a JSON value for messages. */
export function shown(v: unknown): string {
  if (v === undefined) return 'nothing';
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

export function expected(field: string, what: string, got: unknown): never {
  return fail(field, `expected ${what}, got ${shown(got)}`);
}

export function isObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** An object whose keys are all in `allowed` and that has every key in `required`. */
export function object(v: unknown, field: string, allowed: readonly string[], required: readonly string[] = []): Json {
  if (!isObject(v)) expected(field, `an object with ${allowed.join(', ')}`, v);
  const unknown = Object.keys(v).filter((k) => !allowed.includes(k));
  if (unknown.length) fail(field, `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')}; allowed: ${allowed.join(', ')}`);
  const missing = required.filter((k) => v[k] === undefined);
  if (missing.length) fail(field, `missing ${missing.map((k) => `'${k}'`).join(', ')}`);
  return v;
}

export function string(v: unknown, field: string): string {
  return typeof v === 'string' && v !== '' ? v : expected(field, 'a non-empty string', v);
}

export function boolean(v: unknown, field: string): boolean {
  return typeof v === 'boolean' ? v : expected(field, 'true or false', v);
}

/** An integer in [min, max]; the default max keeps it exact (1e20 passes Number.isInteger). */
export function integer(v: unknown, field: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v === 'number' && Number.isInteger(v) && v >= min) {
    return v <= max ? v : expected(field, `an integer <= ${max.toLocaleString('en-US')}`, v);
  }
  return expected(field, min === 1 ? 'a positive integer' : `an integer >= ${min}`, v);
}

export function number(v: unknown, field: string): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : expected(field, 'a number', v);
}

export function strings(v: unknown, field: string): string[] {
  if (!Array.isArray(v) || v.length === 0) expected(field, 'a non-empty list of strings', v);
  return v.map((s, i) => string(s, `${field}[${i}]`));
}

/** `v` as `one` (for one model input/output), a list of them, or an object of them keyed by name. */
export function oneOrMany<T>(v: unknown, field: string, one: (v: unknown, field: string) => T, isOne: (v: unknown) => boolean): T | T[] | Record<string, T> {
  if (isOne(v)) return one(v, field);
  if (Array.isArray(v)) return v.map((e, i) => one(e, `${field}[${i}]`));
  if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, one(e, `${field}.${k}`)]));
  return one(v, field);
}
