/**
 * kiln.ops: the keras.ops vocabulary in camelCase. Primitive tables (UNARY, REDUCE, …) and
 * internal helpers stay out of it; they are for backends' conformance tests and the exporter.
 */
export {
  neg, negative, abs, sqrt, exp, expm1, log, log1p, sin, cos, tanh, erf, floor, round,
  ceil, sign, square, reciprocal, rsqrt, isnan, isfinite, isinf,
} from './unary.js';
export {
  add, subtract, multiply, divide, power, maximum, minimum, mod, floorDivide,
  equal, notEqual, less, lessEqual, greater, greaterEqual,
  logicalAnd, logicalOr, logicalNot, logicalXor,
} from './binary.js';
export { cast, where } from './select.js';
export {
  sum, mean, max, min, prod, variance, variance as var, std, argmax, argmin, logsumexp, any, all, cumsum,
  type Axis,
} from './reduce.js';
export {
  reshape, transpose, moveaxis, swapaxes, expandDims, squeeze, concatenate, stack, split, slice,
  flip, pad, broadcastTo, tile, repeat,
} from './movement.js';
export { take, takeAlongAxis, oneHot } from './indexing.js';
export { matmul, dot, tensordot } from './matmul.js';
export { einsum } from './einsum.js';
export {
  relu, relu6, leakyRelu, elu, selu, gelu, silu, hardSilu, sigmoid, hardSigmoid, softplus, softsign,
  softmax, logSoftmax,
} from './activations.js';
export { clip, divideNoNan } from './math.js';
export { dotProductAttention, type DotProductAttentionOptions } from './attention.js';
export { stopGradient } from './stop-gradient.js';
export {
  conv, convTranspose, depthwiseConv, separableConv,
  type ConvOptions, type ConvTransposeOptions, type DataFormat, type SpatialInts,
} from './conv.js';
export { maxPool, averagePool, type PoolOptions, type PoolPadding } from './pool.js';
export {
  moments, batchNormalization, layerNormalization, rmsNormalization,
  type MomentsOptions, type BatchNormalizationOptions, type LayerNormalizationOptions, type RmsNormalizationOptions,
} from './normalization.js';
