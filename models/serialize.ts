/**
 * Models as Keras-style JSON configs and back: Sequential as its list of layers, Functional as
 * its layers with the graph nodes that connect them (shared layers, several inputs and outputs,
 * nested models). Weights are not part of a config (see saving/).
 */
import { fail } from '../src/errors.js';
import type { SymbolicTensor } from '../src/symbolic.js';
import { Layer, producer, type CallOptions, type LayerConfig, type LayerNode } from '../layers/layer.js';
import { InputLayer } from '../layers/core/input.js';
import { checkOptionInputs, joinTensorOptions, type OptionInputs } from '../layers/call-options.js';
import { getLayerClass, layerFromConfig, type LayerClass } from '../layers/registry.js';
// a cycle inside models/, inherent: Model.getConfig/fromConfig call this file, which builds Models
import { Model } from './model.js';
// type only: sequential.ts extends Model, so a value import here would make model.ts → this file →
// sequential.ts evaluate `extends Model` before Model exists; the class comes from the registry
import type { Sequential } from './sequential.js';

/** A tensor of a Functional graph: [layer name, node index within the model, output index]. */
export type TensorRef = [layerName: string, nodeIndex: number, tensorIndex: number];
/** One input of a node; the node's call arguments (e.g. a forced `training`) ride on its first input. */
export type InboundRef = TensorRef | [layerName: string, nodeIndex: number, tensorIndex: number, callArgs: SavedCallArgs];

/** A node's saved call arguments: its plain options (a forced `training`), and where its tensor options sit among its inputs. */
export interface SavedCallArgs {
  training?: boolean;
  tensorOptions?: OptionInputs;
  [option: string]: boolean | number | string | OptionInputs | undefined;
}

export interface FunctionalLayerEntry {
  className: string;
  name: string;
  config: LayerConfig;
  /** Each application of the layer in this model: the tensors it was called on. */
  inboundNodes: InboundRef[][];
}

export interface FunctionalConfig {
  name: string;
  trainable: boolean;
  layers: FunctionalLayerEntry[];
  inputLayers: TensorRef[];
  /** One ref for a single output, a list for a list of outputs, an object for named outputs (as Keras 3). */
  outputLayers: TensorRef | TensorRef[] | Record<string, TensorRef>;
}

export interface SequentialConfig {
  name: string;
  trainable: boolean;
  layers: { className: string; config: LayerConfig }[];
}

export type SerializedModel =
  | { className: 'Sequential'; config: SequentialConfig }
  | { className: 'Functional'; config: FunctionalConfig };

/** Classes a config may name besides the registry's: custom layers (and models), by class name. */
export type CustomObjects = Record<string, unknown>;

const OP_SAVE = 'modelToConfig';
const OP_LOAD = 'modelFromConfig';

/**
 * A model's architecture as JSON: `{className: 'Sequential', config: {name, layers}}` or
 * `{className: 'Functional', config: {name, layers, inputLayers, outputLayers}}`.
 * @example
 * const json = JSON.stringify(modelToConfig(model));
 * const copy = modelFromConfig(JSON.parse(json));   // same architecture, fresh weights
 */
export function modelToConfig(model: Model): SerializedModel {
  const base = { name: model.name, trainable: model.trainable };
  if (model.className === 'Sequential') {
    // Sequential.layers leaves out the InputLayer; it is the producer of the graph's input, once built
    const input = model.inputs.length ? producer.get(model.inputs[0])?.layer : undefined;
    const layers = [...(input ? [input] : []), ...model.layers].map((l) => ({ className: l.className, config: l.getConfig() }));
    return { className: 'Sequential', config: { ...base, layers } };
  }
  if (!model.isFunctional) {
    fail(OP_SAVE, `model '${model.name}' (${model.constructor.name}) is subclassed: its call() is code, which a config cannot hold. Save its weights with saveWeights and rebuild the model in code, or build it as a Functional or Sequential model`);
  }
  return { className: 'Functional', config: { ...base, ...functionalConfig(model) } };
}

function functionalConfig(model: Model): Omit<FunctionalConfig, 'name' | 'trainable'> {
  const inModel = modelNodes(model);
  // node indices count only this model's nodes: a shared layer may also sit in other models
  const indexOf = (node: LayerNode): number => node.layer.inboundNodes.filter((n) => inModel.has(n)).indexOf(node);
  const ref = (t: SymbolicTensor): TensorRef => {
    const node = producer.get(t)!;
    return [node.layer.name, indexOf(node), node.outputs.indexOf(t)];
  };
  const names = new Set<string>();
  const layers = model.layers.map((layer): FunctionalLayerEntry => {
    if (names.has(layer.name)) fail(OP_SAVE, `model '${model.name}' has two layers named '${layer.name}'; layer names must be unique to save a model`);
    names.add(layer.name);
    const nodes = layer instanceof InputLayer ? [] : layer.inboundNodes.filter((n) => inModel.has(n));
    return { className: layer.className, name: layer.name, config: layer.getConfig(), inboundNodes: nodes.map((n) => inboundRefs(n, ref)) };
  });
  const outputs = model.outputs.map(ref);
  const listed = model.outputNames.length === outputs.length && model.outputNames.some((n, i) => n !== outputs[i][0]);
  return {
    layers,
    inputLayers: model.inputs.map(ref),
    outputLayers: listed ? Object.fromEntries(model.outputNames.map((n, i) => [n, outputs[i]])) : model.multiOutput ? outputs : outputs[0],
  };
}

/** The nodes of `model`'s graph, its inputs' included: a shared layer's other nodes belong to other models. */
function modelNodes(model: Model): Set<LayerNode> {
  const inputs = new Set(model.inputs);
  const nodes = new Set<LayerNode>(model.inputs.map((t) => producer.get(t)!));
  const visit = (t: SymbolicTensor): void => {
    const node = producer.get(t)!;
    if (inputs.has(t) || nodes.has(node)) return;
    nodes.add(node);
    node.inputs.forEach(visit);
  };
  model.outputs.forEach(visit);
  return nodes;
}

function inboundRefs(node: LayerNode, ref: (t: SymbolicTensor) => TensorRef): InboundRef[] {
  // plain options (a forced training, useCausalMask) are saved as Keras saves a call's kwargs
  const plain = Object.entries(node.callArgs).filter(([, v]) => v !== undefined && v !== null);
  const other = plain.filter(([, v]) => !['boolean', 'number', 'string'].includes(typeof v)).map(([k]) => k);
  if (other.length) fail(OP_SAVE, `layer '${node.layer.name}' was applied with ${other.join(', ')}, which a saved config cannot hold`);
  const refs: InboundRef[] = node.inputs.map(ref);
  const saved: SavedCallArgs = { ...Object.fromEntries(plain), ...(node.optionInputs.length ? { tensorOptions: node.optionInputs } : {}) };
  if (Object.keys(saved).length && refs.length) refs[0] = [...(refs[0] as TensorRef), saved];
  return refs;
}

/**
 * Rebuilds a model from modelToConfig's output (or a parsed `config.json`): layers come from the
 * registry (`registerLayer`) or `customObjects`, nested model configs are rebuilt recursively,
 * and a Functional graph is replayed by applying each layer to symbolic tensors, node by node.
 */
export function modelFromConfig(serialized: { className: string; config: unknown }, customObjects: CustomObjects = {}): Model {
  return modelAt(serialized, customObjects, 0);
}

/** Models nested in models, at most: far beyond real architectures, far below the stack's depth. */
export const MAX_MODEL_NESTING = 100;

function modelAt(serialized: { className: string; config: unknown }, customObjects: CustomObjects, depth: number): Model {
  if (depth > MAX_MODEL_NESTING) fail(OP_LOAD, `models are nested more than ${MAX_MODEL_NESTING} deep`);
  if (serialized === null || typeof serialized !== 'object' || typeof serialized.className !== 'string') {
    fail(OP_LOAD, `expected {className, config}, got ${JSON.stringify(serialized)?.slice(0, 80)}`);
  }
  const { className, config } = serialized;
  if (config === null || typeof config !== 'object') fail(OP_LOAD, `${className}: expected a config object, got ${JSON.stringify(config)}`);
  let model: Model;
  if (className === 'Sequential') model = sequentialFromConfig(config as SequentialConfig, customObjects, depth);
  else if (className === 'Functional' || className === 'Model') model = functionalFromConfig(config as FunctionalConfig, customObjects, depth);
  else return fail(OP_LOAD, `'${className}' is not a model class kiln can rebuild (expected Sequential or Functional)`);
  // the layers' own configs hold their flags: setting the model's would overwrite them
  if (typeof (config as { trainable?: unknown }).trainable === 'boolean') model.setOwnTrainable((config as { trainable: boolean }).trainable);
  return model;
}

function isModelClassName(name: string): boolean {
  return name === 'Sequential' || name === 'Functional' || name === 'Model';
}

function layerFrom(entry: { className: string; config: LayerConfig }, customObjects: CustomObjects, depth: number): Layer {
  if (entry === null || typeof entry !== 'object' || typeof entry.className !== 'string') {
    fail(OP_LOAD, `expected a layer {className, config}, got ${JSON.stringify(entry)?.slice(0, 80)}`);
  }
  if (isModelClassName(entry.className)) return modelAt(entry, customObjects, depth + 1);
  // every layer's fromConfig reads its fields from the config: a missing one is a TypeError there
  if (entry.config === null || typeof entry.config !== 'object' || Array.isArray(entry.config)) {
    fail(OP_LOAD, `layer ${entry.className}: expected a config object, got ${JSON.stringify(entry.config)?.slice(0, 80) ?? 'nothing'}`);
  }
  const custom = Object.hasOwn(customObjects, entry.className) ? customObjects[entry.className] : undefined;
  if (custom !== undefined) {
    if (typeof (custom as Partial<LayerClass>).fromConfig !== 'function') fail(OP_LOAD, `customObjects['${entry.className}'] needs a static fromConfig(config)`);
    return (custom as LayerClass).fromConfig(entry.config);
  }
  return layerFromConfig(entry);
}

function sequentialFromConfig(config: SequentialConfig, customObjects: CustomObjects, depth: number): Sequential {
  if (!Array.isArray(config.layers)) fail(OP_LOAD, `Sequential '${config.name}': config.layers must be an array`);
  const cls = getLayerClass('Sequential') as unknown as (new (layers: Layer[], args: { name?: string }) => Sequential) | undefined;
  if (!cls) fail(OP_LOAD, 'the Sequential class is not registered with the layer registry (registerLayer(Sequential))');
  const model = new cls([], { name: config.name });
  for (const entry of config.layers) model.add(layerFrom(entry, customObjects, depth));
  return model;
}

function functionalFromConfig(config: FunctionalConfig, customObjects: CustomObjects, depth: number): Model {
  const where = `Functional '${config.name}'`;
  if (!Array.isArray(config.layers) || !Array.isArray(config.inputLayers) || config.outputLayers === undefined) {
    fail(OP_LOAD, `${where}: the config needs layers, inputLayers and outputLayers`);
  }
  const layers = new Map<string, { layer: Layer; nodes: InboundRef[][]; made: SymbolicTensor[][] }>();
  for (const entry of config.layers) {
    const name = entry?.name ?? entry?.config?.name;
    if (layers.has(name)) fail(OP_LOAD, `${where}: two layers are named '${name}'`);
    const layer = layerFrom(entry, customObjects, depth);
    if (!Array.isArray(entry.inboundNodes)) fail(OP_LOAD, `${where}: layer '${name}' has no inboundNodes list`);
    const made = layer instanceof InputLayer ? [[layer.output]] : [];
    layers.set(name, { layer, nodes: entry.inboundNodes, made });
  }
  const lookup = (r: unknown, what: string): SymbolicTensor | null => {
    if (!Array.isArray(r) || typeof r[0] !== 'string' || !Number.isInteger(r[1]) || !Number.isInteger(r[2])) {
      fail(OP_LOAD, `${where}: ${what} must be [layerName, nodeIndex, tensorIndex], got ${JSON.stringify(r)}`);
    }
    const [name, nodeIndex, tensorIndex] = r as TensorRef;
    const source = layers.get(name);
    if (!source) fail(OP_LOAD, `${where}: ${what} refers to an unknown layer '${name}'`);
    const total = source.layer instanceof InputLayer ? 1 : source.nodes.length;
    if (nodeIndex < 0 || nodeIndex >= total) fail(OP_LOAD, `${where}: ${what} refers to node ${nodeIndex} of layer '${name}', which has ${total}`);
    const outs = source.made[nodeIndex];
    if (!outs) return null;
    if (tensorIndex < 0 || tensorIndex >= outs.length) fail(OP_LOAD, `${where}: ${what} refers to output ${tensorIndex} of layer '${name}' node ${nodeIndex}, which has ${outs.length}`);
    return outs[tensorIndex];
  };
  // a shared layer's later node may wait on layers listed after it: sweep until every node is made
  for (let progress = true; progress;) {
    progress = false;
    for (const [name, entry] of layers) {
      while (entry.made.length < entry.nodes.length) {
        const refs = entry.nodes[entry.made.length];
        const what = `input of layer '${name}' node ${entry.made.length}`;
        if (!Array.isArray(refs)) fail(OP_LOAD, `${where}: node ${entry.made.length} of layer '${name}' must be a list of inputs`);
        const inputs = refs.map((r) => lookup(r, what));
        if (inputs.some((t) => t === null)) break;
        const { tensorOptions, ...callArgs } = (refs[0]?.[3] ?? {}) as SavedCallArgs;
        const declared = (entry.layer.constructor as typeof Layer).tensorCallOptions;
        const layout = tensorOptions === undefined ? [] : checkOptionInputs(`${OP_LOAD}: ${where}: layer '${name}' node ${entry.made.length}`, declared, tensorOptions, inputs.length);
        const call = joinTensorOptions(layout, inputs as SymbolicTensor[], callArgs as CallOptions);
        const out = entry.layer.apply((entry.layer.multiInput ? call.inputs : call.inputs[0]) as never, call.options) as unknown;
        entry.made.push((Array.isArray(out) ? out : [out]) as SymbolicTensor[]);
        progress = true;
      }
    }
  }
  for (const [name, entry] of layers) {
    if (entry.made.length < entry.nodes.length) fail(OP_LOAD, `${where}: node ${entry.made.length} of layer '${name}' waits on tensors no node makes (a cycle or a missing layer)`);
  }
  const need = (r: unknown, what: string): SymbolicTensor => lookup(r, what) ?? fail(OP_LOAD, `${where}: ${what} is never computed`);
  const inputs = config.inputLayers.map((r, i) => need(r, `input ${i}`));
  const o = config.outputLayers;
  if (o === null || typeof o !== 'object' || Object.keys(o).length === 0) {
    fail(OP_LOAD, `${where}: outputLayers must be a tensor reference, a list of them or an object of them, at least one, got ${JSON.stringify(o)?.slice(0, 80)}`);
  }
  const outputs = isRef(o)
    ? need(o, 'the output')
    : Array.isArray(o)
      ? o.map((r, i) => need(r, `output ${i}`))
      : Object.fromEntries(Object.entries(o).map(([k, r]) => [k, need(r, `output '${k}'`)]));
  return new Model({ name: config.name, inputs, outputs });
}

function isRef(x: unknown): x is TensorRef {
  return Array.isArray(x) && typeof x[0] === 'string';
}
