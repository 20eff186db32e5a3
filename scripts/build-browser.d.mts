// Types for build-browser.mjs, which stays plain JavaScript like the other build scripts.
import type { BuildOptions, BuildResult } from 'esbuild';

/** The repository root. */
export const ROOT: string;
/** esbuild's options for bundling `entry` for browsers with kiln's browser entry; `extra` overrides. */
export function browserOptions(entry: string, outfile: string, extra?: BuildOptions): BuildOptions;
/** Bundles `entry` to `outfile`; rejects with the failed imports, a Node builtin's explained. */
export function bundle(entry: string, outfile: string, extra?: BuildOptions): Promise<BuildResult<{ metafile: true }>>;
/** Builds dist/browser/kiln.js (minified, with its source map). */
export function buildBrowser(): Promise<{ outfile: string; bytes: number }>;
