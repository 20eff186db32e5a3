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
