/** Per-prefix counters for Keras-style automatic names: dense, dense_1, dense_2, … */
const counters = new Map<string, number>();

export function uniqueName(prefix: string): string {
  const n = counters.get(prefix) ?? 0;
  counters.set(prefix, n + 1);
  return n === 0 ? prefix : `${prefix}_${n}`;
}

/** Resets the automatic names (keras.backend.clear_session). */
export function resetNames(): void {
  counters.clear();
}

/** Keras's to_snake_case: Conv2D → conv2d, MaxPooling2D → max_pooling2d, LeakyReLU → leaky_re_lu. */
export function snakeCase(name: string): string {
  return name.replace(/\W+/g, '').replace(/(.)([A-Z][a-z]+)/g, '$1_$2').replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase();
}
