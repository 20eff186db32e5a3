/**
 * ONNX's structural rules, checked on a ModelProto: an IR version and an opset; names of nodes
 * and values unique (each value defined once: graph input, initializer or one node output);
 * nodes topologically sorted (every input defined before it is read); graph outputs defined;
 * types set on inputs, outputs and initializers, and on every attribute.
 */
import type { ModelProto } from '../../onnx/proto.js';

export function structuralProblems(model: ModelProto): string[] {
  const problems: string[] = [];
  if (!Number(model.irVersion)) problems.push('ir_version is not set');
  if (!model.opsetImport?.length || !model.opsetImport.some((o) => (o.domain ?? '') === '' && Number(o.version) > 0)) {
    problems.push('no opset for the default domain');
  }
  const graph = model.graph;
  if (!graph) return [...problems, 'no graph'];
  const defined = new Set<string>();
  const define = (name: string | null | undefined, what: string) => {
    if (!name) problems.push(`${what} has no name`);
    else if (defined.has(name)) problems.push(`the value '${name}' is defined twice (${what})`);
    else defined.add(name);
  };
  const typed = (v: { name?: string | null; type?: { tensorType?: { elemType?: number | null; shape?: unknown } | null } | null }, what: string) => {
    if (!v.type?.tensorType?.elemType) problems.push(`${what} '${v.name}' has no element type`);
    if (!v.type?.tensorType?.shape) problems.push(`${what} '${v.name}' has no shape`);
  };
  for (const v of graph.input ?? []) {
    define(v.name, 'graph input');
    typed(v, 'graph input');
  }
  for (const t of graph.initializer ?? []) {
    define(t.name, 'initializer');
    if (!t.dataType) problems.push(`initializer '${t.name}' has no data type`);
    const external = t.dataLocation === 1;
    const count = (t.dims ?? []).reduce((n: number, d) => n * Number(d), 1);
    if (!external && !t.rawData?.length && count > 0 && !t.floatData?.length && !t.int64Data?.length && !t.int32Data?.length) {
      problems.push(`initializer '${t.name}' has no values`);
    }
  }
  const nodeNames = new Set<string>();
  for (const [i, n] of (graph.node ?? []).entries()) {
    const label = `node ${i} '${n.name}' (${n.opType})`;
    if (!n.opType) problems.push(`node ${i} has no op type`);
    if (!n.name) problems.push(`node ${i} has no name`);
    else if (nodeNames.has(n.name)) problems.push(`the node name '${n.name}' is used twice`);
    else nodeNames.add(n.name);
    for (const x of n.input ?? []) if (x !== '' && !defined.has(x)) problems.push(`${label} reads '${x}' before it is defined (or it is never defined)`);
    for (const a of n.attribute ?? []) if (!a.type) problems.push(`${label}: attribute '${a.name}' has no type`);
    for (const o of n.output ?? []) define(o, label);
  }
  for (const v of graph.output ?? []) {
    if (!v.name || !defined.has(v.name)) problems.push(`graph output '${v.name}' is never defined`);
    typed(v, 'graph output');
  }
  return problems;
}
