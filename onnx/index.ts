/**
 * kiln.onnx: models as ONNX files (docs/onnx.md). `model.export(path, { format: 'onnx' })` is the
 * usual entry; `toModelProto` gives the message itself, for tools.
 * @example
 * await model.export('model.onnx', { format: 'onnx', opset: 17, verify: true });
 * const proto = await kiln.onnx.toModelProto(model);
 */
export { toModelProto, type OnnxOptions } from './export.js';
export { exportModel, type ExportOptions, type ExportResult } from './write.js';
export { verify, formatReport, type VerifyOptions, type VerifyReport, type VerifyCase, type OutputCheck } from './verify.js';
export { LAYERS, type LayerRow } from './layers/index.js';
export { PRIMITIVES, type PrimitiveRow } from './primitives.js';
export { ACTIVATIONS, type ActivationRow } from './activations.js';
export { onnx as proto, MIN_OPSET, MAX_OPSET, DEFAULT_OPSET, type ModelProto } from './proto.js';
