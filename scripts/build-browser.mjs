#!/usr/bin/env node
// kiln's browser bundle: browser.ts bundled by esbuild into dist/browser/kiln.js, one ES module.
// `npm run build:browser` runs it; examples/browser/serve.ts bundles the demo page with the same
// options, so the page runs exactly what a user of the bundle gets.
//
// How Node stays out: esbuild bundles for `platform: 'browser'`, where a `node:` import is an
// error, not a silent shim, so any Node builtin that reaches the bundle fails the build. The
// modules on the way that need Node each have a `.browser.ts` sibling, and one rule here takes
// the sibling in their place (the convention of package.json's "browser" field, per file, and
// visible in `ls`): backends/native/index.browser.ts lists the native backend as unavailable, so
// the registry (src/backends.ts) stays one list; models/log-file, src/version and the facade
// targets of Model.save/loadWeights/export say what a page cannot do. The `webgpu` package is
// external: the webgpu backend imports it only on the Node path, where navigator.gpu is absent.
import * as esbuild from 'esbuild';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;

/** Takes `x.browser.ts` in place of the `x.ts` a relative `./x.js` import names, where the sibling exists. */
const browserSiblings = {
  name: 'kiln-browser-siblings',
  setup(build) {
    build.onResolve({ filter: /^\.\.?\/.*\.js$/ }, (args) => {
      const sibling = resolve(args.resolveDir, args.path.replace(/\.js$/, '.browser.ts'));
      if (relative(ROOT, sibling).startsWith('..') || sibling.includes('/node_modules/')) return undefined;
      return existsSync(sibling) ? { path: sibling } : undefined;
    });
  },
};

/**
 * The esbuild options shared by the library bundle and the demo: `entry` bundled for browsers,
 * with `kiln` resolving to browser.ts (as an app's bundler would resolve the package).
 */
export function browserOptions(entry, outfile, extra = {}) {
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    external: ['webgpu'],
    alias: { kiln: join(ROOT, 'browser.ts') },
    plugins: [browserSiblings],
    define: { KILN_VERSION: JSON.stringify(VERSION) },
    inject: [join(ROOT, 'scripts', 'browser-process.mjs')],
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'silent',
    ...extra,
  };
}

/**
 * Bundles `entry` to `outfile`; rejects with esbuild's messages (file, line and what could not be
 * resolved), each `node:` one explained, when the build fails.
 */
export async function bundle(entry, outfile, extra = {}) {
  try {
    return await esbuild.build(browserOptions(entry, outfile, extra));
  } catch (e) {
    if (!Array.isArray(e.errors)) throw e;
    const lines = e.errors.map((m) => {
      const where = m.location ? `${relative(ROOT, resolve(ROOT, m.location.file))}:${m.location.line}: ` : '';
      const builtin = /"(node:[\w/]+|fs|path|os|module|url|crypto|zlib|child_process|worker_threads|stream|util|buffer)"/.exec(m.text);
      const why = builtin
        ? `\n  a Node builtin (${builtin[1]}) reached the browser bundle: keep that module out of browser.ts's imports, or give it a .browser.ts sibling`
        : '';
      return `${where}${m.text}${why}`;
    });
    throw new Error(`browser build of ${relative(ROOT, entry)} failed:\n${lines.join('\n')}`);
  }
}

/** Builds dist/browser/kiln.js and returns its size in bytes. */
export async function buildBrowser() {
  const outfile = join(ROOT, 'dist', 'browser', 'kiln.js');
  await bundle(join(ROOT, 'browser.ts'), outfile, { minify: true });
  return { outfile, bytes: statSync(outfile).size };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    const { outfile, bytes } = await buildBrowser();
    console.log(`${relative(process.cwd(), outfile)}: ${(bytes / 1024).toFixed(0)} KiB`);
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}
