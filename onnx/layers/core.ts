/**
 * Rows of layers/core/: Input and Identity pass through, Dense is one Gemm or MatMul, Embedding a
 * Gather, Masking a Where, Lambda is traced. The masks Embedding and Masking give are no outputs
 * here: export.ts writes them where a later layer reads them.
 */
import { Dense } from '../../layers/core/dense.js';
import { Embedding } from '../../layers/core/embedding.js';
import { Identity } from '../../layers/core/identity.js';
import { InputLayer } from '../../layers/core/input.js';
import { Lambda } from '../../layers/core/lambda.js';
import { Masking } from '../../layers/core/masking.js';
import { elemType, int } from '../proto.js';
import { activate, passThrough, row, traced, type RowEntry } from './row.js';

export const CORE_ROWS: readonly RowEntry[] = [
  passThrough(InputLayer),
  row(Dense, 'Gemm (rank-2 input) or MatMul, Add; then the activation', (args) => {
    const { b, layer, inputs: [x] } = args;
    const kernel = b.weight(layer.kernel!);
    const bias = layer.bias ? b.weight(layer.bias) : null;
    let y: string;
    if (x.shape.length === 2) y = b.op('Gemm', bias ? [x.name, kernel, bias] : [x.name, kernel]);
    else {
      y = b.op('MatMul', [x.name, kernel]);
      if (bias) y = b.op('Add', [y, bias]);
    }
    return [activate(args, y, layer.activation, x.dtype)];
  }),
  passThrough(Identity),
  traced(Lambda, 'its function\'s primitives (traced)'),
  // ONNX's Cast truncates toward zero, as kiln's cast of float indices does
  row(Embedding, 'Gather (a Cast to int32 first for other input dtypes)', ({ b, layer, inputs: [x] }) => {
    const indices = x.dtype === 'int32' ? x.name : b.op('Cast', [x.name], { to: int(elemType('int32')) });
    return [b.op('Gather', [b.weight(layer.embeddings!), indices], { axis: int(0) })];
  }),
  row(Masking, 'Equal, Not, Cast, ReduceMax, Where', ({ b, layer, inputs: [x] }) => {
    // an integer input meets a fractional maskValue nowhere, as kiln compares them in float32
    const exact = x.dtype !== 'int32' || Number.isInteger(layer.maskValue);
    const lhs = exact ? x.name : b.op('Cast', [x.name], { to: int(elemType('float32')) });
    const differs = b.op('Not', [b.op('Equal', [lhs, b.scalar(exact ? x.dtype : 'float32', layer.maskValue, 'mask_value')])]);
    // any() over the features as a max of 0/1: ReduceMax takes no bools
    const any = b.reduce('ReduceMax', b.op('Cast', [differs], { to: int(elemType('int32')) }), [x.shape.length - 1], true);
    const keep = b.op('Cast', [any], { to: int(elemType('bool')) });
    return [b.op('Where', [keep, x.name, b.scalar(x.dtype, 0, 'zero')])];
  }),
];
