import { fail } from '../src/errors.js';
import { Registry, serialize, type Serialized } from '../src/registry.js';

/** A schedule's settings as plain JSON: what `getConfig` returns and `fromConfig` takes. */
export type ScheduleConfig = Record<string, unknown>;

/** How a schedule is written into an optimizer's config: its class name and its settings. */
export type SerializedSchedule = Serialized<ScheduleConfig>;

/**
 * The learning rate as a function of the optimizer's step (Keras's `LearningRateSchedule`).
 * Schedules are evaluated in JS float64: the learning rate is one scalar per step, so there is
 * nothing to put on a device.
 * @example
 * class Halving extends kiln.optimizers.LearningRateSchedule {
 *   call(step: number) { return 0.1 / 2 ** step; }
 *   getConfig() { return {}; }
 * }
 * const opt = new kiln.optimizers.SGD({ learningRate: new Halving() });
 */
export abstract class LearningRateSchedule {
  /** The learning rate at `step` (the number of optimizer steps applied so far). */
  abstract call(step: number): number;

  abstract getConfig(): ScheduleConfig;

  get className(): string {
    return (this.constructor as { className?: string }).className ?? this.constructor.name;
  }

  static fromConfig<T>(this: new (config: never) => T, config: ScheduleConfig): T {
    return new this(config as never);
  }
}

// Number.isFinite is false for anything but a finite number (it does not coerce strings)
function positive(op: string, name: string, value: unknown): number {
  if (!(Number.isFinite(value) && (value as number) > 0)) fail(op, `${name} must be a positive number, got ${String(value)}`);
  return value as number;
}

function finite(op: string, name: string, value: unknown): number {
  if (!Number.isFinite(value)) fail(op, `${name} must be a finite number, got ${String(value)}`);
  return value as number;
}

export interface ExponentialDecayConfig {
  initialLearningRate: number;
  decaySteps: number;
  decayRate: number;
  staircase?: boolean;
  name?: string;
}

/** `initialLearningRate * decayRate ^ (step / decaySteps)`, the exponent floored when `staircase`. */
export class ExponentialDecay extends LearningRateSchedule {
  static readonly className = 'ExponentialDecay';
  readonly initialLearningRate: number;
  readonly decaySteps: number;
  readonly decayRate: number;
  readonly staircase: boolean;
  readonly name: string;

  constructor(config: ExponentialDecayConfig) {
    super();
    this.initialLearningRate = finite('ExponentialDecay', 'initialLearningRate', config.initialLearningRate);
    this.decaySteps = positive('ExponentialDecay', 'decaySteps', config.decaySteps);
    this.decayRate = finite('ExponentialDecay', 'decayRate', config.decayRate);
    this.staircase = config.staircase ?? false;
    this.name = config.name ?? 'ExponentialDecay';
  }

  call(step: number): number {
    const p = step / this.decaySteps;
    return this.initialLearningRate * this.decayRate ** (this.staircase ? Math.floor(p) : p);
  }

  getConfig(): ScheduleConfig {
    const { initialLearningRate, decaySteps, decayRate, staircase, name } = this;
    return { initialLearningRate, decaySteps, decayRate, staircase, name };
  }
}

export type InverseTimeDecayConfig = ExponentialDecayConfig;

/** `initialLearningRate / (1 + decayRate * step / decaySteps)`, the ratio floored when `staircase`. */
export class InverseTimeDecay extends LearningRateSchedule {
  static readonly className = 'InverseTimeDecay';
  readonly initialLearningRate: number;
  readonly decaySteps: number;
  readonly decayRate: number;
  readonly staircase: boolean;
  readonly name: string;

  constructor(config: InverseTimeDecayConfig) {
    super();
    this.initialLearningRate = finite('InverseTimeDecay', 'initialLearningRate', config.initialLearningRate);
    this.decaySteps = positive('InverseTimeDecay', 'decaySteps', config.decaySteps);
    this.decayRate = finite('InverseTimeDecay', 'decayRate', config.decayRate);
    this.staircase = config.staircase ?? false;
    this.name = config.name ?? 'InverseTimeDecay';
  }

  call(step: number): number {
    const p = step / this.decaySteps;
    return this.initialLearningRate / (1 + this.decayRate * (this.staircase ? Math.floor(p) : p));
  }

  getConfig(): ScheduleConfig {
    const { initialLearningRate, decaySteps, decayRate, staircase, name } = this;
    return { initialLearningRate, decaySteps, decayRate, staircase, name };
  }
}

export interface PiecewiseConstantDecayConfig {
  boundaries: readonly number[];
  values: readonly number[];
  name?: string;
}

/** `values[0]` while `step <= boundaries[0]`, `values[i]` while `boundaries[i-1] < step <= boundaries[i]`, then the last value. */
export class PiecewiseConstantDecay extends LearningRateSchedule {
  static readonly className = 'PiecewiseConstantDecay';
  readonly boundaries: readonly number[];
  readonly values: readonly number[];
  readonly name: string;

  constructor(config: PiecewiseConstantDecayConfig) {
    super();
    const op = 'PiecewiseConstantDecay';
    const { boundaries, values } = config;
    if (!Array.isArray(boundaries) || !Array.isArray(values)) fail(op, 'boundaries and values must be arrays of numbers');
    if (boundaries.length !== values.length - 1) {
      fail(op, `boundaries must have one element fewer than values, got ${boundaries.length} boundaries and ${values.length} values`);
    }
    boundaries.forEach((b, i) => {
      finite(op, `boundaries[${i}]`, b);
      if (i > 0 && !(b > boundaries[i - 1])) fail(op, `boundaries must be strictly increasing, got [${boundaries.join(', ')}]`);
    });
    values.forEach((v, i) => finite(op, `values[${i}]`, v));
    this.boundaries = [...boundaries];
    this.values = [...values];
    this.name = config.name ?? 'PiecewiseConstant';
  }

  call(step: number): number {
    const i = this.boundaries.findIndex((b) => step <= b);
    return this.values[i === -1 ? this.values.length - 1 : i];
  }

  getConfig(): ScheduleConfig {
    return { boundaries: [...this.boundaries], values: [...this.values], name: this.name };
  }
}

export interface PolynomialDecayConfig {
  initialLearningRate: number;
  decaySteps: number;
  endLearningRate?: number;
  power?: number;
  cycle?: boolean;
  name?: string;
}

/**
 * `(initial - end) * (1 - step / decaySteps) ^ power + end`, holding `end` after `decaySteps`;
 * with `cycle`, decaySteps grows to the first multiple of itself at or past `step`.
 */
export class PolynomialDecay extends LearningRateSchedule {
  static readonly className = 'PolynomialDecay';
  readonly initialLearningRate: number;
  readonly decaySteps: number;
  readonly endLearningRate: number;
  readonly power: number;
  readonly cycle: boolean;
  readonly name: string;

  constructor(config: PolynomialDecayConfig) {
    super();
    this.initialLearningRate = finite('PolynomialDecay', 'initialLearningRate', config.initialLearningRate);
    this.decaySteps = positive('PolynomialDecay', 'decaySteps', config.decaySteps);
    this.endLearningRate = finite('PolynomialDecay', 'endLearningRate', config.endLearningRate ?? 0.0001);
    this.power = finite('PolynomialDecay', 'power', config.power ?? 1);
    this.cycle = config.cycle ?? false;
    this.name = config.name ?? 'PolynomialDecay';
  }

  call(step: number): number {
    let decaySteps = this.decaySteps;
    // Keras uses multiplier 1 at step 0, where ceil would give 0 and divide by zero
    if (this.cycle) decaySteps *= step === 0 ? 1 : Math.ceil(step / this.decaySteps);
    else step = Math.min(step, decaySteps);
    const p = step / decaySteps;
    return (this.initialLearningRate - this.endLearningRate) * (1 - p) ** this.power + this.endLearningRate;
  }

  getConfig(): ScheduleConfig {
    const { initialLearningRate, decaySteps, endLearningRate, power, cycle, name } = this;
    return { initialLearningRate, decaySteps, endLearningRate, power, cycle, name };
  }
}

export interface CosineDecayConfig {
  initialLearningRate: number;
  decaySteps: number;
  alpha?: number;
  name?: string;
  warmupTarget?: number | null;
  warmupSteps?: number;
}

/**
 * Optional linear warmup from `initialLearningRate` to `warmupTarget` over `warmupSteps`, then a
 * cosine from that rate down to `alpha` times it over `decaySteps` (SGDR without restarts).
 */
export class CosineDecay extends LearningRateSchedule {
  static readonly className = 'CosineDecay';
  readonly initialLearningRate: number;
  readonly decaySteps: number;
  readonly alpha: number;
  readonly name: string;
  readonly warmupTarget: number | null;
  readonly warmupSteps: number;

  constructor(config: CosineDecayConfig) {
    super();
    const op = 'CosineDecay';
    this.initialLearningRate = finite(op, 'initialLearningRate', config.initialLearningRate);
    this.decaySteps = positive(op, 'decaySteps', config.decaySteps);
    this.alpha = finite(op, 'alpha', config.alpha ?? 0);
    this.name = config.name ?? 'CosineDecay';
    this.warmupTarget = config.warmupTarget == null ? null : finite(op, 'warmupTarget', config.warmupTarget);
    this.warmupSteps = config.warmupSteps ?? 0;
    if (this.warmupSteps !== 0) positive(op, 'warmupSteps', this.warmupSteps);
  }

  call(step: number): number {
    if (this.warmupTarget === null) return this.decay(Math.min(step, this.decaySteps), this.initialLearningRate);
    step = Math.min(step, this.decaySteps + this.warmupSteps);
    if (step < this.warmupSteps) {
      return (this.warmupTarget - this.initialLearningRate) * (step / this.warmupSteps) + this.initialLearningRate;
    }
    return this.decay(step - this.warmupSteps, this.warmupTarget);
  }

  private decay(step: number, from: number): number {
    const cosine = 0.5 * (1 + Math.cos(Math.PI * (step / this.decaySteps)));
    return from * ((1 - this.alpha) * cosine + this.alpha);
  }

  getConfig(): ScheduleConfig {
    const { initialLearningRate, decaySteps, alpha, name, warmupTarget, warmupSteps } = this;
    return { initialLearningRate, decaySteps, alpha, name, warmupTarget, warmupSteps };
  }
}

export interface CosineDecayRestartsConfig {
  initialLearningRate: number;
  firstDecaySteps: number;
  tMul?: number;
  mMul?: number;
  alpha?: number;
  name?: string;
}

/**
 * Cosine decay from 1 to `alpha` (times `initialLearningRate`) over `firstDecaySteps`, then warm
 * restarts: period i lasts `tMul^i` times longer and starts at `mMul^i` times the rate (SGDR).
 */
export class CosineDecayRestarts extends LearningRateSchedule {
  static readonly className = 'CosineDecayRestarts';
  readonly initialLearningRate: number;
  readonly firstDecaySteps: number;
  readonly tMul: number;
  readonly mMul: number;
  readonly alpha: number;
  readonly name: string;

  constructor(config: CosineDecayRestartsConfig) {
    super();
    const op = 'CosineDecayRestarts';
    this.initialLearningRate = finite(op, 'initialLearningRate', config.initialLearningRate);
    this.firstDecaySteps = positive(op, 'firstDecaySteps', config.firstDecaySteps);
    this.tMul = positive(op, 'tMul', config.tMul ?? 2);
    this.mMul = finite(op, 'mMul', config.mMul ?? 1);
    this.alpha = finite(op, 'alpha', config.alpha ?? 0);
    this.name = config.name ?? 'SGDRDecay';
  }

  call(step: number): number {
    let fraction = step / this.firstDecaySteps;
    let restart: number;
    if (this.tMul === 1) {
      restart = Math.floor(fraction);
      fraction -= restart;
    } else {
      // periods grow geometrically: restart i begins at fraction (1 - tMul^i) / (1 - tMul)
      const t = this.tMul;
      restart = Math.floor(Math.log(1 - fraction * (1 - t)) / Math.log(t));
      const start = (1 - t ** restart) / (1 - t);
      fraction = (fraction - start) / t ** restart;
    }
    const cosine = 0.5 * this.mMul ** restart * (1 + Math.cos(Math.PI * fraction));
    return this.initialLearningRate * ((1 - this.alpha) * cosine + this.alpha);
  }

  getConfig(): ScheduleConfig {
    const { initialLearningRate, firstDecaySteps, tMul, mMul, alpha, name } = this;
    return { initialLearningRate, firstDecaySteps, tMul, mMul, alpha, name };
  }
}

type ScheduleClass = (new (config: never) => LearningRateSchedule) & { fromConfig(config: ScheduleConfig): LearningRateSchedule };

const SCHEDULES = new Registry<ScheduleClass>('schedule');
for (const cls of [ExponentialDecay, InverseTimeDecay, PiecewiseConstantDecay, PolynomialDecay, CosineDecay, CosineDecayRestarts]) {
  SCHEDULES.register(cls);
}

/** `{className, config}` for an optimizer's config. */
export function serializeSchedule(schedule: LearningRateSchedule): SerializedSchedule {
  return serialize(schedule);
}

/** Rebuilds a built-in schedule from `{className, config}`. */
export function deserializeSchedule(serialized: SerializedSchedule): LearningRateSchedule {
  const cls = SCHEDULES.getClass(serialized?.className);
  if (!cls) fail('deserializeSchedule', `unknown schedule ${JSON.stringify(serialized?.className)}; known: ${SCHEDULES.classNames().join(', ')}`);
  return cls.fromConfig(serialized.config ?? {});
}
