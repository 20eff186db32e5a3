/** kiln.io: arrays in other libraries' file formats. */
export { readNpy, writeNpy, parseNpy, encodeNpy } from './npy.js';
export { readIdx, parseIdx, idxToTensor, type IdxArray, type IdxData, type IdxType } from './idx.js';
