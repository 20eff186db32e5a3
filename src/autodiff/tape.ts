import { ENGINE, type TapeNode, type TapeSink } from '../engine.js';
import { fail, fmtShape } from '../errors.js';
import { isFloat } from '../dtype.js';
import { broadcastedAxes, shapesEqual } from '../shape.js';
import { Tensor } from '../tensor.js';
import { Variable, describe } from '../variable.js';
import { onesLike, zerosLike } from '../creation.js';
import { add } from '../ops/binary.js';
import { cast } from '../ops/select.js';
import { sum } from '../ops/reduce.js';
import { reshape } from '../ops/movement.js';

export type Source = Tensor | Variable;

export interface GradientOptions {
  /** The gradient flowing into `target` (default: ones). */
  outputGradients?: Tensor;
  /** What an unconnected source gets: `'none'` (null, TF's default) or `'zero'`. */
  unconnectedGradients?: 'none' | 'zero';
}

/**
 * Records the primitives run inside `record()` and differentiates them in reverse.
 * @example
 * const tape = new kiln.GradientTape();
 * const loss = tape.record(() => kiln.ops.mean(kiln.ops.square(kiln.ops.subtract(y, f(x)))));
 * const [dW, db] = tape.gradient(loss, [W, b]);
 */
export class GradientTape implements TapeSink {
  private nodes: TapeNode[] = [];
  private used = false;

  constructor(readonly options: { persistent?: boolean } = {}) {}

  push(node: TapeNode): void {
    this.nodes.push(node);
  }

  /** Runs `fn` with this tape recording and returns its result. */
  record<T>(fn: () => T): T {
    if (this.used) fail('GradientTape.record', 'this non-persistent tape was already used by gradient(); make a new tape');
    const start = this.nodes.length;
    try {
      return ENGINE.withTape(this, fn);
    } catch (err) {
      // what a failed computation recorded can never be differentiated: let it go now
      release(this.nodes.splice(start));
      throw err;
    }
  }

  /** Gradients of `target` with respect to each source, in order; null for unconnected or integer sources. */
  gradient(target: Tensor, sources: readonly Source[], options?: GradientOptions): (Tensor | null)[];
  gradient(target: Tensor, sources: Source, options?: GradientOptions): Tensor | null;
  gradient(target: Tensor, sources: Source | readonly Source[], options: GradientOptions = {}): (Tensor | null)[] | Tensor | null {
    if (this.used) fail('GradientTape.gradient', 'a non-persistent tape can compute gradients once; pass { persistent: true } to call it again');
    if (!(target instanceof Tensor)) fail('GradientTape.gradient', `target must be a Tensor, got ${describe(target)}`);
    const list = Array.isArray(sources) ? (sources as Source[]) : [sources as Source];
    const ids = list.map((s, i) => {
      if (s instanceof Variable) return s.value.id;
      if (s instanceof Tensor) return s.id;
      return fail('GradientTape.gradient', `source ${i} must be a Tensor or Variable, got ${describe(s)}`);
    });
    try {
      const grads = backprop(this.nodes, target, ids, options.outputGradients);
      const out = list.map((s, i) => {
        const value = s instanceof Variable ? s.value : s;
        const g = grads.get(ids[i]) ?? null;
        if (!isFloat(value.dtype)) return null;
        if (g === null) return options.unconnectedGradients === 'zero' ? zerosLike(value) : null;
        return g;
      });
      return Array.isArray(sources) ? out : out[0];
    } finally {
      if (!this.options.persistent) this.dispose();
    }
  }

  /** Releases what the tape saved; automatic after gradient() unless persistent. */
  dispose(): void {
    this.used = true;
    release(this.nodes);
    this.nodes = [];
  }
}

/** Drops this tape's hold on each node; the last tape holding a node frees its saved views. */
function release(nodes: readonly TapeNode[]): void {
  for (const n of nodes) {
    if (--n.users > 0) continue;
    for (const t of n.inputs) t.dispose();
    n.out.dispose();
  }
}

/**
 * Reverse accumulation over the recorded nodes that lie on a path from a source to the target.
 * Intermediate gradients are tidied; the sources' gradients land in the caller's scope.
 */
function backprop(nodes: readonly TapeNode[], target: Tensor, sourceIds: readonly number[], seed?: Tensor): Map<number, Tensor> {
  const fromSources = new Set(sourceIds);
  const relevant: TapeNode[] = [];
  for (const n of nodes) {
    if (n.inputIds.some((id) => fromSources.has(id))) {
      fromSources.add(n.out.id);
      relevant.push(n);
    }
  }
  const wanted = new Set(sourceIds);
  return ENGINE.tidy(() => {
    const result = new Map<number, Tensor>();
    const grads = new Map<number, Tensor>();
    if (seed && !shapesEqual(seed.shape, target.shape)) {
      fail('GradientTape.gradient', `outputGradients has shape ${fmtShape(seed.shape)}, target has ${fmtShape(target.shape)}`);
    }
    grads.set(target.id, seed ?? onesLike(target));
    for (let k = relevant.length - 1; k >= 0; k--) {
      const n = relevant[k];
      const dy = grads.get(n.out.id);
      if (!dy) continue;
      const needs = n.inputIds.map((id, i) => fromSources.has(id) && isFloat(n.inputs[i].dtype));
      const inputGrads = n.prim.grad!(dy, n.inputs, n.out, n.attrs, needs);
      n.inputs.forEach((x, i) => {
        let g = inputGrads[i];
        if (!g || !needs[i]) return;
        g = unbroadcast(g, x);
        const prev = grads.get(n.inputIds[i]);
        grads.set(n.inputIds[i], prev ? add(prev, g) : g);
      });
    }
    // one tensor may be the gradient of several sources (add's rule returns dy twice): each
    // caller gets its own tensor to dispose
    const given = new Set<Tensor>();
    for (const id of wanted) {
      const g = grads.get(id);
      if (!g) continue;
      result.set(id, g === seed || given.has(g) ? ENGINE.view(g) : g);
      given.add(g);
    }
    return result;
  });
}

/** The gradient of a broadcast input: summed over the axes it was broadcast along, in its dtype. */
function unbroadcast(g: Tensor, x: Tensor): Tensor {
  if (g.dtype !== x.dtype) g = cast(g, x.dtype);
  if (shapesEqual(g.shape, x.shape)) return g;
  const axes = broadcastedAxes(x.shape, g.shape);
  return reshape(sum(g, axes, true), x.shape);
}
