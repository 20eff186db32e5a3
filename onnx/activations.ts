/**
 * Activations by their Keras ids (as layers save them), each one row: the ONNX op, and a
 * decomposition where the target opset lacks the op.
 */
import type { DType } from '../backends/contract.js';
import { serializeActivation, type ActivationFn } from '../src/activations.js';
import type { GraphBuilder } from './builder.js';
import { float, int } from './proto.js';

type Emit = (b: GraphBuilder, x: string, dtype: DType) => string;

export interface ActivationRow {
  /** The ONNX ops it becomes (for the docs table). */
  ops: string;
  emit: Emit;
}

const SELU_ALPHA = 1.6732632423543772848170429916717;
const SELU_SCALE = 1.0507009873554804934193349852946;

const unary = (opType: string): Emit => (b, x) => b.op(opType, [x]);
const mul = (b: GraphBuilder, x: string, dtype: DType, k: number) => b.op('Mul', [x, b.scalar(dtype, k)]);

/** 0.5·x·(1 + erf(x/√2)), keras.activations.gelu's exact form; the Gelu op arrived in opset 20. */
const gelu: Emit = (b, x, dtype) => {
  if (b.opset >= 20) return b.op('Gelu', [x]);
  const inner = b.op('Add', [b.op('Erf', [mul(b, x, dtype, Math.SQRT1_2)]), b.scalar(dtype, 1)]);
  return b.op('Mul', [mul(b, x, dtype, 0.5), inner]);
};

/** x·tanh(softplus(x)); Mish arrived in opset 18. */
const mish: Emit = (b, x) => (b.opset >= 18 ? b.op('Mish', [x]) : b.op('Mul', [x, b.op('Tanh', [b.op('Softplus', [x])])]));

/** Keras 3's relu6(x + 3) / 6 is HardSigmoid with alpha 1/6, beta 1/2. */
const hardSigmoid: Emit = (b, x) => b.op('HardSigmoid', [x], { alpha: float(1 / 6), beta: float(0.5) });

export const ACTIVATIONS: Record<string, ActivationRow> = {
  linear: { ops: '(none)', emit: (_, x) => x },
  relu: { ops: 'Relu', emit: unary('Relu') },
  relu6: { ops: 'Clip', emit: (b, x, dtype) => b.op('Clip', [x, b.scalar(dtype, 0), b.scalar(dtype, 6)]) },
  leaky_relu: { ops: 'LeakyRelu', emit: (b, x) => b.op('LeakyRelu', [x], { alpha: float(0.2) }) },
  elu: { ops: 'Elu', emit: (b, x) => b.op('Elu', [x], { alpha: float(1) }) },
  selu: { ops: 'Selu', emit: (b, x) => b.op('Selu', [x], { alpha: float(SELU_ALPHA), gamma: float(SELU_SCALE) }) },
  gelu: { ops: 'Gelu (opset ≥ 20), else Erf, Mul, Add', emit: gelu },
  silu: { ops: 'Sigmoid, Mul', emit: (b, x) => b.op('Mul', [x, b.op('Sigmoid', [x])]) },
  sigmoid: { ops: 'Sigmoid', emit: unary('Sigmoid') },
  hard_sigmoid: { ops: 'HardSigmoid', emit: hardSigmoid },
  hard_silu: {
    ops: 'HardSwish (opset ≥ 14), else HardSigmoid, Mul',
    emit: (b, x, dtype) => (b.opset >= 14 ? b.op('HardSwish', [x]) : b.op('Mul', [x, hardSigmoid(b, x, dtype)])),
  },
  softplus: { ops: 'Softplus', emit: unary('Softplus') },
  softsign: { ops: 'Softsign', emit: unary('Softsign') },
  softmax: { ops: 'Softmax', emit: (b, x) => b.op('Softmax', [x], { axis: int(-1) }) },
  log_softmax: { ops: 'LogSoftmax', emit: (b, x) => b.op('LogSoftmax', [x], { axis: int(-1) }) },
  tanh: { ops: 'Tanh', emit: unary('Tanh') },
  exponential: { ops: 'Exp', emit: unary('Exp') },
  mish: { ops: 'Mish (opset ≥ 18), else Softplus, Tanh, Mul', emit: mish },
};

/** The row for an activation function, or null for a function of the user's own (traced instead). */
export function activationRow(fn: ActivationFn): ActivationRow | null {
  let id: string;
  try {
    id = serializeActivation(fn);
  } catch {
    return null;
  }
  return ACTIVATIONS[id] ?? null;
}

