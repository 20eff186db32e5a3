/**
 * Exporting a layer that has no row in the mapping table: its `call` runs on symbolic tensors,
 * which records the primitives it applies (SymbolicTensor.node), and each primitive is written
 * with its row in primitives.ts. Sublayers that the call applies show up as layer nodes and go
 * back through the layer table.
 */
import { ENGINE } from '../src/engine.js';
import { fail } from '../src/errors.js';
import { SymbolicTensor } from '../src/symbolic.js';
import { Tensor, newTensorId } from '../src/tensor.js';
import type { Variable } from '../src/variable.js';
import { producer, type Layer, type LayerNode } from '../layers/layer.js';
import type { GraphBuilder, Value } from './builder.js';
import { PRIMITIVES } from './primitives.js';

/** What a trace needs from the export that runs it. */
export interface TraceHost {
  b: GraphBuilder;
  /** The variable whose current value `t` is, so that weights keep their names. */
  variableOf(t: Tensor): Variable | undefined;
  /** Writes a layer application met inside a trace (a sublayer's apply). */
  emitNode(node: LayerNode, inputs: Value[]): Value[];
  /** Constants the traces made, kept until their values are read, then freed. */
  temporaries: Tensor[];
}

const describe = (x: unknown): string =>
  x instanceof Tensor ? `a concrete tensor of shape [${x.shape.join(',')}]` : x === null ? 'null' : typeof x === 'object' ? (x as object).constructor?.name ?? 'object' : typeof x;

/**
 * Traces `fn` on symbolic stand-ins for `on` and writes what it recorded; returns the names of
 * its outputs. `layer` names the layer in errors.
 */
export function traceInto(host: TraceHost, layer: Layer, fn: (xs: SymbolicTensor[]) => unknown, on: readonly Value[]): string[] {
  const where = `layer '${layer.name}' (${layer.className})`;
  const { b } = host;
  // tensors made from here on are the trace's own constants; older ones (weights, a layer's
  // constants) belong to someone else
  const marker = newTensorId();
  const stand = on.map((v) => new SymbolicTensor(v.shape, v.dtype, null, v.name));
  let raw: unknown;
  try {
    raw = ENGINE.withoutTapes(() => fn(stand));
  } catch (err) {
    fail('onnx export', `${where} has no ONNX mapping of its own, and its call() cannot run on symbolic tensors to be traced into kiln ops: ${err instanceof Error ? err.message : String(err)}`);
  }
  const outs = Array.isArray(raw) ? raw : [raw];
  outs.forEach((o, i) => {
    if (!(o instanceof SymbolicTensor)) fail('onnx export', `${where}: output ${i} is not computed from the layer's inputs with kiln ops (got ${describe(o)}), so it cannot be traced`);
  });
  const memo = new Map<SymbolicTensor, Value>(stand.map((s, i) => [s, on[i]]));

  const constant = (t: Tensor): Value => {
    const variable = host.variableOf(t);
    if (!variable && t.id > marker) host.temporaries.push(t);
    return { name: variable ? b.weight(variable) : b.tensor(t), dtype: t.dtype, shape: t.shape };
  };
  const valueOf = (x: unknown): Value => (x instanceof Tensor ? constant(x) : memo.get(x as SymbolicTensor)!);
  const sources = (t: SymbolicTensor): unknown[] => {
    if (t.node) return [...t.node.inputs];
    const node = producer.get(t);
    if (!node) {
      fail('onnx export', `${where}: a tensor its call() uses (${t}) is not computed from the layer's inputs, so it cannot be traced`);
    }
    return node.inputs;
  };

  // depth-first, without recursion: a long chain of ops would overflow the stack
  const stack: [SymbolicTensor, boolean][] = (outs as SymbolicTensor[]).map((o) => [o, false]);
  while (stack.length > 0) {
    const [t, ready] = stack.pop()!;
    if (memo.has(t)) continue;
    if (!ready) {
      stack.push([t, true]);
      for (const x of sources(t)) if (x instanceof SymbolicTensor && !memo.has(x)) stack.push([x, false]);
      continue;
    }
    if (t.node) {
      const name = t.node.prim.name;
      const row = PRIMITIVES[name];
      if (!row) fail('onnx export', `${where}: the op '${name}' has no ONNX mapping (and the layer class has no row of its own in the mapping table)`);
      if (row.minOpset) b.require(row.minOpset, `${where}: the op '${name}' (${row.ops})`);
      const output = row.emit({ b, inputs: t.node.inputs.map(valueOf), out: t, attrs: t.node.attrs });
      memo.set(t, { name: output, dtype: t.dtype, shape: t.shape });
    } else {
      const node = producer.get(t)!;
      const values = host.emitNode(node, node.inputs.map(valueOf));
      node.outputs.forEach((o, i) => memo.set(o, values[i]));
      // the trace's apply recorded this node on the sublayer; it is no application of the model's
      const at = node.layer.inboundNodes.indexOf(node);
      if (at >= 0) node.layer.inboundNodes.splice(at, 1);
    }
  }
  return (outs as SymbolicTensor[]).map((o) => memo.get(o)!.name);
}
