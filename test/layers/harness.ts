/**
 * runLayerTest: one call checks a layer class end to end, as Keras's run_layer_test does:
 *
 *   runLayerTest(Dense, { args: [4], inputShape: [2, 3], expectedOutputShape: [2, 4],
 *                         expectedWeights: [['kernel', [3, 4]], ['bias', [4]]] });
 *
 * - build creates the expected weights, in Keras's order, with the expected shapes;
 * - the eager output shape is the expected one, computeOutputShape agrees, and so does a
 *   symbolic call with an unknown batch size;
 * - getConfig is plain JSON, the class is registered, and fromConfig gives back the same config
 *   and, after setWeights(getWeights()), the same outputs;
 * - in float64, gradients with respect to the float inputs and trainable weights match
 *   central finite differences.
 */
import { expect } from 'vitest';
import * as kiln from '../../index.js';
import type { Layer, LayerConfig } from '../../layers/index.js';
import { Input, layerFromConfig } from '../../layers/index.js';

type Shape = number[];

export interface LayerTestSpec {
  /** Constructor arguments (the options object last, when there is one). */
  args?: unknown[];
  /** The input shape (batch first), or one per input for merge layers. */
  inputShape: Shape | Shape[];
  expectedOutputShape: Shape;
  /** Weight names (without the layer prefix) and shapes, in getWeights order. */
  expectedWeights?: [string, Shape][];
  expectedTrainableWeights?: number;
  /** Inputs to use instead of normal draws (integer data, say: only float inputs get gradients). */
  inputs?: () => kiln.Tensor | kiln.Tensor[];
  /**
   * The config of the float64 copy the gradients are checked on; by default the layer's own with
   * dtype float64. A wrapper's nested layers keep their own dtype, as in Keras: set theirs here.
   */
  float64Config?: (config: LayerConfig) => LayerConfig;
}

type LayerCtor = { new (...args: any[]): Layer; fromConfig(config: LayerConfig): Layer; className: string };

export function runLayerTest(cls: LayerCtor, spec: LayerTestSpec): void {
  kiln.setSeed(1234);
  const multi = Array.isArray(spec.inputShape[0]);
  const shapes = (multi ? spec.inputShape : [spec.inputShape]) as Shape[];
  const xs = spec.inputs ? [spec.inputs()].flat() : shapes.map((s) => kiln.random.normal(s));
  const input = multi ? xs : xs[0];

  // build and weights
  const layer = new cls(...(spec.args ?? []));
  expect(layer.className).toBe(cls.className);
  const y = layer.apply(input) as kiln.Tensor;
  expect(layer.built).toBe(true);
  const weights = layer.getWeights();
  expect(orderedNames(layer).map((n, i) => [n, [...weights[i].shape]])).toEqual(spec.expectedWeights ?? []);
  if (spec.expectedTrainableWeights !== undefined) expect(layer.trainableWeights.length).toBe(spec.expectedTrainableWeights);

  // shapes: eager, computeOutputShape, symbolic with an unknown batch
  expect([...y.shape]).toEqual(spec.expectedOutputShape);
  expect(layer.computeOutputShape(multi ? shapes : shapes[0])).toEqual(spec.expectedOutputShape);
  const symbolicInputs = shapes.map((s) => Input({ batchShape: [null, ...s.slice(1)] }));
  const sym = new cls(...(spec.args ?? [])).apply(multi ? (symbolicInputs as never) : (symbolicInputs[0] as never)) as unknown as kiln.SymbolicTensor;
  expect(sym).toBeInstanceOf(kiln.SymbolicTensor);
  expect([...sym.shape]).toEqual([null, ...spec.expectedOutputShape.slice(1)]);

  // config round trip
  const config = layer.getConfig();
  expect(JSON.parse(JSON.stringify(config))).toEqual(config);
  const clone = layerFromConfig({ className: cls.className, config: JSON.parse(JSON.stringify(config)) });
  expect(clone).toBeInstanceOf(cls);
  expect(clone.getConfig()).toEqual(config);
  clone.apply(input);
  clone.setWeights(layer.getWeights());
  expect(values(clone.apply(input) as kiln.Tensor)).toEqual(values(y));

  checkGradients(cls, spec.float64Config ? spec.float64Config(JSON.parse(JSON.stringify(config))) : config, layer, xs, multi);
}

/** Weight names without the `layer/` prefix, in getWeights order (views share the variables' buffers). */
function orderedNames(layer: Layer): string[] {
  return layer.getWeights().map((w) => layer.weights.find((v) => v.value.dataHandle() === w.dataHandle())!.name.split('/').pop()!);
}

function values(t: kiln.Tensor): number[] {
  return Array.from(t.dataSync());
}

/**
 * Gradients of sum(y · r), r a fixed random tensor, with respect to every float input and
 * trainable weight of a float64 copy of the layer, against central differences.
 */
function checkGradients(cls: LayerCtor, config: LayerConfig, layer: Layer, xs: kiln.Tensor[], multi: boolean): void {
  const f64 = cls.fromConfig({ ...JSON.parse(JSON.stringify(config)), dtype: 'float64', name: `${config.name}_f64` });
  const x64 = xs.map((x) => (x.dtype === 'float32' ? kiln.ops.cast(x, 'float64') : x));
  const run = (inputs: kiln.Tensor[]): kiln.Tensor => f64.apply(multi ? inputs : inputs[0]) as kiln.Tensor;
  const y0 = run(x64);
  f64.setWeights(layer.getWeights().map((w, i) => kiln.ops.cast(w, f64.getWeights()[i].dtype)));
  const r = kiln.random.normal([...y0.shape], { dtype: 'float64', seed: 7 });
  const loss = (inputs: kiln.Tensor[]): number => kiln.tidy(() => kiln.ops.sum(kiln.ops.multiply(run(inputs), r)).dataSync()[0]);

  const tape = new kiln.GradientTape();
  const value = tape.record(() => kiln.ops.sum(kiln.ops.multiply(run(x64), r)));
  const sources = [...x64.filter((x) => x.dtype === 'float64'), ...f64.trainableWeights];
  const grads = tape.gradient(value, sources);

  const eps = 1e-6;
  sources.forEach((source, k) => {
    const base = Float64Array.from((source instanceof kiln.Variable ? source.value : source).dataSync());
    const analytic = grads[k] ? values(grads[k]!) : new Array<number>(base.length).fill(0);
    // a spread of elements keeps big tensors quick to check
    const step = Math.max(1, Math.floor(base.length / 24));
    for (let i = 0; i < base.length; i += step) {
      const at = (delta: number): number => {
        const data = Float64Array.from(base);
        data[i] += delta;
        const t = kiln.tensor(data, [...source.shape], 'float64');
        if (source instanceof kiln.Variable) {
          source.assign(t);
          return loss(x64);
        }
        return loss(x64.map((x) => (x === source ? t : x)));
      };
      const numeric = (at(eps) - at(-eps)) / (2 * eps);
      if (source instanceof kiln.Variable) source.assign(kiln.tensor(base, [...source.shape], 'float64'));
      expect(Math.abs(analytic[i] - numeric), `d/d ${source instanceof kiln.Variable ? source.name : `input ${k}`}[${i}]: analytic ${analytic[i]}, numeric ${numeric}`)
        .toBeLessThanOrEqual(1e-6 + 1e-5 * Math.abs(numeric));
    }
  });
}
