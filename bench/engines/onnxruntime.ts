/**
 * onnxruntime-node (CPU) running models that kiln itself exported: the inference peer, and a
 * MatMul peer through a bias-free Dense layer (its export is one MatMul node).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import * as kiln from 'kiln';
import { randomInput } from '../data.js';
import { buildModel, weightsOf } from './kiln.js';
import { inputShape, Missing, type Arch, type JsEngine, type Runner } from './engine.js';

type Exportable = kiln.Model & { export?: (path: string, options: { format: 'onnx' }) => Promise<unknown> };

export async function onnxruntimeEngine(threads: number): Promise<JsEngine> {
  // the exported graph does not depend on the backend that built it; reference is always there
  await kiln.setBackend('reference');
  const dir = mkdtempSync(join(tmpdir(), 'kiln-bench-onnx-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const options: ort.InferenceSession.SessionOptions = {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
  let files = 0;

  /** Exports `model` with kiln's exporter and opens it; Missing says why where it cannot. */
  async function session(model: Exportable): Promise<ort.InferenceSession> {
    if (typeof model.export !== 'function') throw new Missing('kiln has no model.export yet');
    const path = join(dir, `model-${files++}.onnx`);
    try {
      await model.export(path, { format: 'onnx' });
    } catch (err) {
      throw new Missing(`kiln's ONNX export failed: ${(err as Error).message.split('\n')[0]}`);
    }
    return ort.InferenceSession.create(path, options);
  }

  /**
   * Runs the exported `model` on a random input of `shape`. Its result is checked against the kiln
   * model's weights: as the product X·kernel for W1 (`gemm`), as the model for W4.
   */
  function runner(s: ort.InferenceSession, model: Exportable, shape: number[], gemm: boolean): Runner {
    const input = randomInput(shape.reduce((p, d) => p * d, 1));
    const feeds = { [s.inputNames[0]]: new ort.Tensor('float32', input, shape) };
    const run = async (): Promise<Float32Array> => {
      const out = await s.run(feeds);
      return (await out[s.outputNames[0]].getData()) as Float32Array;
    };
    return {
      call: run,
      computed: async () => {
        const output = await run();
        const weights = await weightsOf(model);
        return gemm ? { output, inputs: [input, weights[0]] } : { output, inputs: [input], weights };
      },
      dispose: async () => {
        await s.release();
        model.dispose();
      },
    };
  }

  return {
    name: 'onnxruntime',
    threads,
    info: `onnxruntime-node ${ort.env.versions.common}, CPU EP, intraOp ${threads}, graph optimizations all`,

    async matmul(n: number): Promise<Runner> {
      const model: Exportable = new kiln.Sequential([kiln.Input({ shape: [n] }), new kiln.layers.Dense(n, { useBias: false })]);
      const s = await session(model);
      return runner(s, model, [n, n], true);
    },

    async train(): Promise<never> {
      throw new Missing('inference only');
    },

    async trainSequences(): Promise<never> {
      throw new Missing('inference only');
    },

    async predictor(arch: Arch, batch: number): Promise<Runner> {
      // random biases and statistics, as kiln's own W4 model (bench/engines/kiln.ts)
      const model: Exportable = buildModel(arch, 'random');
      const s = await session(model);
      return runner(s, model, [batch, ...inputShape(arch)], false);
    },
  };
}
