// Types for check-structure.mjs, which stays plain JavaScript so that it runs before any build.

export interface StructureFailure {
  /** Repository-relative path, '/'-separated. */
  file: string;
  /** The import's line, or the file's length for the size rule. */
  line: number;
  /** The specifier as written, or null for the size rule. */
  import: string | null;
  rule: string;
  fix: string;
}

export interface StructureResult {
  ok: boolean;
  failures: StructureFailure[];
  /** 'from → to' for each pair of top-level folders whose imports run against the floor order. */
  upward: string[];
  /** File-level import cycles inside a single top-level folder, each a sorted list of files. */
  fileCycles: string[][];
  /** What the command prints. */
  report: string;
}

export const MAX_LINES: number;
export const FLOORS: Record<string, readonly string[] | '*'>;
export const FACADES: readonly { from: string; to: string; why: string }[];
export function checkStructure(root: string): StructureResult;
