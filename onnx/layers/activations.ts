/** Rows of layers/activations/: each layer's ONNX op, its options read from the layer. */
import { Activation } from '../../layers/activations/activation.js';
import { ELU } from '../../layers/activations/elu.js';
import { LeakyReLU } from '../../layers/activations/leaky-relu.js';
import { PReLU } from '../../layers/activations/prelu.js';
import { ReLU } from '../../layers/activations/relu.js';
import { Softmax } from '../../layers/activations/softmax.js';
import { float, int } from '../proto.js';
import { activate, row, type RowEntry } from './row.js';

export const ACTIVATION_ROWS: readonly RowEntry[] = [
  row(Activation, 'the activation\'s op (see the activations table)', (args) => {
    const [x] = args.inputs;
    return [activate(args, x.name, args.layer.activation, x.dtype)];
  }),
  // ReLU.call's formula in ONNX nodes; the plain and capped rectifiers have an op of their own
  row(ReLU, 'Relu, or Clip; Greater, Where, Min, Sub, Mul for a threshold or slope', ({ b, layer, inputs: [x] }) => {
    const { maxValue, negativeSlope, threshold } = layer;
    const k = (v: number) => b.scalar(x.dtype, v);
    if (threshold === 0 && negativeSlope === 0) return [maxValue === null ? b.op('Relu', [x.name]) : b.op('Clip', [x.name, k(0), k(maxValue)])];
    let y = threshold === 0 ? b.op('Relu', [x.name]) : b.op('Where', [b.op('Greater', [x.name, k(threshold)]), x.name, k(0)]);
    if (maxValue !== null) y = b.op('Min', [y, k(maxValue)]);
    if (negativeSlope !== 0) y = b.op('Sub', [y, b.op('Mul', [b.op('Relu', [b.op('Sub', [k(threshold), x.name])]), k(negativeSlope)])]);
    return [y];
  }),
  row(LeakyReLU, 'LeakyRelu', ({ b, layer, inputs: [x] }) => [b.op('LeakyRelu', [x.name], { alpha: float(layer.negativeSlope) })]),
  row(PReLU, 'PRelu', ({ b, layer, inputs: [x] }) => [b.op('PRelu', [x.name, b.weight(layer.alpha!)])]),
  row(ELU, 'Elu', ({ b, layer, inputs: [x] }) => [b.op('Elu', [x.name], { alpha: float(layer.alpha) })]),
  row(Softmax, 'Softmax (one axis); ReduceMax, Sub, Exp, ReduceSum, Div (several)', ({ b, layer, inputs: [x] }) => {
    const rank = x.shape.length;
    const axes = (typeof layer.axis === 'number' ? [layer.axis] : layer.axis).map((a) => (a < 0 ? a + rank : a)).sort((p, q) => p - q);
    if (axes.length === 1) return [b.op('Softmax', [x.name], { axis: int(axes[0]) })];
    const e = b.op('Exp', [b.op('Sub', [x.name, b.reduce('ReduceMax', x.name, axes, true)])]);
    return [b.op('Div', [e, b.reduce('ReduceSum', e, axes, true)])];
  }),
];
