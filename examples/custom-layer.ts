// Keras's "making new layers via subclassing": a Linear layer that creates its weights in build()
// (so it adapts to whatever input it first sees), computes x · w + b in call(), and returns its
// constructor arguments from getConfig(). Registered with kiln.registerLayer, it is saved in a
// .kiln file like any built-in layer, and loadModel rebuilds it: the predictions come back
// identical.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as kiln from 'kiln';

const { layers, ops, random } = kiln;

interface LinearOptions extends kiln.LayerArgs {
  units?: number;
}

export class Linear extends kiln.Layer {
  /** The name configs are saved under, which registerLayer maps back to this class. */
  static readonly className = 'Linear';
  readonly units: number;
  w: kiln.Variable | null = null;
  b: kiln.Variable | null = null;

  constructor({ units = 32, ...args }: LinearOptions = {}) {
    super(args);
    this.units = units;
  }

  override build(inputShape: readonly (number | null)[]): void {
    const inputDim = inputShape.at(-1);
    if (typeof inputDim !== 'number') throw new Error(`Linear needs a known last input dimension, got [${inputShape.join(', ')}]`);
    this.w = this.addWeight('w', [inputDim, this.units], { initializer: 'random_normal' });
    this.b = this.addWeight('b', [this.units], { initializer: 'zeros' });
  }

  call(inputs: kiln.Tensor): kiln.Tensor {
    return ops.add(ops.matmul(inputs, this.w!), this.b!);
  }

  override getConfig(): kiln.LayerConfig {
    return { ...super.getConfig(), units: this.units };
  }

  static fromConfig(config: kiln.LayerConfig): Linear {
    return new Linear(config as LinearOptions);
  }
}

kiln.registerLayer(Linear);

export async function run({ samples = 256, epochs = 20, seed = 1, verbose = 1 as 0 | 1 | 2 } = {}) {
  kiln.setSeed(seed);
  // a smooth target the two Linear layers and the ReLU between them can fit
  const { x, y } = kiln.tidy(() => {
    const x = random.normal([samples, 8]);
    const y = ops.sum(ops.sin(x), -1, true);
    return { x, y };
  });

  const model = new kiln.Sequential([kiln.Input({ shape: [8] }), new Linear({ units: 32 }), new layers.ReLU(), new Linear({ units: 1 })]);
  model.compile({ optimizer: new kiln.optimizers.Adam({ learningRate: 1e-2 }), loss: 'mse' });
  if (verbose) model.summary();
  const history = await model.fit(x, y, { epochs, batchSize: 32, verbose: verbose ? 2 : 0 });

  const dir = await mkdtemp(join(tmpdir(), 'kiln-custom-layer-'));
  try {
    const path = join(dir, 'linear.kiln');
    await model.save(path);
    // no customObjects needed: registerLayer made 'Linear' loadable
    const loaded = await kiln.loadModel(path);
    const before = (await model.predict(x)) as kiln.Tensor;
    const after = (await loaded.predict(x)) as kiln.Tensor;
    const [a, b] = [Array.from(await before.data()), Array.from(await after.data())];
    const maxDifference = a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
    const loadedLayers = loaded.layers.map((l) => l.className);
    if (verbose) {
      console.log(`loss ${history.history.loss[0].toFixed(4)} -> ${history.history.loss.at(-1)!.toFixed(4)}`);
      console.log(`saved and reloaded ${loadedLayers.join(', ')}: largest prediction difference ${maxDifference}`);
    }
    kiln.dispose([before, after]);
    loaded.dispose();
    return { loss: history.history.loss, maxDifference, loadedLayers, loadedIsLinear: loaded.layers[0] instanceof Linear };
  } finally {
    await rm(dir, { recursive: true, force: true });
    kiln.dispose([x, y]);
    model.dispose();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run();
}
