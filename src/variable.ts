import type { DType } from '../backends/contract.js';
import { ENGINE } from './engine.js';
import { fail, fmtShape } from './errors.js';
import { Tensor } from './tensor.js';
import { checkDType } from './dtype.js';
import { cast } from './ops/select.js';

let counter = 0;

export interface VariableOptions {
  name?: string;
  trainable?: boolean;
  dtype?: DType;
}

/**
 * A mutable holder of a tensor value: model weights and optimizer state. Ops accept a Variable
 * wherever they accept a tensor, and read its current value; a tape's gradient of a Variable is
 * the gradient of that value.
 */
export class Variable {
  readonly name: string;
  trainable: boolean;
  private current: Tensor;

  constructor(initial: Tensor, options: VariableOptions = {}) {
    if (!(initial instanceof Tensor)) fail('Variable', `expected an initial Tensor, got ${describe(initial)}`);
    this.name = options.name ?? `variable_${counter++}`;
    this.trainable = options.trainable ?? true;
    const dtype = options.dtype === undefined ? initial.dtype : checkDType('Variable', options.dtype);
    this.current = ENGINE.keep(dtype === initial.dtype ? ENGINE.view(initial) : cast(initial, dtype));
  }

  get value(): Tensor {
    return this.current;
  }

  get shape(): readonly number[] {
    return this.current.shape;
  }

  get dtype(): DType {
    return this.current.dtype;
  }

  get rank(): number {
    return this.current.rank;
  }

  get size(): number {
    return this.current.size;
  }

  /** Replaces the value (same shape and dtype). The variable shares `value`'s buffer; no copy. */
  assign(value: Tensor): this {
    if (!(value instanceof Tensor)) fail(`Variable '${this.name}'.assign`, `expected a Tensor, got ${describe(value)}`);
    if (value.dtype !== this.dtype || value.shape.length !== this.shape.length || value.shape.some((d, i) => d !== this.shape[i])) {
      fail(`Variable '${this.name}'.assign`, `expected ${this.dtype} ${fmtShape(this.shape)}, got ${value.dtype} ${fmtShape(value.shape)}`);
    }
    const old = this.current;
    this.current = ENGINE.keep(ENGINE.view(value));
    old.dispose();
    return this;
  }

  async data() {
    return this.current.data();
  }

  async array() {
    return this.current.array();
  }

  dispose(): void {
    this.current.dispose();
  }

  toString(): string {
    return `Variable '${this.name}' ${this.current.toString()}`;
  }
}

export function describe(x: unknown): string {
  if (x instanceof Tensor) return `a ${x.dtype} tensor of shape ${fmtShape(x.shape)}`;
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  return typeof x === 'object' ? `a ${(x as object).constructor?.name ?? 'object'}` : `${typeof x} ${String(x)}`;
}
