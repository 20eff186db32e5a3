/**
 * `model.export(path, { format: 'onnx' })`: builds the ModelProto, verifies it in
 * onnxruntime-node when asked, and writes it atomically, so that any failure leaves the previous
 * file as it was. Weights go to an external data file (`<file>.data`) past protobuf's 2 GB limit.
 */
import { mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fail } from '../src/errors.js';
import type { Model } from '../models/model.js';
import { writeFileAtomic } from '../saving/atomic.js';
import { toModelProto, type OnnxOptions } from './export.js';
import { DEFAULT_OPSET, onnx, type ModelProto } from './proto.js';
import { formatReport, verify, type VerifyOptions, type VerifyReport } from './verify.js';

export interface ExportOptions extends OnnxOptions {
  /** Only 'onnx' (the default). */
  format?: 'onnx';
  /** Run the file in onnxruntime-node against predict (true, or the check's options); a mismatch fails the export. */
  verify?: boolean | VerifyOptions;
  /** Weights in `<file>.data` beside the model: 'auto' (default) past 2 GB, or always (true) or never (false). */
  externalData?: boolean | 'auto';
}

export interface ExportResult {
  path: string;
  /** The external data file, if weights went to one. */
  dataPath: string | null;
  opset: number;
  bytes: number;
  verification: VerifyReport | null;
}

const OP = 'export';
/** A protobuf message cannot pass 2 GiB; the graph itself needs some room beside the weights. */
const INLINE_LIMIT = 2 ** 31 - 2 ** 26;
/** Tensors smaller than this stay inline, as ONNX's own external-data converter does. */
const EXTERNAL_THRESHOLD = 1024;
const ALIGN = 64;

async function checkFolder(path: string): Promise<void> {
  const dir = dirname(resolve(path));
  const info = await stat(dir).catch(() => null);
  if (!info) fail(OP, `cannot write ${path}: the folder ${dir} does not exist`);
  if (!info.isDirectory()) fail(OP, `cannot write ${path}: ${dir} is not a folder`);
}

/** Moves the large initializers' bytes into one data file's chunks, leaving references in the model. */
function splitExternal(proto: ModelProto, location: string): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const init of proto.graph!.initializer ?? []) {
    const raw = init.rawData;
    if (!raw || raw.length < EXTERNAL_THRESHOLD) continue;
    const pad = (ALIGN - (offset % ALIGN)) % ALIGN;
    if (pad) chunks.push(new Uint8Array(pad));
    offset += pad;
    chunks.push(raw);
    init.rawData = new Uint8Array(0);
    init.dataLocation = onnx.TensorProto.DataLocation.EXTERNAL;
    init.externalData = [
      { key: 'location', value: location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(raw.length) },
    ];
    offset += raw.length;
  }
  return chunks;
}

const rawBytesOf = (proto: ModelProto): number => (proto.graph!.initializer ?? []).reduce((n, t) => n + (t.rawData?.length ?? 0), 0);

function verifyOptions(option: ExportOptions['verify']): VerifyOptions | null {
  if (option === undefined || option === false) return null;
  return option === true ? {} : option;
}

async function checked(model: Model, file: string | Uint8Array, options: VerifyOptions): Promise<VerifyReport> {
  const report = await verify(model, file, options);
  if (!report.ok) fail(OP, `the exported model does not match kiln's predict, so nothing was written:\n${formatReport(report)}`);
  return report;
}

/**
 * Writes `model` as an ONNX file (see docs/onnx.md for the layers, ops and opsets).
 * @example
 * await model.export('model.onnx', { format: 'onnx', verify: true });
 */
export async function exportModel(model: Model, path: string, options: ExportOptions = {}): Promise<ExportResult> {
  const { format = 'onnx', externalData = 'auto' } = options;
  if (format !== 'onnx') fail(OP, `unknown format '${String(format)}'; kiln exports 'onnx'`);
  if (typeof path !== 'string' || path === '') fail(OP, `expected a file path, got ${JSON.stringify(path)}`);
  if (externalData !== true && externalData !== false && externalData !== 'auto') fail(OP, `externalData must be true, false or 'auto', got ${JSON.stringify(externalData)}`);
  await checkFolder(path);
  const proto = await toModelProto(model, options);
  const opset = options.opset ?? DEFAULT_OPSET;
  const check = verifyOptions(options.verify);
  const external = externalData === true || (externalData === 'auto' && rawBytesOf(proto) > INLINE_LIMIT);
  if (!external) {
    const bytes = onnx.ModelProto.encode(proto).finish();
    // the bytes checked are the bytes written
    const verification = check ? await checked(model, bytes, check) : null;
    await writeFileAtomic(path, bytes, OP);
    return { path, dataPath: null, opset, bytes: bytes.length, verification };
  }
  return writeExternal(model, path, proto, check, opset);
}

/**
 * Both files are written and checked in a temporary folder beside the target (the model refers
 * to its data by a relative name), then renamed into place: data first, so the new model never
 * points at old weights.
 */
async function writeExternal(model: Model, path: string, proto: ModelProto, check: VerifyOptions | null, opset: number): Promise<ExportResult> {
  const target = resolve(path);
  const dataName = `${basename(target)}.data`;
  const chunks = splitExternal(proto, dataName);
  const bytes = onnx.ModelProto.encode(proto).finish();
  const temp = await mkdtemp(join(dirname(target), `.${basename(target)}.export-`));
  try {
    await writeFileAtomic(join(temp, dataName), chunks, OP);
    await writeFileAtomic(join(temp, basename(target)), bytes, OP);
    const verification = check ? await checked(model, join(temp, basename(target)), check) : null;
    await rename(join(temp, dataName), join(dirname(target), dataName));
    await rename(join(temp, basename(target)), target);
    const size = bytes.length + chunks.reduce((n, c) => n + c.length, 0);
    return { path, dataPath: join(dirname(path), dataName), opset, bytes: size, verification };
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}
