import type { FusedActivation } from '../../backends/contract.js';
import { ENGINE, type MultiPrimitive, type Primitive, type Spec } from '../engine.js';
import { isFloat } from '../dtype.js';
import type { Tensor } from '../tensor.js';
import { add } from '../ops/binary.js';
import { matmul } from '../ops/matmul.js';
import { reshape } from '../ops/movement.js';
import { relu, sigmoid } from '../ops/activations.js';
import { tanh } from '../ops/unary.js';
import { composedGrad } from './composed-grad.js';
import { fusedKernel } from './switch.js';

interface DenseAttrs {
  activation: FusedActivation;
  hasBias: boolean;
}

/** The same function from the contract's primitives: what backends without the kernel run. */
function composedDense(x: Tensor, w: Tensor, bias: Tensor | null, activation: FusedActivation): Tensor {
  let y = matmul(x, w);
  if (bias) y = add(y, bias);
  switch (activation) {
    case 'linear': return y;
    case 'relu': return relu(y);
    case 'sigmoid': return sigmoid(y);
    case 'tanh': return tanh(y);
  }
}

interface DenseGradAttrs {
  activation: FusedActivation;
  /** Which of dx, dw, dBias to compute. */
  want: readonly [boolean, boolean, boolean];
}

const DENSE_GRAD: MultiPrimitive<DenseGradAttrs> = {
  name: 'denseGrad',
  infer([, , x, w], { want }) {
    const specs: Spec[] = [];
    if (want[0]) specs.push({ shape: x.shape, dtype: x.dtype });
    if (want[1]) specs.push({ shape: w.shape, dtype: w.dtype });
    if (want[2]) specs.push({ shape: [w.shape[1]], dtype: w.dtype });
    return specs;
  },
  run(backend, [dy, y, x, w], outs, { activation, want }) {
    let k = 0;
    const [dx, dw, dBias] = want.map((wanted) => (wanted ? outs[k++] : null));
    backend.fused!.denseGrad!(dy, y, x, w, activation, dx, dw, dBias);
  },
};

/**
 * act(x · w + bias) as one kernel. Its backward is one kernel too (denseGrad) unless an outer
 * tape records it: then the composition's gradient, which can be differentiated again.
 */
const DENSE: Primitive<DenseAttrs> = {
  name: 'dense',
  infer([x, w]) {
    return { shape: [x.shape[0], w.shape[1]], dtype: x.dtype };
  },
  run(backend, [x, w, bias], out, { activation, hasBias }) {
    backend.fused!.dense!(x, w, hasBias ? bias : null, activation, out);
  },
  grad(dy, inputs, y, { activation, hasBias }, needs) {
    const [x, w] = inputs;
    if (ENGINE.recording || !fusedKernel('denseGrad', inputs)) {
      return composedGrad((a, b, c) => composedDense(a, b, hasBias ? c : null, activation), inputs, dy, needs);
    }
    const want = [needs[0], needs[1], hasBias && needs[2]] as const;
    if (!want.some(Boolean)) return inputs.map(() => null);
    const outs = ENGINE.runMany(DENSE_GRAD, [dy, y, x, w], { activation, want });
    let k = 0;
    return want.map((wanted) => (wanted ? outs[k++] : null)).slice(0, inputs.length);
  },
};

/**
 * act(x · w + bias) over the last axis of x (rank >= 2, last dim = w's first), as Dense computes
 * it: one fused kernel where the backend has it, else matmul, add and the activation. The
 * caller has checked the shapes.
 */
export function dense(x: Tensor, w: Tensor, bias: Tensor | null, activation: FusedActivation): Tensor {
  const floats = isFloat(x.dtype) && w.dtype === x.dtype && (bias === null || bias.dtype === x.dtype);
  if (!floats || x.size === 0 || w.size === 0 || !fusedKernel('dense', [x, w, bias])) {
    return composedDense(x, w, bias, activation);
  }
  const [k, n] = w.shape;
  const rows = x.rank === 2 ? x : reshape(x, [-1, k]);
  const inputs = bias ? [rows, w, bias] : [rows, w];
  const y = ENGINE.run(DENSE, inputs, { activation, hasBias: bias !== null });
  return x.rank === 2 ? y : reshape(y, [...x.shape.slice(0, -1), n]);
}
