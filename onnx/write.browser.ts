import { fail } from '../src/errors.js';
import type * as node from './write.js';

/**
 * write.ts in the browser bundle (browser.ts): the exporter writes its file through Node's file
 * system and checks it with onnxruntime-node, neither of which a page has, so Model.export says
 * so instead of failing to load a module.
 */
export const exportModel: typeof node.exportModel = async () =>
  fail('Model.export', 'kiln\'s browser bundle cannot write or verify an ONNX file; export models from Node');
