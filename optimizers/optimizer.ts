import type { UpdateRule } from '../backends/contract.js';
import { ENGINE } from '../src/engine.js';
import { applyUpdate } from '../src/fused/update.js';
import { fail } from '../src/errors.js';
import { Tensor } from '../src/tensor.js';
import { Variable, describe } from '../src/variable.js';
import { fill } from '../src/creation.js';
import { isFloat } from '../src/dtype.js';
import * as ops from '../src/ops/index.js';
import { clipByGlobalNorm, clipByNorm, clipByValue } from './clipping.js';
import { LearningRateSchedule, deserializeSchedule, serializeSchedule, type SerializedSchedule } from './schedules.js';

/** The options every optimizer takes (Keras's base optimizer arguments). */
export interface OptimizerOptions {
  learningRate?: number | LearningRateSchedule;
  /** Decoupled weight decay: `w -= w * weightDecay * learningRate` before each update. */
  weightDecay?: number | null;
  /** Clip each gradient to this L2 norm. At most one of the three clip options. */
  clipnorm?: number | null;
  /** Clip each gradient element to [-clipvalue, clipvalue]. */
  clipvalue?: number | null;
  /** Clip all gradients together to this joint L2 norm. */
  globalClipnorm?: number | null;
  /** Keep an exponential moving average of the weights (see finalizeVariableValues). */
  useEma?: boolean;
  emaMomentum?: number;
  /** Overwrite the weights with their average every this many updates (null: only when finalized). */
  emaOverwriteFrequency?: number | null;
  /** Update every this many calls, with the mean of the gradients accumulated since the last update. */
  gradientAccumulationSteps?: number | null;
  name?: string;
}

/** What getConfig returns: plain JSON, enough for fromConfig to rebuild the optimizer (without state). */
export type OptimizerConfig = {
  name: string;
  learningRate: number | SerializedSchedule;
  weightDecay: number | null;
  clipnorm: number | null;
  globalClipnorm: number | null;
  clipvalue: number | null;
  useEma: boolean;
  emaMomentum: number;
  emaOverwriteFrequency: number | null;
  gradientAccumulationSteps: number | null;
} & Record<string, unknown>;

/** A per-variable state an optimizer keeps, of the variable's shape and dtype, filled with `initial`. */
export interface SlotSpec {
  name: string;
  initial?: number;
}

export type GradientPairs = readonly (readonly [Tensor | null, Variable])[];

interface State {
  average: Variable | null;
  accumulator: Variable | null;
  slots: Variable[];
}

const BASE_OPTIONS = [
  'learningRate', 'weightDecay', 'clipnorm', 'clipvalue', 'globalClipnorm', 'useEma', 'emaMomentum',
  'emaOverwriteFrequency', 'gradientAccumulationSteps', 'name',
];

/** `value` checked to be a number in [min, max] (and an integer when asked); for option checks. */
export function checkNumber(op: string, name: string, value: unknown, min = -Infinity, max = Infinity, integer = false): number {
  // Number.isFinite is false for anything but a finite number (it does not coerce strings)
  const x = value as number;
  if (!Number.isFinite(x) || x < min || x > max || (integer && !Number.isInteger(x))) {
    fail(op, `${name} must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got ${String(value)}`);
  }
  return x;
}

/**
 * The base of every optimizer, with Keras 3's step: per-variable state created the first time a
 * variable is seen, then for each call: gradient accumulation, clipping, decoupled weight decay,
 * the subclass's update, the weights' moving average, and the step counter — all inside one tidy,
 * so a step leaves no tensor behind.
 */
export abstract class Optimizer {
  readonly name: string;
  readonly weightDecay: number | null;
  readonly clipnorm: number | null;
  readonly clipvalue: number | null;
  readonly globalClipnorm: number | null;
  readonly useEma: boolean;
  readonly emaMomentum: number;
  readonly emaOverwriteFrequency: number | null;
  readonly gradientAccumulationSteps: number | null;
  private rate: number | LearningRateSchedule;
  /** applyGradients calls so far (Keras's `_iterations`): schedules and accumulation count these. */
  private calls = 0;
  /**
   * `calls` as a tensor, for saving with the rest of the state; written when `variables` is read,
   * so that training holds and uploads nothing for it (plain SGD keeps no tensor at all).
   */
  private counter: Variable | null = null;
  private built = false;
  /** Per model variable, in the order first seen: the order of `variables`. */
  private readonly states = new Map<Variable, State>();
  private excludedVariables = new Set<Variable>();
  private excludedNames: readonly string[] = [];

  constructor(defaults: { learningRate: number; name: string }, options: OptimizerOptions, ownOptions: readonly string[] = []) {
    if (options === null || typeof options !== 'object') fail(defaults.name, `expected an options object, got ${describe(options)}`);
    const op = options.name ?? defaults.name;
    if (typeof op !== 'string') fail(defaults.name, `name must be a string, got ${describe(op)}`);
    const unknown = Object.keys(options).filter((k) => !BASE_OPTIONS.includes(k) && !ownOptions.includes(k));
    if (unknown.length > 0) fail(op, `unknown option(s) ${unknown.join(', ')}; known: ${[...BASE_OPTIONS, ...ownOptions].join(', ')}`);
    this.name = op;
    this.rate = checkRate(op, options.learningRate ?? defaults.learningRate);
    const optional = (name: keyof OptimizerOptions, min: number, integer = false) =>
      options[name] == null ? null : checkNumber(op, name, options[name], min, Infinity, integer);
    this.weightDecay = optional('weightDecay', 0);
    this.clipnorm = optional('clipnorm', Number.MIN_VALUE);
    this.clipvalue = optional('clipvalue', Number.MIN_VALUE);
    this.globalClipnorm = optional('globalClipnorm', Number.MIN_VALUE);
    const clips = [this.clipnorm, this.clipvalue, this.globalClipnorm].filter((c) => c !== null).length;
    if (clips > 1) {
      fail(op, `only one of clipnorm, clipvalue and globalClipnorm can be set, got clipnorm=${this.clipnorm}, clipvalue=${this.clipvalue}, globalClipnorm=${this.globalClipnorm}`);
    }
    this.gradientAccumulationSteps = optional('gradientAccumulationSteps', 2, true);
    this.useEma = options.useEma ?? false;
    if (typeof this.useEma !== 'boolean') fail(op, `useEma must be a boolean, got ${describe(this.useEma)}`);
    this.emaMomentum = checkNumber(op, 'emaMomentum', options.emaMomentum ?? 0.99, 0, 1);
    this.emaOverwriteFrequency = optional('emaOverwriteFrequency', 1, true);
  }

  /** The learning rate of the next update: the schedule's value at the calls applied so far. */
  get learningRate(): number {
    return typeof this.rate === 'number' ? this.rate : this.rate.call(this.calls);
  }

  set learningRate(value: number | LearningRateSchedule) {
    if (typeof value === 'number' && this.rate instanceof LearningRateSchedule) {
      fail(this.name, 'the learning rate comes from a LearningRateSchedule and cannot be set to a number; pass a schedule or create the optimizer with a number');
    }
    this.rate = checkRate(this.name, value);
  }

  /** Updates applied so far (Keras's `iterations`: calls divided by gradientAccumulationSteps). */
  get iterations(): number {
    return this.gradientAccumulationSteps ? Math.floor(this.calls / this.gradientAccumulationSteps) : this.calls;
  }

  get className(): string {
    return (this.constructor as { className?: string }).className ?? this.constructor.name;
  }

  /**
   * The optimizer's state, for saving: the step counter (int32 scalar), then per model variable in
   * the order first seen, its moving average, its gradient accumulator and the optimizer's slots.
   */
  get variables(): Variable[] {
    if (!this.built) return [];
    ENGINE.tidy(() => {
      const count = fill([], this.calls, 'int32');
      if (this.counter) this.counter.assign(count);
      else this.counter = new Variable(count, { name: `${this.name}/iteration`, trainable: false });
    });
    const out = [this.counter!];
    for (const s of this.states.values()) {
      if (s.average) out.push(s.average);
      if (s.accumulator) out.push(s.accumulator);
      out.push(...s.slots);
    }
    return out;
  }

  /** Creates the state of `variables` not seen before (call before setVariables to restore a saved state). */
  build(variables: readonly Variable[]): void {
    this.built = true;
    ENGINE.tidy(() => {
      for (const v of variables) {
        if (this.states.has(v)) continue;
        if (!isFloat(v.dtype)) fail(`${this.name}.build`, `variable '${v.name}' is ${v.dtype}; optimizers update float32 or float64 variables`);
        const slot = (name: string, initial = 0) =>
          new Variable(fill(v.shape, initial, v.dtype), { name: `${this.name}/${v.name}_${name}`, trainable: false });
        this.states.set(v, {
          average: this.useEma ? slot('average') : null,
          accumulator: this.gradientAccumulationSteps ? slot('gradient_accumulator') : null,
          slots: this.slotSpecs().map((s) => slot(s.name, s.initial)),
        });
      }
    });
  }

  /**
   * Restores a state saved from `variables` (same order, shapes and dtypes), after `build` on the
   * same model variables; training then resumes exactly where it stopped. Async because the
   * step counter is read back from its tensor.
   */
  async setVariables(values: readonly (Tensor | Variable)[]): Promise<void> {
    const op = `${this.name}.setVariables`;
    const own = this.variables;
    if (own.length === 0) fail(op, 'the optimizer has no state yet: call build(modelVariables) first');
    if (!Array.isArray(values) || values.length !== own.length) {
      fail(op, `expected ${own.length} tensors in the order of optimizer.variables, got ${Array.isArray(values) ? values.length : describe(values)}`);
    }
    const tensors = values.map((x, i) => {
      const t = x instanceof Variable ? x.value : x;
      if (!(t instanceof Tensor)) fail(op, `value ${i} must be a Tensor or Variable, got ${describe(x)}`);
      if (t.dtype !== own[i].dtype || t.shape.length !== own[i].shape.length || t.shape.some((d, j) => d !== own[i].shape[j])) {
        fail(op, `value ${i} ('${own[i].name}') must be ${own[i].dtype} [${own[i].shape}], got ${describe(t)}`);
      }
      return t;
    });
    const calls = (await tensors[0].data())[0];
    if (!(calls >= 0)) fail(op, `the step counter must be >= 0, got ${calls}`);
    own.forEach((v, i) => v.assign(tensors[i]));
    this.calls = calls;
  }

  /**
   * Excludes variables from weight decay: those listed, and those whose name contains one of
   * `varNames` (e.g. `['bias']`). Each call replaces the previous exclusions, as in Keras.
   */
  excludeFromWeightDecay({ varList = [], varNames = [] }: { varList?: readonly Variable[]; varNames?: readonly string[] } = {}): void {
    this.excludedVariables = new Set(varList);
    this.excludedNames = [...varNames];
  }

  /** Applies one step. A null gradient leaves its variable alone, as in Keras. */
  applyGradients(gradsAndVars: GradientPairs): void {
    const op = `${this.name}.applyGradients`;
    if (!Array.isArray(gradsAndVars)) fail(op, `expected an array of [gradient, variable] pairs, got ${describe(gradsAndVars)}`);
    if (gradsAndVars.length === 0) return;
    const seen = new Set<Variable>();
    gradsAndVars.forEach((pair, i) => {
      if (!Array.isArray(pair) || pair.length !== 2) fail(op, `pair ${i} must be [gradient, variable], got ${describe(pair)}`);
      const [g, v] = pair;
      if (!(v instanceof Variable)) fail(op, `pair ${i}: expected a Variable, got ${describe(v)}`);
      if (seen.has(v)) fail(op, `variable '${v.name}' appears in more than one pair`);
      seen.add(v);
      if (g === null) return;
      if (!(g instanceof Tensor)) fail(op, `pair ${i}: expected a gradient Tensor or null, got ${describe(g)}`);
      if (g.shape.length !== v.shape.length || g.shape.some((d, j) => d !== v.shape[j])) {
        fail(op, `gradient for '${v.name}' has shape [${g.shape}], the variable has [${v.shape}]`);
      }
    });
    const live = gradsAndVars.filter(([g]) => g !== null) as (readonly [Tensor, Variable])[];
    if (live.length === 0) fail(op, `no gradients provided for any variable (all ${gradsAndVars.length} are null)`);
    this.build([...seen]);
    ENGINE.tidy(() => {
      const vars = live.map(([, v]) => v);
      const grads = live.map(([g, v]) => ops.cast(g, v.dtype));
      const steps = this.gradientAccumulationSteps;
      if (steps === null) {
        this.update(grads, vars);
      } else if ((this.calls + 1) % steps === 0) {
        this.update(grads.map((g, i) => ops.divide(ops.add(g, this.state(vars[i]).accumulator!), steps)), vars);
        for (const s of this.states.values()) s.accumulator!.assign(fill(s.accumulator!.shape, 0, s.accumulator!.dtype));
      } else {
        vars.forEach((v, i) => this.state(v).accumulator!.assign(ops.add(grads[i], this.state(v).accumulator!)));
      }
      if (this.useEma) this.updateAverages();
      this.calls++;
    });
  }

  /** Overwrites every variable this optimizer updates with its moving average (when useEma). */
  finalizeVariableValues(): void {
    if (!this.useEma) return;
    for (const [v, s] of this.states) v.assign(s.average!.value);
  }

  getConfig(): OptimizerConfig {
    return {
      name: this.name,
      learningRate: typeof this.rate === 'number' ? this.rate : serializeSchedule(this.rate),
      weightDecay: this.weightDecay,
      clipnorm: this.clipnorm,
      globalClipnorm: this.globalClipnorm,
      clipvalue: this.clipvalue,
      useEma: this.useEma,
      emaMomentum: this.emaMomentum,
      emaOverwriteFrequency: this.emaOverwriteFrequency,
      gradientAccumulationSteps: this.gradientAccumulationSteps,
    };
  }

  /** A new optimizer (without state) from getConfig's output; a serialized schedule is rebuilt. */
  static fromConfig<T extends Optimizer>(this: new (options: never) => T, config: Partial<OptimizerConfig>): T {
    const lr = config.learningRate;
    const learningRate = lr !== null && typeof lr === 'object' ? deserializeSchedule(lr) : lr;
    return new this({ ...config, learningRate } as never);
  }

  /** Frees the optimizer's state. */
  dispose(): void {
    for (const v of this.variables) v.dispose();
    this.states.clear();
    this.counter = null;
    this.built = false;
  }

  /** The per-variable states the subclass keeps, in order: `updateStep` receives them so. */
  protected abstract slotSpecs(): readonly SlotSpec[];

  /**
   * The variable's next value given its (clipped) gradient; assigns the slots' next values.
   * `this.iterations + 1` is the step being applied (Keras's `local_step`).
   */
  protected abstract updateStep(grad: Tensor, variable: Variable, slots: readonly Variable[], learningRate: number): Tensor;

  /**
   * An updateStep that is one of the contract's update rules (see UpdateRule in
   * backends/contract.ts): one fused kernel on backends that have it, else the rule composed from
   * ops. Assigns the slots and returns the variable's next value.
   */
  protected applyRule(rule: UpdateRule, hyper: number[], grad: Tensor, variable: Variable, slots: readonly Variable[]): Tensor {
    const [next, ...nextSlots] = applyUpdate(rule, hyper, variable.value, grad, slots.map((s) => s.value));
    slots.forEach((s, j) => s.assign(nextSlots[j]));
    return next;
  }

  private state(v: Variable): State {
    return this.states.get(v)!;
  }

  private update(grads: Tensor[], vars: Variable[]): void {
    const clipped = this.clip(grads);
    const lr = this.learningRate;
    if (this.weightDecay !== null) {
      for (const v of vars) if (this.decays(v)) v.assign(ops.subtract(v, ops.multiply(ops.multiply(v, this.weightDecay), lr)));
    }
    vars.forEach((v, i) => v.assign(this.updateStep(clipped[i], v, this.state(v).slots, lr)));
  }

  private clip(grads: Tensor[]): Tensor[] {
    if (this.clipnorm !== null) return grads.map((g) => clipByNorm(g, this.clipnorm!));
    if (this.globalClipnorm !== null) return clipByGlobalNorm(grads, this.globalClipnorm);
    if (this.clipvalue !== null) return grads.map((g) => clipByValue(g, this.clipvalue!));
    return grads;
  }

  private decays(v: Variable): boolean {
    return !this.excludedVariables.has(v) && !this.excludedNames.some((n) => v.name.includes(n));
  }

  /** Keras averages every variable the optimizer tracks, the first update copying the weights. */
  private updateAverages(): void {
    const momentum = this.iterations === 0 ? 0 : this.emaMomentum;
    for (const [v, s] of this.states) {
      s.average!.assign(ops.add(ops.multiply(momentum, s.average!), ops.multiply(1 - momentum, v)));
    }
    if (this.emaOverwriteFrequency !== null && (this.iterations + 1) % this.emaOverwriteFrequency === 0) this.finalizeVariableValues();
  }
}

function checkRate(op: string, rate: unknown): number | LearningRateSchedule {
  if (rate instanceof LearningRateSchedule) return rate;
  return checkNumber(op, 'learningRate', rate, 0);
}
