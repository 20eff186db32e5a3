/** Every error kiln raises for bad input: `op: what was expected, what was received`. */
export class KilnError extends Error {
  constructor(readonly op: string, message: string) {
    super(`${op}: ${message}`);
    this.name = 'KilnError';
  }
}

export function fail(op: string, message: string): never {
  throw new KilnError(op, message);
}

export function fmtShape(shape: readonly (number | null)[]): string {
  return `[${shape.map((d) => (d === null ? 'null' : d)).join(',')}]`;
}
