/**
 * Bad input: an unbuilt model, a layer with no mapping, an opset too old for a layer or out of
 * range, a function that cannot be traced. Each fails with a message naming what and why.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { ENGINE, type Primitive } from '../../src/engine.js';
import { scatterAdd } from '../../src/ops/gather.js';
import { toModelProto } from '../../onnx/index.js';
import { reshapeTarget } from '../../onnx/primitives.js';
import { expectParity, reportErrors } from './harness.js';

const L = kiln.layers;

/** A primitive no backend has and the exporter has no row for. */
const FFT: Primitive = { name: 'fft', infer: ([x]) => ({ shape: x.shape, dtype: x.dtype }), run: () => undefined };

class Spectral extends kiln.Layer {
  static readonly className = 'Spectral';
  call(x: kiln.Tensor): kiln.Tensor {
    return ENGINE.run(FFT, [kiln.ops.multiply(x, 2)], undefined);
  }
}

/** Sums features into 2 buckets with scatterAdd, whose ONNX form (ScatterElements with a reduction) needs opset 16. */
class Buckets extends kiln.Layer {
  static readonly className = 'Buckets';
  call(x: kiln.Tensor): kiln.Tensor {
    return scatterAdd(x, kiln.tensor([0, 1, 1, 0], [4], 'int32'), 1, 2);
  }
}

const model = (layer: kiln.Layer, shape: number[] = [4]) => {
  const x = kiln.Input({ shape });
  return new kiln.Model({ inputs: x, outputs: layer.apply(x) as never });
};

describe('ONNX export errors', () => {
  beforeAll(() => kiln.setBackend('reference'));
  afterAll(reportErrors);

  it('an unbuilt model', async () => {
    const seq = new kiln.Sequential([new L.Dense(2)], { name: 'unbuilt' });
    await expect(toModelProto(seq)).rejects.toThrow(/model 'unbuilt' is not built: give it an Input/);
    await expect(seq.export('/tmp/never.onnx')).rejects.toThrow(/not built/);
  });

  it('a layer with no mapping names the layer, its class and the op', async () => {
    await expect(toModelProto(model(new Spectral({ name: 'spec' })))).rejects.toThrow("onnx export: layer 'spec' (Spectral): the op 'fft' has no ONNX mapping");
  });

  it('an opset too old for a layer, and opsets out of range', async () => {
    const m = model(new Buckets({ name: 'buckets' }));
    await expect(toModelProto(m, { opset: 15 })).rejects.toThrow(/layer 'buckets' \(Buckets\): the op 'scatterAdd' \(ScatterElements .*\) needs opset 16 or newer; this export targets opset 15/);
    await expectParity(m, { label: 'scatterAdd (opset 16)', opset: 16 });
    await expect(toModelProto(m, { opset: 12 })).rejects.toThrow(/opset must be an integer from 13 to 26/);
    await expect(toModelProto(m, { opset: 27 })).rejects.toThrow(/opset must be an integer from 13 to 26/);
  });

  it('a function that cannot run on symbolic tensors', async () => {
    const reads = new L.Lambda((x) => kiln.ops.multiply(x, x.dataSync()[0]), { outputShape: [4], name: 'reads' });
    await expect(toModelProto(model(reads))).rejects.toThrow(/layer 'reads' \(Lambda\) has no ONNX mapping of its own, and its call\(\) cannot run on symbolic tensors/);
  });

  it('a subclassed model needs wrapping', async () => {
    class Sub extends kiln.Model {
      override call(x: kiln.Tensor | kiln.Tensor[]): kiln.Tensor {
        return x as kiln.Tensor;
      }
    }
    const m = new Sub({ name: 'sub' });
    m.apply(kiln.zeros([1, 2]));
    await expect(toModelProto(m)).rejects.toThrow(/model 'sub' is subclassed.*wrap it in a Functional model/);
  });

  it('leaks no tensors, exported or failed', async () => {
    const x = kiln.Input({ shape: [4] });
    const ok = new kiln.Model({ inputs: x, outputs: new L.Lambda((t) => kiln.ops.add(kiln.ops.multiply(t, 3), 1)).apply(x) as never });
    const failing = model(new Spectral());
    const before = kiln.memory().numTensors;
    await toModelProto(ok);
    await toModelProto(failing).catch(() => undefined);
    expect(kiln.memory().numTensors).toBe(before);
  });
});

describe('reshape targets with run-time dimensions', () => {
  // 0 copies the input's dim, -1 is inferred; an unknown in both is the same size only where the
  // rest of the shape holds the same elements
  it('copies leading unknowns only where the rest of the shape keeps its size', () => {
    expect(reshapeTarget([null, 7, 7, 64], [null, 3136], 'r')).toEqual([0, 3136]);
    expect(reshapeTarget([null, null, 8], [null, null, 2, 4], 'r')).toEqual([0, 0, 2, 4]);
    // batch and time merged: N·T is not N
    expect(reshapeTarget([null, null, 8], [null, 8], 'r')).toEqual([-1, 8]);
    // a repeat along the unknown axis: [N, 2, 3] to [2N, 3]
    expect(reshapeTarget([null, 2, 3], [null, 3], 'r')).toEqual([-1, 3]);
    expect(() => reshapeTarget([null, null, 2, 3], [null, null, 3], 'r')).toThrow(/has 2 dimensions only known at run time/);
  });

  it('a repeat along the batch axis and back exports what kiln computes', async () => {
    const x = kiln.Input({ shape: [3] });
    const y = new L.Lambda((t: kiln.Tensor) => kiln.ops.reshape(kiln.ops.repeat(t, 2, 0), [-1, 6])).apply(x) as kiln.SymbolicTensor;
    await expectParity(new kiln.Model({ inputs: x, outputs: y }), { label: 'repeat then reshape', batches: [1, 4] });
  });
});
