/**
 * One registry for everything saved by name: layers, losses, optimizers, schedules, initializers,
 * regularizers, constraints, activations, metrics. A class is saved under the static `className`
 * it declares itself, never its JS name, which minifiers rename; string ids are the other names
 * Keras gives it ('glorot_uniform', 'mse'). Each family keeps its own matching rule (`fold`).
 * @example
 * const SHAPES = new Registry<typeof Shape>('shape', canonical);
 * SHAPES.register(Circle, ['circle']);        // Circle.className is 'Circle'
 * SHAPES.lookup('circle', 'getShape');        // Circle
 * SHAPES.lookup('oval', 'getShape');          // throws "getShape: unknown shape 'oval'; known ids: circle"
 */
import { fail } from './errors.js';

/** The save format of every family: the class's name and its getConfig(). */
export interface Serialized<C = Record<string, unknown>> {
  className: string;
  config: C;
}

/** Keras's tolerant matching: 'glorot_uniform', 'glorotUniform' and 'GlorotUniform' all reduce to 'glorotuniform'. */
export function canonical(name: string): string {
  return name.replace(/_/g, '').toLowerCase();
}

/** Whether `value` is a saved `{ className, config }` (the config may be left out). */
export function isSerialized(value: unknown): value is { className: string; config?: unknown } {
  return value !== null && typeof value === 'object' && typeof (value as { className?: unknown }).className === 'string';
}

/** An instance's save format: its class's name and its getConfig(). */
export function serialize<C>(instance: { readonly className: string; getConfig(): C }): Serialized<C> {
  return { className: instance.className, config: instance.getConfig() };
}

/** The static className `cls` declares itself: an inherited one names the parent, whose entry it would take. */
export function ownClassName(cls: unknown): string | undefined {
  if (typeof cls !== 'function' || !Object.hasOwn(cls, 'className')) return undefined;
  const name: unknown = (cls as { className?: unknown }).className;
  return typeof name === 'string' && name !== '' ? name : undefined;
}

function describeName(name: unknown): string {
  return typeof name === 'string' ? `'${name}'` : (JSON.stringify(name) ?? String(name));
}

/** An entry and the name as it was registered, which the lists in errors show. */
interface Slot<T> {
  entry: T;
  spelled: string;
}

/** Entries of one family by class name and by string id, matched after `fold`. */
export class Registry<T> {
  private readonly byClass = new Map<string, Slot<T>>();
  private readonly byId = new Map<string, Slot<T>>();
  /** The name each entry is saved under: its className, or for a function its first id. */
  private readonly savedAs = new Map<T, string>();

  /**
   * @param kind what the entries are, as errors name them: "unknown initializer 'glorot'".
   * @param fold how a name is reduced before matching; names match exactly when left out.
   */
  constructor(readonly kind: string, private readonly fold: (name: string) => string = (name) => name) {}

  /**
   * Adds a class under its own static className and its string ids. The same class may be
   * registered again; a different class under a taken name is refused.
   */
  register(cls: T, ids: readonly string[] = [], op = `${this.kind} registry`): this {
    const className = ownClassName(cls);
    if (className === undefined) {
      fail(op, `the class ${(cls as { name?: string } | null)?.name ?? String(cls)} needs a static className (the name its configs are saved under)`);
    }
    this.put(cls, [[this.byClass, className], ...ids.map((id) => [this.byId, id] as const)], 'class', op);
    if (!this.savedAs.has(cls)) this.savedAs.set(cls, className);
    return this;
  }

  /** Registers each `[class, ...ids]` row, in order: the order errors list them in. */
  registerAll(rows: readonly (readonly [T, ...string[]])[]): this {
    for (const [cls, ...ids] of rows) this.register(cls, ids);
    return this;
  }

  /** Adds an entry that has no class name (a function) under its string ids; the first is the one saved. */
  add(entry: T, ids: readonly [string, ...string[]], op = `${this.kind} registry`): this {
    this.put(entry, ids.map((id) => [this.byId, id] as const), 'function', op);
    if (!this.savedAs.has(entry)) this.savedAs.set(entry, ids[0]);
    return this;
  }

  private put(entry: T, names: readonly (readonly [Map<string, Slot<T>>, string])[], what: string, op: string): void {
    // checked before anything is set, so a refused registration leaves the registry as it was
    for (const [, name] of names) {
      const key = this.fold(name);
      const taken = this.byClass.get(key) ?? this.byId.get(key);
      if (taken && taken.entry !== entry) fail(op, `a different ${what} is already registered as '${name}'`);
    }
    for (const [map, name] of names) {
      const key = this.fold(name);
      if (!map.has(key)) map.set(key, { entry, spelled: name });
    }
  }

  /** The entry `name` names, as a class name or a string id. */
  get(name: unknown): T | undefined {
    if (typeof name !== 'string') return undefined;
    const key = this.fold(name);
    return (this.byClass.get(key) ?? this.byId.get(key))?.entry;
  }

  /** The class saved as `name`; string ids do not count, as a saved config names its class. */
  getClass(name: unknown): T | undefined {
    return typeof name === 'string' ? this.byClass.get(this.fold(name))?.entry : undefined;
  }

  /** The entry `name` names; fails naming `op` and listing the known names when there is none. */
  lookup(name: unknown, op: string): T {
    const entry = this.get(name);
    if (entry === undefined) fail(op, `unknown ${this.kind} ${describeName(name)}; ${this.known()}`);
    return entry;
  }

  /**
   * A new instance for a string id (the class's defaults) or a saved `{ className, config }`,
   * its config passed through `adapt`; undefined for anything else, which each family words itself.
   */
  create<I>(this: Registry<new (config?: never) => I>, id: unknown, op: string, adapt = (config: object): object => config): I | undefined {
    if (typeof id === 'string') return new (this.lookup(id, op))();
    if (isSerialized(id)) return new (this.lookup(id.className, op))(adapt(id.config ?? {}) as never);
    return undefined;
  }

  /** The name `entry` is saved under, if it is registered. */
  nameOf(entry: T): string | undefined {
    return this.savedAs.get(entry);
  }

  /** The registered class names, in the order registered. */
  classNames(): string[] {
    return [...this.byClass.values()].map((slot) => slot.spelled);
  }

  /** The registered string ids, in the order registered. */
  ids(): string[] {
    return [...this.byId.values()].map((slot) => slot.spelled);
  }

  /** What errors list for an unknown name: the string ids where the family has them (Keras's spelling), else the class names. */
  known(): string {
    return this.byId.size > 0 ? `known ids: ${this.ids().join(', ')}` : `known classes: ${this.classNames().join(', ')}`;
  }
}
