import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fail } from '../../src/errors.js';

export interface ChartLibrary {
  version: string;
  license: string;
  js: string;
  css: string;
}

/**
 * uPlot's script, style sheet and license, read from the installed package each time a report is
 * written, so the report carries them and opens with no network. uPlot is MIT licensed: copies
 * may be redistributed with its copyright and permission notice, which the report includes.
 */
export async function chartLibrary(op: string): Promise<ChartLibrary> {
  let root: string;
  try {
    root = dirname(createRequire(import.meta.url).resolve('uplot/package.json'));
  } catch {
    return fail(op, 'the uplot package is not installed (it draws the report\'s charts): run npm install');
  }
  const [pkg, license, js, css] = await Promise.all(['package.json', 'LICENSE', 'dist/uPlot.iife.min.js', 'dist/uPlot.min.css'].map((f) => readFile(join(root, f), 'utf8')));
  // inlined text must not end its own element, and the license sits in an HTML comment
  if (/<\/script/i.test(js) || /<\/style/i.test(css) || license.includes('--')) fail(op, `uplot's files at ${root} cannot be inlined as they are (a closing tag or "--" in them)`);
  return { version: (JSON.parse(pkg) as { version: string }).version, license, js, css };
}
