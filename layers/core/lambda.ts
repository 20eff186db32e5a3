import { fail } from '../../src/errors.js';
import type { Dim, Shape } from '../../src/shape.js';
import { Tensor } from '../../src/tensor.js';
import { SymbolicTensor } from '../../src/symbolic.js';
import { Layer, type LayerArgs, type LayerConfig, type Shapes, type Tensors } from '../layer.js';
import { optionsFromConfig } from '../config.js';

export type LambdaFn = (inputs: Tensor) => Tensor;

export interface LambdaOptions extends LayerArgs {
  /**
   * The output shape without the batch dimension, or a function of the input shape (batch
   * included) returning the full output shape. Needed only when `fn` cannot run on symbolic
   * tensors (it reads values, say); otherwise the shape is inferred by running it.
   */
  outputShape?: readonly Dim[] | ((inputShape: Shape) => Shape);
}

/** Functions that Lambda layers may save, by name (a JS function has no portable form). */
const FUNCTIONS = new Map<string, LambdaFn>();

/**
 * Wraps a function of tensors as a layer (keras.layers.Lambda). Its config names the function,
 * so saving needs the function registered first with `Lambda.registerFunction`, and loading
 * needs the same registration in the loading program.
 * @example
 * kiln.layers.Lambda.registerFunction('double', (x) => kiln.ops.multiply(x, 2));
 * const double = new kiln.layers.Lambda('double');
 */
export class Lambda extends Layer {
  static readonly className = 'Lambda';
  readonly fn: LambdaFn;

  constructor(fn: LambdaFn | string, private readonly options: LambdaOptions = {}) {
    super(options);
    if (typeof fn === 'string') {
      const found = FUNCTIONS.get(fn);
      if (!found) fail(this.toString(), `no function is registered as '${fn}' (registered: ${[...FUNCTIONS.keys()].join(', ') || 'none'}); call Lambda.registerFunction('${fn}', fn) first`);
      this.fn = found;
    } else if (typeof fn === 'function') {
      this.fn = fn;
    } else {
      fail(this.toString(), `expected a function or a registered function's name, got ${typeof fn}`);
    }
    const out = options.outputShape;
    // an own property only when given: the base class then uses it instead of a symbolic call
    if (out) this.computeOutputShape = (s: Shapes) => (typeof out === 'function' ? out(s as Shape) : [(s as Shape)[0], ...out]);
  }

  /** Makes `fn` savable in Lambda configs under `name`. */
  static registerFunction(name: string, fn: LambdaFn): void {
    if (typeof name !== 'string' || name === '') fail('Lambda.registerFunction', `expected a non-empty name, got ${JSON.stringify(name)}`);
    if (typeof fn !== 'function') fail('Lambda.registerFunction', `expected a function, got ${typeof fn}`);
    const existing = FUNCTIONS.get(name);
    if (existing && existing !== fn) fail('Lambda.registerFunction', `'${name}' is already registered to another function`);
    FUNCTIONS.set(name, fn);
  }

  call(inputs: Tensors): Tensor {
    const out: unknown = this.fn(inputs as Tensor);
    // anything else reaches shape inference as "shape is not iterable", far from the function at fault
    if (!(out instanceof Tensor) && !(out instanceof SymbolicTensor)) {
      fail(this.toString(), `its function must return a tensor, got ${out === null ? 'null' : Array.isArray(out) ? 'an array' : typeof out}`);
    }
    return out as Tensor;
  }

  override getConfig(): LayerConfig {
    const name = [...FUNCTIONS].find(([, f]) => f === this.fn)?.[0];
    if (name === undefined) {
      fail(this.toString(), `cannot save a JavaScript function${this.fn.name ? ` ('${this.fn.name}')` : ''}: register it with kiln.layers.Lambda.registerFunction(name, fn) before saving, and again before loading`);
    }
    const out = this.options.outputShape;
    if (typeof out === 'function') fail(this.toString(), 'cannot save an outputShape function; pass the output shape as an array');
    return { ...super.getConfig(), function: name, outputShape: out ? [...out] : null };
  }

  static fromConfig(config: LayerConfig): Lambda {
    const { function: name, outputShape, ...rest } = config;
    const options = optionsFromConfig<LambdaOptions>(rest as LayerConfig);
    return new Lambda(name as string, outputShape ? { ...options, outputShape: outputShape as Dim[] } : options);
  }
}
