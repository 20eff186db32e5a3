import { fail } from '../src/errors.js';
import type * as node from './save.js';

/**
 * save.ts in the browser bundle (browser.ts): a `.kiln` file is written through Node's file
 * system, which a page has not, so Model.save and Model.saveWeights say so instead of failing
 * to load a module.
 */
const NO_FILES = 'kiln\'s browser bundle has no file system to write a .kiln file to; save models from Node';

export const saveModel: typeof node.saveModel = async () => fail('Model.save', NO_FILES);

export const saveWeights: typeof node.saveWeights = async () => fail('Model.saveWeights', NO_FILES);
