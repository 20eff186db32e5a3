/**
 * ONNX export: a small model's config mutated, rebuilt and exported, first unverified, then
 * verified against kiln's own predict through onnxruntime. An unverified export that the
 * verified one then finds different from kiln's predict wrote a model that computes something
 * else: a silent difference.
 */
import { join } from 'node:path';
import * as kiln from '../../index.js';
import { KilnError } from '../../src/errors.js';
import { modelFromConfig, modelToConfig } from '../../models/serialize.js';
import { jsonPaths, mutateJson } from './mutate.js';
import { ACCEPTED, type Target } from './target.js';

type Config = ReturnType<typeof modelToConfig>;

function models(): kiln.Model[] {
  const dense = new kiln.Sequential([kiln.Input({ shape: [6] }), new kiln.layers.Dense(4, { activation: 'relu' }), new kiln.layers.Dropout(0.5), new kiln.layers.Dense(3, { activation: 'softmax' })]);
  const input = kiln.Input({ shape: [5, 5, 2] });
  const conv = new kiln.layers.Conv2D(3, 3, { padding: 'same', activation: 'tanh' }).apply(input) as kiln.SymbolicTensor;
  const pooled = new kiln.layers.MaxPooling2D(2).apply(conv) as kiln.SymbolicTensor;
  const flat = new kiln.layers.Flatten().apply(pooled) as kiln.SymbolicTensor;
  const functional = new kiln.Model({ inputs: input, outputs: new kiln.layers.Dense(2).apply(flat) as kiln.SymbolicTensor });
  return [dense, functional];
}

export const onnxExport: Target<Config[]> = {
  async setup() {
    return models().map((m) => {
      const config = modelToConfig(m);
      m.dispose();
      return config;
    });
  },
  make(base, rng, dir) {
    const config = structuredClone(rng.pick(base));
    // paths are drawn afresh for each edit: the one before may have deleted a branch
    const layerPaths = () => jsonPaths(config).filter((p) => p.includes('layers') && p.length > 3);
    const edits = Array.from({ length: 1 + rng.int(2) }, () => mutateJson(rng, config, rng.chance(0.8) ? layerPaths() : undefined));
    return {
      what: edits.join('; '),
      async run() {
        kiln.setSeed(13);
        const model = modelFromConfig(config as never);
        try {
          const path = join(dir, 'case.onnx');
          await model.export(path, { format: 'onnx', verify: false });
          try {
            await model.export(path, { format: 'onnx', verify: true });
          } catch (err) {
            // any other KilnError is kiln's own predict refusing the model (verification runs it), a clean error
            if (err instanceof KilnError && err.message.includes('does not match')) return { kind: 'silent', detail: `exported unverified, but verification fails: ${err.message.slice(0, 400)}` };
            throw err;
          }
          return ACCEPTED;
        } finally {
          model.dispose();
        }
      },
    };
  },
};
