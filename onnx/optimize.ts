/**
 * Clean-ups on the written graph, each keeping node order (so it stays topologically sorted):
 * Transposes that follow Transposes are composed, and those that end up as the identity are
 * removed (layout moves inserted around channels-first ops, and moveaxis there and back in
 * traced layers, cancel in pairs, as tf2onnx's transpose optimizer does); Identity nodes are
 * bypassed; nodes nothing reads are dropped.
 */
import type { NodeProto } from './proto.js';

const permOf = (n: NodeProto): number[] => (n.attribute ?? []).find((a) => a.name === 'perm')?.ints?.map(Number) ?? [];

export function optimizeGraph(nodes: NodeProto[], graphOutputs: readonly string[]): NodeProto[] {
  const outputs = new Set(graphOutputs);
  const producerOf = new Map<string, NodeProto>();
  for (const n of nodes) for (const o of n.output ?? []) producerOf.set(o, n);
  // renamed values: a bypassed node's output is read from its input instead
  const alias = new Map<string, string>();
  const resolve = (v: string): string => {
    let r = v;
    while (alias.has(r)) r = alias.get(r)!;
    return r;
  };

  for (const n of nodes) {
    n.input = (n.input ?? []).map(resolve);
    if (n.opType === 'Transpose') {
      const before = producerOf.get(n.input[0]);
      if (before?.opType === 'Transpose') {
        // y = T2(T1(x)) reads y[j] = x[p1[p2[j]]]: one transpose of x
        const p1 = permOf(before);
        const composed = permOf(n).map((j) => p1[j]);
        n.input = [before.input![0]];
        n.attribute = [{ ...n.attribute!.find((a) => a.name === 'perm')!, ints: composed }];
      }
      if (permOf(n).every((p, i) => p === i) && !outputs.has(n.output![0])) alias.set(n.output![0], n.input[0]);
    } else if (n.opType === 'Identity' && !outputs.has(n.output![0])) {
      alias.set(n.output![0], n.input[0]);
    }
  }

  // keep what the outputs need, walking back from them
  const needed = new Set(graphOutputs);
  const kept: NodeProto[] = [];
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i];
    if (!(n.output ?? []).some((o) => needed.has(o))) continue;
    kept.push(n);
    for (const x of n.input ?? []) if (x) needed.add(x);
  }
  return kept.reverse();
}

/** The names every node reads (to keep only the initializers in use). */
export function namesRead(nodes: readonly NodeProto[]): Set<string> {
  const read = new Set<string>();
  for (const n of nodes) for (const x of n.input ?? []) read.add(x);
  return read;
}
