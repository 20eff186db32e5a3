/**
 * `kiln train` configs: a valid config over a tiny dataset, one or more fields mutated (odd
 * numbers, wrong types, deep nesting, paths to devices, folders, fifos and /proc), then run
 * through the command's own handler, with `--epochs 1` as a quick trial run would.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as kiln from '../../index.js';
import { train } from '../../cli/commands/train.js';
import { jsonPaths, mutateJson, stringify, type Rng } from './mutate.js';
import { ACCEPTED, type Target } from './target.js';

const BASE = {
  seed: 3,
  model: {
    className: 'Sequential',
    config: { layers: [{ className: 'InputLayer', config: { batchShape: [null, 3] } }, { className: 'Dense', config: { units: 4, activation: 'relu' } }, { className: 'Dense', config: { units: 2 } }] },
  },
  data: { train: { x: 'x.npy', y: 'y.npy' }, validation: { x: 'x.npy', y: 'y.npy' } },
  compile: { optimizer: 'sgd', loss: 'mse', metrics: ['mae'] },
  fit: { epochs: 2, batchSize: 4, shuffle: true, verbose: 0 },
  output: 'out/model.kiln',
};

/** Paths a config may name that are not plain files in plain folders (relative ones are in the folder setup fills). */
const DATA_PATHS = ['zero.npy', 'fifo.npy', 'folder.npy', 'empty.npy', 'huge.npy', 'short.npy', 'x.npy', '/proc/self/status.npy', '/dev/zero', 'x.csv', '', '.', 'x.npy/y.npy', 'a'.repeat(5000) + '.npy', 'nul\0.npy'];
/** Outputs are taken from the config's own folder, where train.json is: `train.json/m.kiln` uses a file as a folder. */
const OUTPUT_PATHS = ['/proc/self/m.kiln', '/proc/1/m.kiln', '/sys/m.kiln', '/dev/null/m.kiln', 'train.json/m.kiln', '', '.', 'a'.repeat(300) + '.kiln', `${'d/'.repeat(60)}m.kiln`, 'nul\0.kiln', 123];

/** The valid config, its data paths absolute (the config sits in each case's own folder). */
function baseConfig(dataDir: string): any {
  const config = structuredClone(BASE) as any;
  for (const part of [config.data.train, config.data.validation]) for (const key of ['x', 'y']) part[key] = join(dataDir, part[key]);
  return config;
}

function mutate(rng: Rng, config: any, dataDir: string): string {
  switch (rng.pick([0, 1, 2, 2, 2, 3, 3])) {
    case 0: {
      const [part, key] = rng.pick([['train', 'x'], ['train', 'y'], ['validation', 'x'], ['validation', 'y']]);
      // a first mutation of the case may have removed or replaced the part: mutate something else
      if (typeof config.data?.[part] !== 'object' || config.data[part] === null) return mutateJson(rng, config);
      const path = rng.pick(DATA_PATHS);
      config.data[part][key] = path.startsWith('/') || path === '' || path === '.' ? path : join(dataDir, path);
      return `data.${part}.${key} = ${JSON.stringify(config.data[part][key]).slice(0, 60)}`;
    }
    case 1:
      config.output = rng.pick(OUTPUT_PATHS);
      return `output = ${JSON.stringify(config.output).slice(0, 60)}`;
    case 2: {
      const fit = jsonPaths(config).filter((p) => p[0] === 'fit' || p.includes('units') || p.includes('batchShape') || p[0] === 'seed');
      return mutateJson(rng, config, fit);
    }
    default:
      return mutateJson(rng, config);
  }
}

export const cliConfig: Target<string> = {
  async setup(dir) {
    kiln.setSeed(5);
    await kiln.io.writeNpy(join(dir, 'x.npy'), kiln.random.normal([8, 3]));
    await kiln.io.writeNpy(join(dir, 'y.npy'), kiln.random.normal([8, 2]));
    await kiln.io.writeNpy(join(dir, 'short.npy'), kiln.random.normal([7, 3]));
    symlinkSync('/dev/zero', join(dir, 'zero.npy'));
    execFileSync('mkfifo', [join(dir, 'fifo.npy')]);
    mkdirSync(join(dir, 'folder.npy'));
    writeFileSync(join(dir, 'empty.npy'), '');
    writeFileSync(join(dir, 'x.csv'), 'a,b\n1,2\n');
    // a header that claims 2^32 - 1 rows over 16 bytes of data
    const header = "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967295, 3), }".padEnd(117, ' ') + '\n';
    writeFileSync(join(dir, 'huge.npy'), Buffer.concat([Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 118, 0]), Buffer.from(header), Buffer.alloc(16)]));
    return dir;
  },
  make(dataDir, rng, dir) {
    const config = baseConfig(dataDir);
    const edits = Array.from({ length: rng.chance(0.6) ? 1 : 2 }, () => mutate(rng, config, dataDir));
    return {
      what: edits.join('; '),
      async run() {
        const caseDir = join(dir, 'case');
        mkdirSync(caseDir, { recursive: true });
        const path = join(caseDir, 'train.json');
        writeFileSync(path, stringify(config));
        await train.handler({ config: path, epochs: 1, verbose: false, _: [], $0: 'kiln' } as never);
        return ACCEPTED;
      },
    };
  },
};
