/**
 * A kiln model as an ONNX ModelProto: the model's graph is walked node by node (nested models
 * recursively), each layer written through the mapping table (layers/) or traced into
 * primitives (trace.ts); then the outputs are named, the graph cleaned up and the weights read.
 */
import { ENGINE } from '../src/engine.js';
import { fail } from '../src/errors.js';
import { version } from '../src/version.js';
import type { Dim } from '../src/shape.js';
import type { SymbolicTensor } from '../src/symbolic.js';
import type { Tensor } from '../src/tensor.js';
import type { Variable } from '../src/variable.js';
import type { CallOptions, Layer, LayerNode } from '../layers/layer.js';
import { getLayerClass } from '../layers/registry.js';
import { joinTensorOptions, type OptionInputs } from '../layers/call-options.js';
import { Graph } from '../models/graph.js';
import { Model } from '../models/model.js';
import { GraphBuilder, type Value } from './builder.js';
import { LAYERS, type LayerArgs } from './layers/index.js';
import { namesRead, optimizeGraph } from './optimize.js';
import { DEFAULT_OPSET, MAX_OPSET, MIN_OPSET, irVersionFor, onnx, valueInfo, type ModelProto, type OnnxDim } from './proto.js';
import { traceInto, type TraceHost } from './trace.js';
import { emitMasks, traceWithMasks } from './masks.js';

export interface OnnxOptions {
  /** The ONNX opset to target, 13 to 26 (default 17). */
  opset?: number;
  /**
   * Names for dynamic axes, by input (or output) name and axis: `{ x: { 0: 'n', 1: 'steps' } }`.
   * The batch axis is always dynamic ('batch' by default), and so is every null of an Input's
   * shape (`<input>_dim<axis>` by default).
   */
  dynamicAxes?: Record<string, Record<number, string>>;
}

const OP = 'onnx export';

/** Shapes with the batch axis open: the exported graph serves any batch size. */
const batchFree = (shape: readonly Dim[]): Dim[] => (shape.length ? [null, ...shape.slice(1)] : []);

/** The layer's row, if its class is the one registered under its class name (a subclass that overrides call is traced). */
function rowOf(layer: Layer) {
  const row = LAYERS[layer.className];
  return row && (getLayerClass(layer.className) as unknown) === layer.constructor ? row : null;
}

/** Values written for a layer application or a graph: the outputs, and their masks (masks.ts). */
interface Emitted {
  outputs: Value[];
  masks: (Value | null)[];
}

/**
 * Writes one layer application. `masks` are its inputs' masks, which a call that reads them
 * (`readsMask`, as the graph recorded it) is traced with, and from which its outputs' masks are
 * written; null for a sublayer met inside a trace, whose caller carries no masks.
 */
function emitLayer(host: TraceHost, layer: Layer, inputs: Value[], outputs: readonly SymbolicTensor[], callArgs: CallOptions, masks: readonly (Value | null)[] | null, readsMask = false, layout: OptionInputs = []): Emitted {
  if (callArgs.mask || callArgs.masks) fail(OP, `layer '${layer.name}' (${layer.className}) is applied with a mask of its own, which the exporter does not carry`);
  return host.b.within(layer.name, () => {
    if (layer instanceof Model && layer.isFunctional) return emitGraph(host, layer, inputs, masks ?? []);
    const specs = outputs.map((o) => ({ shape: batchFree(o.shape), dtype: o.dtype }));
    // the layer's own inputs, then its tensor options (call-options.ts), which carry no masks
    const own = joinTensorOptions(layout, inputs, {}).inputs;
    const ownMasks = masks?.slice(0, own.length) ?? null;
    // inference: noise and dropout layers (and custom layers asking `training`) take their inference path
    const call = (xs: SymbolicTensor[]) => {
      const joined = joinTensorOptions(layout, xs, { ...callArgs, training: false });
      return layer.call((layer.multiInput ? joined.inputs : joined.inputs[0]) as never, joined.options);
    };
    const args: LayerArgs = {
      b: host.b, layer, inputs, outputs: specs, callArgs, layout,
      trace: (fn = call, on = inputs) => traceInto(host, layer, fn, on),
    };
    const row = rowOf(layer);
    const masked = readsMask && ownMasks !== null && ownMasks.some((m) => m !== null);
    const ownRow = masked && row?.masks?.(layer) ? row : null;
    const names = ownRow ? ownRow.emit({ ...args, masks: ownMasks ?? undefined }) : masked ? traceWithMasks(host, layer, inputs, ownMasks, callArgs, layout) : row ? row.emit(args) : args.trace();
    if (names.length !== specs.length) fail(OP, `layer '${layer.name}' (${layer.className}) gave ${names.length} outputs, kiln expects ${specs.length}`);
    const values = names.map((name, i) => ({ name, ...specs[i] }));
    return { outputs: values, masks: ownMasks === null ? values.map(() => null) : emitMasks(host, layer, own, ownMasks, values.length) };
  });
}

/**
 * Writes a Functional (or Sequential) model's graph on `inputs` and their masks; returns its
 * outputs and their masks (masks.ts).
 */
function emitGraph(host: TraceHost, model: Model, inputs: Value[], inputMasks: readonly (Value | null)[]): Emitted {
  // a fresh sort of the model's graph: Model keeps its own private
  const graph = new Graph(model.inputs, model.outputs, model.name);
  const values = new Map<SymbolicTensor, Value>(model.inputs.map((t, i) => [t, inputs[i]]));
  const masks = new Map<SymbolicTensor, Value | null>(model.inputs.map((t, i) => [t, inputMasks[i] ?? null]));
  for (const node of graph.nodes) {
    const ins = node.inputs.map((t) => values.get(t)!);
    const out = emitLayer(host, node.layer, ins, node.outputs, node.callArgs, node.inputs.map((t) => masks.get(t)!), node.readsMask, node.optionInputs);
    node.outputs.forEach((t, i) => {
      values.set(t, out.outputs[i]);
      masks.set(t, out.masks[i]);
    });
  }
  return { outputs: model.outputs.map((t) => values.get(t)!), masks: model.outputs.map((t) => masks.get(t)!) };
}

function checkModel(model: Model, opset: number): void {
  if (!(model instanceof Model)) fail(OP, `expected a kiln Model, got ${model === null ? 'null' : typeof model}`);
  if (!Number.isInteger(opset) || opset < MIN_OPSET || opset > MAX_OPSET) {
    fail(OP, `opset must be an integer from ${MIN_OPSET} to ${MAX_OPSET} (the newest onnxruntime-node loads), got ${String(opset)}`);
  }
  if (!model.built || (model.className === 'Sequential' && !model.isFunctional)) {
    fail(OP, `model '${model.name}' is not built: give it an Input (kiln.Input({ shape })) or call it on data first`);
  }
  if (!model.isFunctional) {
    fail(OP, `model '${model.name}' is subclassed, so its inputs are unknown: wrap it in a Functional model (const x = kiln.Input({ shape }); new kiln.Model({ inputs: x, outputs: model.apply(x) })) and export that`);
  }
}

/** Each name made unique by a suffix (two outputs of one nested model share its name). */
function uniqueNames(names: readonly string[]): string[] {
  const seen = new Set<string>();
  return names.map((n) => {
    let name = n;
    for (let k = 1; seen.has(name); k++) name = `${n}_${k}`;
    seen.add(name);
    return name;
  });
}

/** The ONNX dims of a boundary value: named dynamic axes for the batch and every null. */
function boundaryDims(name: string, shape: readonly Dim[], axes: Record<number, string> | undefined, batch: string, isInput: boolean): OnnxDim[] {
  for (const key of Object.keys(axes ?? {})) {
    const a = Number(key);
    if (!Number.isInteger(a) || a < 0 || a >= shape.length) fail(OP, `dynamicAxes['${name}'] names axis ${key}, but '${name}' has rank ${shape.length}`);
    if (a > 0 && shape[a] !== null) fail(OP, `dynamicAxes['${name}'] names axis ${a}, which has the fixed size ${shape[a]} in the model`);
  }
  return shape.map((d, i) => axes?.[i] ?? (i === 0 ? batch : d !== null ? d : isInput ? `${name}_dim${i}` : null));
}

/**
 * The model as an ONNX ModelProto (onnx-proto's message), weights inline.
 * @example
 * const proto = await kiln.onnx.toModelProto(model, { opset: 18 });
 * proto.graph.node.map((n) => n.opType);   // ['Gemm', 'Relu', 'Gemm', 'Softmax']
 */
export async function toModelProto(model: Model, options: OnnxOptions = {}): Promise<ModelProto> {
  const opset = options.opset ?? DEFAULT_OPSET;
  checkModel(model, opset);
  const axes = options.dynamicAxes ?? {};
  const inputNames = model.inputNames;
  const outputNames = uniqueNames(model.outputNames);
  for (const key of Object.keys(axes)) {
    if (!inputNames.includes(key) && !outputNames.includes(key)) fail(OP, `dynamicAxes names '${key}', which is no input or output of the model (inputs: ${inputNames.join(', ')}; outputs: ${outputNames.join(', ')})`);
  }
  const batch = axes[inputNames[0]]?.[0] ?? 'batch';
  const b = new GraphBuilder(opset);
  inputNames.forEach((n) => b.reserve(n));
  outputNames.forEach((n) => b.reserve(n));
  const inputs: Value[] = model.inputs.map((t, i) => ({ name: inputNames[i], dtype: t.dtype, shape: batchFree(t.shape) }));

  const variables = new Map<Tensor, Variable>(model.weights.map((v) => [v.value, v]));
  const host: TraceHost = {
    b,
    variableOf: (t) => variables.get(t),
    emitNode: (node: LayerNode, values: Value[]) => emitLayer(host, node.layer, values, node.outputs, node.callArgs, null, false, node.optionInputs).outputs,
    temporaries: [],
  };
  // tidy frees the constants traces make and then drop; the ones in the graph are returned
  const result = ENGINE.tidy(() => {
    try {
      return { outputs: emitGraph(host, model, inputs, []).outputs, temporaries: host.temporaries, error: null };
    } catch (error) {
      return { outputs: [], temporaries: [], error };
    }
  });
  try {
    if (result.error) throw result.error;
    nameOutputs(b, result.outputs, outputNames);
    const nodes = optimizeGraph(b.nodes, outputNames);
    const initializer = await b.materialize(namesRead(nodes));
    const graph = {
      name: model.name,
      node: nodes,
      initializer,
      input: inputs.map((v, i) => valueInfo(v.name, v.dtype, boundaryDims(v.name, model.inputs[i].shape, axes[v.name], batch, true))),
      output: result.outputs.map((v, i) => valueInfo(outputNames[i], v.dtype, boundaryDims(outputNames[i], model.outputs[i].shape, axes[outputNames[i]], batch, false))),
    };
    return onnx.ModelProto.create({
      irVersion: irVersionFor(opset),
      opsetImport: [{ domain: '', version: opset }],
      producerName: 'kiln',
      producerVersion: version,
      modelVersion: 1,
      docString: model.summary({ printFn: () => {} }),
      graph,
      metadataProps: [{ key: 'kiln_class', value: model.className }],
    });
  } finally {
    for (const t of result.temporaries) t.dispose();
  }
}

/**
 * Gives the outputs their names (the output layers'): the node that makes a value is renamed,
 * unless the value is a graph input, a weight, or an output already, which get an Identity.
 */
function nameOutputs(b: GraphBuilder, outputs: readonly Value[], names: readonly string[]): void {
  const made = new Set(b.nodes.flatMap((n) => n.output ?? []));
  const renamed = new Map<string, string>();
  outputs.forEach((v, i) => {
    const want = names[i];
    if (!made.has(v.name) || renamed.has(v.name)) {
      b.nodeWithOutput('Identity', [renamed.get(v.name) ?? v.name], want);
      return;
    }
    renamed.set(v.name, want);
    for (const n of b.nodes) {
      n.output = (n.output ?? []).map((o) => (o === v.name ? want : o));
      n.input = (n.input ?? []).map((x) => (x === v.name ? want : x));
    }
  });
}
