import { fail } from '../src/errors.js';
import type * as node from './load.js';

/**
 * load.ts in the browser bundle (browser.ts): a `.kiln` file is read through Node's file system,
 * which a page has not, so Model.loadWeights says so instead of failing to load a module.
 */
export const loadWeights: typeof node.loadWeights = async () =>
  fail('Model.loadWeights', 'kiln\'s browser bundle has no file system to read a .kiln file from; load weights in Node');
