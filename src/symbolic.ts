import type { DType } from '../backends/contract.js';
import type { Dim } from './shape.js';

/** How a symbolic tensor was made: a primitive applied to other symbolic (or concrete) tensors. */
export interface SymbolicNode {
  prim: { readonly name: string };
  inputs: readonly unknown[];
  attrs: unknown;
}

/**
 * A tensor with a shape and dtype but no values: what `kiln.Input` returns and what ops return
 * when given one. A `null` dimension is decided at run time (the batch, usually). Running ops on
 * symbolic tensors infers shapes with the same code that checks eager calls, and records the
 * primitive graph that summary() and the ONNX exporter read.
 */
export class SymbolicTensor {
  readonly shape: readonly Dim[];
  private static nextId = 1;
  readonly id = SymbolicTensor.nextId++;

  constructor(shape: readonly Dim[], readonly dtype: DType, readonly node: SymbolicNode | null = null, readonly name?: string) {
    this.shape = Object.freeze([...shape]);
  }

  get rank(): number {
    return this.shape.length;
  }

  get size(): number | null {
    let n = 1;
    for (const d of this.shape) {
      if (d === null) return null;
      n *= d;
    }
    return n;
  }

  toString(): string {
    return `SymbolicTensor(${this.dtype}, shape=[${this.shape.map((d) => (d === null ? 'null' : d)).join(',')}]${this.name ? `, name=${this.name}` : ''})`;
  }
}
