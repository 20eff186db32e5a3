/** What every command shares: the global options and how results are printed. */

/** The options main.ts defines for every command. */
export interface GlobalArgs {
  backend?: string;
  seed?: number;
  verbose: boolean;
}

/** Logs as Keras prints them: `loss: 0.3012 - accuracy: 0.9120`. */
export function formatLogs(logs: Record<string, number>): string {
  return Object.entries(logs)
    .map(([k, v]) => `${k}: ${Math.abs(v) >= 1e-3 || v === 0 ? v.toFixed(4) : v.toExponential(4)}`)
    .join(' - ');
}

/** A comma-separated list of CSV column names (`--columns a,b`). */
export function columnList(text: string | undefined): string[] | undefined {
  return text === undefined ? undefined : text.split(',').map((s) => s.trim()).filter((s) => s !== '');
}
