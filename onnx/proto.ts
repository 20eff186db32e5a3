/**
 * The ONNX message types (from onnx-proto's protobufjs code) and the small conversions kiln
 * needs: dtypes, tensors, attributes and value infos.
 */
import onnxProto from 'onnx-proto';
import type { onnx as O } from 'onnx-proto';
import type { DType, TypedArray } from '../backends/contract.js';

// onnx-proto is CommonJS without named exports Node can detect: its namespace hangs off the default
export const onnx = onnxProto.onnx;
export type ModelProto = O.ModelProto;
export type NodeProto = O.INodeProto;
export type TensorProto = O.ITensorProto;
export type AttributeProto = O.IAttributeProto;
export type ValueInfoProto = O.IValueInfoProto;

const T = onnx.TensorProto.DataType;
const A = onnx.AttributeProto.AttributeType;

/** The opsets kiln writes: 13 made axes inputs of ReduceSum/Squeeze/Unsqueeze/Split; 26 is the newest onnxruntime-node 1.30 loads. */
export const MIN_OPSET = 13;
export const MAX_OPSET = 26;
export const DEFAULT_OPSET = 17;

/** The oldest IR version that carries each opset (ONNX's versioning table). */
export function irVersionFor(opset: number): number {
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  if (opset <= 22) return 10;
  return 11;
}

/** ONNX element types; int64 only appears inside the graph (shapes, axes, ArgMax). */
export type OnnxType = DType | 'int64';

const ELEM: Record<OnnxType, number> = { float32: T.FLOAT, float64: T.DOUBLE, int32: T.INT32, bool: T.BOOL, int64: T.INT64 };

export const elemType = (dtype: OnnxType): number => ELEM[dtype];

/** The dtype ONNX-runtime tensors use for each kiln dtype. */
export const ORT_TYPE: Record<DType, 'float32' | 'float64' | 'int32' | 'bool'> = { float32: 'float32', float64: 'float64', int32: 'int32', bool: 'bool' };

export type TensorData = TypedArray | BigInt64Array;

/** A TensorProto with its values as little-endian raw bytes (what every runtime reads fastest). */
export function tensorProto(name: string, dtype: OnnxType, dims: readonly number[], data: TensorData): TensorProto {
  return { name, dataType: elemType(dtype), dims: [...dims], rawData: rawBytes(data) };
}

/** The bytes of `data`; typed arrays are little-endian on every platform Node ships for. */
export function rawBytes(data: TensorData): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** Values of `dtype` from JS numbers (float32 rounds, int32 truncates, bool is != 0). */
export function typedFrom(dtype: OnnxType, values: readonly number[]): TensorData {
  switch (dtype) {
    case 'float32': return Float32Array.from(values);
    case 'float64': return Float64Array.from(values);
    case 'int32': return Int32Array.from(values);
    case 'bool': return Uint8Array.from(values, (v) => (v ? 1 : 0));
    case 'int64': return BigInt64Array.from(values, (v) => BigInt(clampInt64(v)));
  }
}

/** Slice ends past either end of an axis are ±2^63 in ONNX; a JS number holds those exactly. */
export const INT64_MAX = 2 ** 63;
export const INT64_MIN = -(2 ** 63);

function clampInt64(v: number): bigint {
  if (v >= INT64_MAX) return 2n ** 63n - 1n;
  if (v <= INT64_MIN) return -(2n ** 63n);
  return BigInt(Math.trunc(v));
}

/** Attribute values, tagged because ONNX tells floats from ints (alpha = 1 is a float). */
export type Attr =
  | { f: number } | { i: number } | { s: string } | { floats: number[] } | { ints: number[] } | { strings: string[] } | { t: TensorProto };

export const float = (f: number): Attr => ({ f });
export const int = (i: number): Attr => ({ i });
export const ints = (v: readonly number[]): Attr => ({ ints: [...v] });
export const floats = (v: readonly number[]): Attr => ({ floats: [...v] });
export const str = (s: string): Attr => ({ s });
export const strs = (v: readonly string[]): Attr => ({ strings: [...v] });
export const tensorAttr = (t: TensorProto): Attr => ({ t });

export function attributeProto(name: string, value: Attr): AttributeProto {
  if ('f' in value) return { name, type: A.FLOAT, f: value.f };
  if ('i' in value) return { name, type: A.INT, i: value.i };
  if ('s' in value) return { name, type: A.STRING, s: new TextEncoder().encode(value.s) };
  if ('floats' in value) return { name, type: A.FLOATS, floats: value.floats };
  if ('ints' in value) return { name, type: A.INTS, ints: value.ints };
  if ('strings' in value) return { name, type: A.STRINGS, strings: value.strings.map((v) => new TextEncoder().encode(v)) };
  return { name, type: A.TENSOR, t: value.t };
}

/** A dimension: a size, a named dynamic axis, or unknown (null). */
export type OnnxDim = number | string | null;

export function valueInfo(name: string, dtype: OnnxType, shape: readonly OnnxDim[]): ValueInfoProto {
  const dim = shape.map((d) => (typeof d === 'number' ? { dimValue: d } : typeof d === 'string' ? { dimParam: d } : {}));
  return { name, type: { tensorType: { elemType: elemType(dtype), shape: { dim } } } };
}
