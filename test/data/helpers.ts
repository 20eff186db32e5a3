import * as kiln from '../../index.js';

/** Reads one pass of a dataset as plain values (each tensor as nested arrays) and frees what it took. */
export async function collect(ds: AsyncIterable<unknown>, limit = Infinity): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const e of ds) {
    out.push(await plain(e));
    kiln.dispose(e);
    if (out.length >= limit) break;
  }
  return out;
}

async function plain(e: unknown): Promise<unknown> {
  if (e instanceof kiln.Tensor) return e.array();
  if (Array.isArray(e)) return Promise.all(e.map(plain));
  return Object.fromEntries(await Promise.all(Object.entries(e as object).map(async ([k, v]) => [k, await plain(v)])));
}

/** 0, 1, …, n-1 as a dataset of scalars. */
export function range(n: number): kiln.data.Dataset<kiln.Tensor> {
  return kiln.data.Dataset.fromTensorSlices(kiln.tensor(Array.from({ length: n }, (_, i) => i), [n], 'int32'));
}
