/**
 * The pieces of the `.kiln` format that saving and loading share: metadata, the tensor manifest
 * and its binary blob. docs/format.md is the specification; this file follows it.
 */
import { createHash } from 'node:crypto';
import { endianness } from 'node:os';
import { BYTES_PER_ELEMENT, sizeOf, typedArrayFor } from '../backends/contract.js';
import { DTYPES, type DType } from '../src/dtype.js';
import { ENGINE } from '../src/engine.js';
import { fail, fmtShape } from '../src/errors.js';
import { checkJsonDepth } from '../src/limits.js';
import type { Tensor } from '../src/tensor.js';
import type { Variable } from '../src/variable.js';

export const FORMAT = 'kiln';
/**
 * Bumped when a reader of the previous version could misread a new file; see docs/format.md.
 * 2: metadata.json holds every other entry's SHA-256, which the loader verifies.
 */
export const FORMAT_VERSION = 2;
/** Offsets in a blob are multiples of this, so any dtype's values can be viewed in place. */
const ALIGN = 8;
/** The format is little-endian; a big-endian host swaps bytes on the way in and out. */
const SWAP = endianness() === 'BE';

export type FileKind = 'model' | 'weights';

export interface Metadata {
  format: typeof FORMAT;
  formatVersion: number;
  kind: FileKind;
  kilnVersion: string;
  savedAt: string;
  modelName: string;
  modelClass: string;
  /** Every other entry's SHA-256, lowercase hex, by name (from version 2). */
  sha256?: Record<string, string>;
}

/** The most bytes Node's Hash.update takes in one call (2^31 − 1), rounded down to a GiB. */
const HASH_PIECE = 2 ** 30;

export function sha256(data: Uint8Array): string {
  const hash = createHash('sha256');
  for (let at = 0; at < data.length; at += HASH_PIECE) hash.update(data.subarray(at, at + HASH_PIECE));
  return hash.digest('hex');
}

/**
 * Checks each entry against the SHA-256 metadata.json gives it (version 2 on): the CRC-32
 * catches a damaged file, the hash also one edited and re-zipped. Every entry but metadata.json
 * must be listed, so a hash cannot be dodged by adding an entry or dropping its line.
 */
export function checkHashes(meta: Metadata, entries: Map<string, Uint8Array>, op: string, path: string): void {
  if (meta.formatVersion < 2) return;
  const hashes = meta.sha256;
  if (hashes === null || typeof hashes !== 'object' || Array.isArray(hashes)) fail(op, `${path}: metadata.json of format version ${meta.formatVersion} needs a sha256 object, got ${JSON.stringify(hashes)}`);
  for (const [name, data] of entries) {
    if (name === 'metadata.json') continue;
    const want = Object.hasOwn(hashes, name) ? hashes[name] : undefined;
    if (typeof want !== 'string') fail(op, `${path}: metadata.json gives no SHA-256 for entry '${name}'`);
    const got = sha256(data);
    if (got !== want) fail(op, `${path}: entry '${name}' fails its SHA-256 check (metadata.json says ${want.slice(0, 16)}…, computed ${got.slice(0, 16)}…): the file was altered`);
  }
  for (const name of Object.keys(hashes)) if (!entries.has(name)) fail(op, `${path}: metadata.json lists entry '${name}', which the file does not hold`);
}

/** One tensor of a blob (`weights.bin`, `optimizer.bin`). */
export interface ManifestEntry {
  name: string;
  dtype: DType;
  shape: number[];
  byteOffset: number;
  byteLength: number;
}

/** The tensors' manifest and their values, little-endian, each starting at a multiple of 8. */
export async function encodeTensors(vars: readonly Variable[]): Promise<{ manifest: ManifestEntry[]; blob: Uint8Array }> {
  const manifest: ManifestEntry[] = [];
  let end = 0;
  for (const v of vars) {
    const byteLength = v.size * BYTES_PER_ELEMENT[v.dtype];
    manifest.push({ name: v.name, dtype: v.dtype, shape: [...v.shape], byteOffset: end, byteLength });
    end = Math.ceil((end + byteLength) / ALIGN) * ALIGN;
  }
  const blob = Buffer.alloc(end);
  for (const [i, v] of vars.entries()) {
    const data = await v.value.data();
    const at = blob.subarray(manifest[i].byteOffset, manifest[i].byteOffset + manifest[i].byteLength);
    at.set(new Uint8Array(data.buffer, data.byteOffset, manifest[i].byteLength));
    if (SWAP) swapBytes(at, BYTES_PER_ELEMENT[v.dtype]);
  }
  return { manifest, blob };
}

/**
 * Checks a whole manifest against its blob before anything is built from it: known dtypes,
 * lengths that match the shapes, ranges inside the blob, aligned, and not overlapping (else a
 * bias could silently read a kernel's bytes); `where` names the file and entry in errors.
 */
export function checkManifest(manifest: unknown, blobLength: number, op: string, where: string): ManifestEntry[] {
  if (!Array.isArray(manifest)) fail(op, `${where}: the manifest must be a list of tensors, got ${JSON.stringify(manifest)?.slice(0, 60)}`);
  const entries = manifest.map((raw, i) => checkEntry(raw, i, blobLength, op, where));
  const byOffset = entries.filter((e) => e.byteLength > 0).sort((a, b) => a.byteOffset - b.byteOffset);
  for (let i = 1; i < byOffset.length; i++) {
    const [a, b] = [byOffset[i - 1], byOffset[i]];
    if (a.byteOffset + a.byteLength > b.byteOffset) {
      fail(op, `${where}: tensors '${a.name}' (bytes ${a.byteOffset}..${a.byteOffset + a.byteLength}) and '${b.name}' (from byte ${b.byteOffset}) overlap: the file is corrupt`);
    }
  }
  return entries;
}

/** Options for reading tensors back. */
export interface DecodeOptions {
  /** Accept NaN and ±Infinity in float tensors (refused by default: a diverged model saved by mistake). */
  allowNonFinite?: boolean;
}

/**
 * One tensor per checked manifest entry. All values are read and checked before any tensor is
 * made, so a refused file leaves kiln.memory() as it was.
 */
export function decodeTensors(entries: readonly ManifestEntry[], blob: Uint8Array, op: string, where: string, options: DecodeOptions = {}): { entry: ManifestEntry; tensor: Tensor }[] {
  const values = entries.map((entry) => {
    const out = typedArrayFor(entry.dtype, sizeOf(entry.shape));
    const bytes = new Uint8Array(out.buffer);
    bytes.set(blob.subarray(entry.byteOffset, entry.byteOffset + entry.byteLength));
    if (SWAP) swapBytes(bytes, BYTES_PER_ELEMENT[entry.dtype]);
    if (!options.allowNonFinite && (entry.dtype === 'float32' || entry.dtype === 'float64')) {
      const at = out.findIndex((v) => !Number.isFinite(v));
      if (at >= 0) fail(op, `${where}: tensor '${entry.name}' holds ${out[at]} at element ${at}; load with { allowNonFinite: true } to accept non-finite weights`);
    }
    return out;
  });
  return entries.map((entry, i) => ({ entry, tensor: ENGINE.upload(values[i], entry.shape, entry.dtype) }));
}

function checkEntry(raw: unknown, i: number, blobLength: number, op: string, where: string): ManifestEntry {
  const e = (raw ?? {}) as Partial<ManifestEntry>;
  const name = typeof e.name === 'string' ? e.name : fail(op, `${where}: entry ${i} has no name`);
  const bad = (why: string): never => fail(op, `${where}: tensor '${name}' ${why}`);
  if (!(DTYPES as readonly unknown[]).includes(e.dtype)) bad(`has unknown dtype ${JSON.stringify(e.dtype)} (known: ${DTYPES.join(', ')})`);
  const dtype = e.dtype as DType;
  if (!Array.isArray(e.shape) || e.shape.some((d) => !Number.isSafeInteger(d) || d < 0)) bad(`has an invalid shape ${JSON.stringify(e.shape)}`);
  const shape = e.shape as number[];
  const expected = sizeOf(shape) * BYTES_PER_ELEMENT[dtype];
  if (e.byteLength !== expected) bad(`has byteLength ${e.byteLength}, but ${dtype} ${fmtShape(shape)} takes ${expected} bytes`);
  if (!Number.isSafeInteger(e.byteOffset) || e.byteOffset! < 0 || e.byteOffset! + expected > blobLength) {
    bad(`lies outside the data (bytes ${e.byteOffset}..${Number(e.byteOffset) + expected} of ${blobLength}): the file is truncated or corrupt`);
  }
  if (e.byteOffset! % ALIGN !== 0) bad(`starts at byte ${e.byteOffset}, not a multiple of ${ALIGN} as the format requires: the file is corrupt`);
  return { name, dtype, shape, byteOffset: e.byteOffset!, byteLength: expected };
}

/**
 * Assigns decoded tensors to variables, matched by position; each must have the variable's
 * dtype and shape and, by `names`, its full name or only its last part ('kernel' of
 * 'dense_3/kernel': layer names are generated and differ between two builds of one model).
 */
export function assignChecked(vars: readonly Variable[], loaded: { entry: ManifestEntry; tensor: Tensor }[], names: 'full' | 'last', op: string, where: string): void {
  try {
    if (loaded.length !== vars.length) {
      fail(op, `${where} holds ${loaded.length} weights but the model has ${vars.length}${listNames(vars.map((v) => v.name), loaded.map((l) => l.entry.name))}`);
    }
    const last = (n: string) => (names === 'full' ? n : n.slice(n.lastIndexOf('/') + 1));
    vars.forEach((v, i) => {
      const { entry } = loaded[i];
      if (last(entry.name) !== last(v.name)) fail(op, `${where}: weight ${i} is '${entry.name}' in the file but '${v.name}' in the model`);
      if (entry.dtype !== v.dtype || fmtShape(entry.shape) !== fmtShape(v.shape)) {
        fail(op, `${where}: weight '${v.name}' is ${entry.dtype} ${fmtShape(entry.shape)} in the file but ${v.dtype} ${fmtShape(v.shape)} in the model`);
      }
    });
    vars.forEach((v, i) => v.assign(loaded[i].tensor));
  } finally {
    for (const { tensor } of loaded) tensor.dispose();
  }
}

function listNames(model: string[], file: string[]): string {
  return model.length + file.length <= 40 ? ` (file: ${file.join(', ') || 'none'}; model: ${model.join(', ') || 'none'})` : '';
}

/** The JSON document `name` of an archive, parsed. */
export function readJson(entries: Map<string, Uint8Array>, name: string, op: string, path: string): unknown {
  const bytes = entries.get(name);
  if (!bytes) fail(op, `${path} is not a complete kiln file: it has no ${name} (entries: ${[...entries.keys()].join(', ') || 'none'})`);
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch (err) {
    return fail(op, `${path}: ${name} is not valid JSON (${(err as Error).message})`);
  }
  checkJsonDepth(op, json, `${path}: ${name}`);
  return json;
}

/** Checks metadata.json: the format name, a version this reader knows, and the kind of file. */
export function checkMetadata(raw: unknown, kinds: readonly FileKind[], op: string, path: string): Metadata {
  const m = (raw ?? {}) as Partial<Metadata>;
  if (m.format !== FORMAT) fail(op, `${path} is not a kiln file (metadata.json names format ${JSON.stringify(m.format)}, expected "${FORMAT}")`);
  if (!Number.isInteger(m.formatVersion) || m.formatVersion! < 1) fail(op, `${path}: invalid formatVersion ${JSON.stringify(m.formatVersion)}`);
  if (m.formatVersion! > FORMAT_VERSION) {
    fail(op, `${path} has format version ${m.formatVersion} (written by kiln ${m.kilnVersion ?? '?'}), but this kiln reads versions up to ${FORMAT_VERSION}: upgrade kiln to load it`);
  }
  if (!kinds.includes(m.kind as FileKind)) {
    const hint = m.kind === 'weights' ? ': it holds only weights (saved by saveWeights); load them into a model with loadWeights' : '';
    fail(op, `${path} is a kiln ${String(m.kind)} file, expected a ${kinds.join(' or ')} file${hint}`);
  }
  return m as Metadata;
}

/** Reverses the byte order of each `size`-byte element in place. */
function swapBytes(bytes: Uint8Array, size: number): void {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (size === 4) buf.swap32();
  else if (size === 8) buf.swap64();
}
