/**
 * A small ONNX graph builder: unique names scoped by layer, nodes appended in the order they are
 * emitted (so the graph is topologically sorted by construction), and initializers whose values
 * are read from kiln tensors only at the end, since readback is kiln's one async call.
 */
import type { DType, TypedArray } from '../backends/contract.js';
import { fail } from '../src/errors.js';
import type { Tensor } from '../src/tensor.js';
import type { Variable } from '../src/variable.js';
import {
  attributeProto, tensorProto, typedFrom, type Attr, type NodeProto, type OnnxType, type TensorData, type TensorProto,
} from './proto.js';

/** A value of the graph: its name, and the dtype and shape kiln inferred for it. */
export interface Value {
  name: string;
  dtype: DType;
  shape: readonly (number | null)[];
}

interface Initializer {
  name: string;
  dtype: OnnxType;
  dims: readonly number[];
  data?: TensorData;
  /** A kiln tensor read at the end, optionally transformed (e.g. variance to standard deviation). */
  source?: { tensor: Tensor; transform?: (values: TypedArray) => TypedArray };
}

/** Constants of at most this many elements are shared by content: traces make many scalars. */
const SHARE_LIMIT = 64;

export class GraphBuilder {
  readonly nodes: NodeProto[] = [];
  readonly initializers = new Map<string, Initializer>();
  private readonly values = new Set<string>();
  private readonly nodeNames = new Set<string>();
  private readonly shared = new Map<string, string>();
  private readonly weights = new Map<object, Map<string, string>>();
  private readonly scopes: string[] = [];

  constructor(readonly opset: number) {}

  /** Claims an exact value name (graph inputs and outputs); a clash is a bug in the caller. */
  reserve(name: string): string {
    if (this.values.has(name)) fail('onnx export', `the name '${name}' is used twice (input and output names must be unique)`);
    this.values.add(name);
    return name;
  }

  /** `base`, or `base_1`, `base_2`, … if taken. */
  unique(base: string, taken: Set<string> = this.values): string {
    let name = base;
    for (let k = 1; taken.has(name); k++) name = `${base}_${k}`;
    taken.add(name);
    return name;
  }

  /** Runs `fn` with node names prefixed by `scope` (a layer's name, nested models' names before it). */
  within<T>(scope: string, fn: () => T): T {
    this.scopes.push(scope);
    try {
      return fn();
    } finally {
      this.scopes.pop();
    }
  }

  get scope(): string {
    return this.scopes.join('/');
  }

  private scoped(name: string): string {
    return this.scopes.length ? `${this.scope}/${name}` : name;
  }

  /** Fails unless the target opset has what `what` needs. */
  require(minOpset: number, what: string): void {
    if (this.opset < minOpset) fail('onnx export', `${what} needs opset ${minOpset} or newer; this export targets opset ${this.opset} (pass { opset: ${minOpset} })`);
  }

  /** Appends a node; returns its output names. */
  node(opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, outputs = 1): string[] {
    const name = this.unique(this.scoped(opType), this.nodeNames);
    const outs = Array.from({ length: outputs }, (_, k) => this.unique(outputs === 1 ? name : `${name}:${k}`));
    const attribute = Object.entries(attrs).map(([k, v]) => attributeProto(k, v));
    this.nodes.push({ name, opType, input: [...inputs], output: outs, attribute });
    return outs;
  }

  /** A node whose one output has an exact, reserved name (a graph output). */
  nodeWithOutput(opType: string, inputs: readonly string[], output: string): void {
    this.nodes.push({ name: this.unique(output, this.nodeNames), opType, input: [...inputs], output: [output], attribute: [] });
  }

  /** A node with one output. */
  op(opType: string, inputs: readonly string[], attrs: Record<string, Attr> = {}): string {
    return this.node(opType, inputs, attrs)[0];
  }

  /** A variable's value as an initializer named after it (`dense/kernel`), once per variable and transform. */
  weight(variable: Variable, options: { suffix?: string; dims?: readonly number[]; transform?: (v: TypedArray) => TypedArray } = {}): string {
    const key = `${options.suffix ?? ''}|${(options.dims ?? variable.shape).join(',')}`;
    const known = this.weights.get(variable)?.get(key);
    if (known) return known;
    const name = this.unique(options.suffix ? `${variable.name}/${options.suffix}` : variable.name);
    this.initializers.set(name, { name, dtype: variable.dtype, dims: options.dims ?? variable.shape, source: { tensor: variable.value, transform: options.transform } });
    if (!this.weights.has(variable)) this.weights.set(variable, new Map());
    this.weights.get(variable)!.set(key, name);
    return name;
  }

  /** A concrete tensor met while tracing (a constant of a custom layer): read at the end. */
  tensor(t: Tensor, hint = 'const'): string {
    const known = this.weights.get(t)?.get('');
    if (known) return known;
    const name = this.unique(this.scoped(hint));
    this.initializers.set(name, { name, dtype: t.dtype, dims: t.shape, source: { tensor: t } });
    this.weights.set(t, new Map([['', name]]));
    return name;
  }

  /** A constant from values; small ones are shared by content. */
  constant(dtype: OnnxType, dims: readonly number[], values: readonly number[] | TensorData, hint = 'const'): string {
    const data = ArrayBuffer.isView(values) ? values : typedFrom(dtype, values as number[]);
    const small = data.length <= SHARE_LIMIT;
    const key = small ? `${dtype}|${dims.join(',')}|${Array.from(data as ArrayLike<number | bigint>, String).join(',')}` : '';
    const known = small ? this.shared.get(key) : undefined;
    if (known) return known;
    const name = this.unique(small ? `const/${hint}` : this.scoped(hint));
    this.initializers.set(name, { name, dtype, dims, data });
    if (small) this.shared.set(key, name);
    return name;
  }

  int64s(values: readonly number[], hint = 'shape'): string {
    return this.constant('int64', [values.length], values, hint);
  }

  scalar(dtype: OnnxType, value: number, hint = 'scalar'): string {
    return this.constant(dtype, [], [value], hint);
  }

  /**
   * A reduction over `axes`: ReduceSum takes them as an input from opset 13, the others only
   * from 18 (before, an attribute).
   */
  reduce(opType: 'ReduceSum' | 'ReduceMax' | 'ReduceMin' | 'ReduceProd' | 'ReduceMean', x: string, axes: readonly number[], keepdims: boolean): string {
    const keep = { keepdims: { i: keepdims ? 1 : 0 } };
    if (opType === 'ReduceSum' || this.opset >= 18) return this.op(opType, [x, this.int64s(axes, 'axes')], keep);
    return this.op(opType, [x], { ...keep, axes: { ints: [...axes] } });
  }

  unsqueeze(x: string, axes: readonly number[]): string {
    return axes.length ? this.op('Unsqueeze', [x, this.int64s(axes, 'axes')]) : x;
  }

  reshape(x: string, shape: readonly number[]): string {
    return this.op('Reshape', [x, this.int64s(shape)]);
  }

  /** Reads every tensor-backed initializer (the only async step) and returns the protos. */
  async materialize(keep: ReadonlySet<string>): Promise<TensorProto[]> {
    const out: TensorProto[] = [];
    for (const init of this.initializers.values()) {
      if (!keep.has(init.name)) continue;
      let data = init.data;
      if (!data && init.source) {
        const values = await init.source.tensor.data();
        data = init.source.transform ? init.source.transform(values) : values;
      }
      out.push(tensorProto(init.name, init.dtype, init.dims, data!));
    }
    return out;
  }
}
