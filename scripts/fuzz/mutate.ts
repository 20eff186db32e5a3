/**
 * The fuzzer's random stream and mutations. Every case draws from its own stream, seeded from
 * (seed, target, case index), so a case reproduces alone, whatever batch it ran in.
 */

export interface Rng {
  next(): number;
  int(n: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
}

/** mulberry32 over a seed mixed from the run's seed, the target's name and the case index. */
export function caseRng(seed: number, target: string, index: number): Rng {
  let h = (seed ^ 0x9e3779b9) >>> 0;
  for (const c of `${target}#${index}`) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  let a = h;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return { next, int, pick: (items) => items[int(items.length)], chance: (p) => next() < p };
}

/** Numbers a checker meets least often: bounds, huge, negative, fractional, not finite. */
const ODD_NUMBERS: readonly unknown[] = [
  0, -1, 1, 2, 0.5, -0.5, 2 ** 31, 2 ** 31 - 1, 2 ** 32, 2 ** 53, 2 ** 53 + 2, 1e9, 1e20, 1e308, -1e308, 5e-324,
  Number.MAX_SAFE_INTEGER, 'NaN', 'Infinity', '-Infinity', '1e3', null, true, [], {}, [1], '', '__proto__',
];

/** Values of the wrong kind, and shapes no code should expect. */
export const ODD_VALUES: readonly unknown[] = [
  ...ODD_NUMBERS, 'x', 'toString', 'constructor', [null], [[[[]]]], { '': 1 }, JSON.parse('{"__proto__": {"a": 1}}'), [-1, 2], [0, 0], [1e9, 1e9],
];

/** A value nested `depth` deep in arrays or objects: a recursive reader meets its stack's end. */
function deep(depth: number, inArrays: boolean): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = inArrays ? [v] : { a: v };
  return v;
}

const DEEP = '\u0000deep';

/** JSON text for a mutated value, with its placeholders for very deep nesting written out. */
export function stringify(v: unknown): string {
  return JSON.stringify(v).replace(/"\\u0000deep:(\d+):(true|false)"/g, (_, n, arrays) => {
    const [open, close] = arrays === 'true' ? ['[', ']'] : ['{"a":', '}'];
    return `${open.repeat(Number(n))}1${close.repeat(Number(n))}`;
  });
}

/** A mutated copy of `bytes`: flipped bits, overwritten or inserted bytes, cut ends, repeated slices. */
export function mutateBytes(rng: Rng, bytes: Uint8Array, within?: [number, number]): { bytes: Uint8Array; what: string } {
  const [lo, hi] = within ?? [0, bytes.length];
  const at = () => lo + rng.int(Math.max(1, hi - lo));
  const out = Buffer.from(bytes);
  switch (rng.int(6)) {
    case 0: {
      const n = 1 + rng.int(8);
      const spots: number[] = [];
      for (let k = 0; k < n; k++) {
        const p = at();
        out[p] ^= 1 << rng.int(8);
        spots.push(p);
      }
      return { bytes: out, what: `flip bits at ${spots.join(',')}` };
    }
    case 1: {
      const p = at();
      const v = rng.pick([0x00, 0xff, 0x7f, 0x80, 0x20, 0x22, 0x7b, 0x5b, 0x39]);
      out[p] = v;
      return { bytes: out, what: `byte ${p} = 0x${v.toString(16)}` };
    }
    case 2: {
      const p = at();
      return { bytes: out.subarray(0, p), what: `truncate to ${p}` };
    }
    case 3: {
      const p = at();
      const n = 1 + rng.int(16);
      return { bytes: Buffer.concat([out.subarray(0, p), Buffer.alloc(n, rng.int(256)), out.subarray(p)]), what: `insert ${n} bytes at ${p}` };
    }
    case 4: {
      const p = at();
      const n = 1 + rng.int(Math.min(64, bytes.length - p));
      return { bytes: Buffer.concat([out.subarray(0, p), out.subarray(p + n)]), what: `delete ${n} bytes at ${p}` };
    }
    default: {
      const p = at();
      const n = 1 + rng.int(32);
      const slice = out.subarray(p, p + n);
      return { bytes: Buffer.concat([out.subarray(0, p + n), slice, out.subarray(p + n)]), what: `repeat ${slice.length} bytes at ${p}` };
    }
  }
}

/** Every path to a leaf or branch of a JSON value, as keys from the root, to 16 levels (an earlier edit may have nested one deeply). */
export function jsonPaths(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const here = prefix.length ? [prefix] : [];
  if (prefix.length >= 16) return here;
  if (Array.isArray(v)) return [...here, ...v.flatMap((e, i) => jsonPaths(e, [...prefix, i]))];
  if (v && typeof v === 'object') return [...here, ...Object.entries(v).flatMap(([k, e]) => jsonPaths(e, [...prefix, k]))];
  return here;
}

/**
 * Edits one field of a JSON value in place (chosen among `paths`, or any): sets an odd value,
 * deletes it, nests it deeply, duplicates an array's element. Returns what it did.
 */
export function mutateJson(rng: Rng, root: unknown, paths?: (string | number)[][]): string {
  const path = rng.pick(paths?.length ? paths : jsonPaths(root));
  if (!path) return 'no field left to edit';
  const parent = path.slice(0, -1).reduce<any>((o, k) => o[k], root) as any;
  const key = path[path.length - 1];
  const name = path.join('.');
  const numeric = typeof parent[key] === 'number';
  switch (rng.int(numeric ? 7 : 5)) {
    case 0:
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
      return `delete ${name}`;
    case 1: {
      const depth = rng.pick([64, 1000, 20000]);
      const arrays = rng.chance(0.5);
      // JSON.stringify itself overflows the stack near 5,000 levels: deeper values go in as text (stringify)
      parent[key] = depth > 1000 ? `${DEEP}:${depth}:${arrays}` : deep(depth, arrays);
      return `${name} = nested ${depth} deep`;
    }
    case 2:
      if (Array.isArray(parent)) {
        parent.splice(key as number, 0, structuredClone(parent[key as number]));
        return `duplicate ${name}`;
      }
      parent[`${key}_`] = parent[key];
      return `add key ${name}_`;
    case 5:
    case 6: {
      const v = parent[key] as number;
      parent[key] = rng.pick([v + 1, v - 1, v * 2, -v, v * 1000, v + 0.5, 0]);
      return `${name} = ${parent[key]} (was ${v})`;
    }
    default: {
      const v = rng.pick(ODD_VALUES);
      parent[key] = typeof v === 'string' && ['NaN', 'Infinity', '-Infinity'].includes(v) && rng.chance(0.5) ? Number(v) : structuredClone(v);
      return `${name} = ${JSON.stringify(parent[key])}`;
    }
  }
}
