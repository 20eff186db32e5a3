import { fail } from '../src/errors.js';
import type * as node from './log-file.js';

/** log-file.ts in the browser bundle (browser.ts): a page has no files to append to. */
export const appendFile: typeof node.appendFile = async () =>
  fail('JsonLogger', 'a path needs a file system, which kiln\'s browser bundle has not; give a stream ({ write(text) }) instead');
