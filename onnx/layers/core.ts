/** Rows of layers/core/: Input and Identity pass through, Dense is one Gemm or MatMul, Lambda is traced. */
import { Dense } from '../../layers/core/dense.js';
import { Identity } from '../../layers/core/identity.js';
import { InputLayer } from '../../layers/core/input.js';
import { Lambda } from '../../layers/core/lambda.js';
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
];
