import { resolve } from 'node:path';
import type { CommandModule } from 'yargs';
import * as kiln from '../../index.js';
import { KilnError, fail } from '../../src/errors.js';
import { modelFromConfig } from '../../models/serialize.js';
import { formatLogs, type GlobalArgs } from '../common.js';
import { fitData, shownPath, writableOutput } from '../data.js';
import { MAX_BATCH, MAX_EPOCHS, MAX_STEPS, readTrainConfig } from '../train-config.js';

interface Args extends GlobalArgs {
  config: string;
  epochs?: number;
  'batch-size'?: number;
  'steps-per-epoch'?: number;
  output?: string;
}

export const train: CommandModule<GlobalArgs, Args> = {
  command: 'train <config>',
  describe: 'Train a model described by a JSON config (see docs/cli.md), then test and save it',
  builder: (y) => y
    .positional('config', { type: 'string', demandOption: true, describe: 'the train config (.json)' })
    .option('epochs', { type: 'number', describe: 'override fit.epochs' })
    .option('batch-size', { type: 'number', describe: 'override fit.batchSize' })
    .option('steps-per-epoch', { type: 'number', describe: 'override fit.stepsPerEpoch (a quick trial run)' })
    .option('output', { alias: 'o', type: 'string', describe: 'override output (relative to the working folder)' }),
  handler: async (argv) => {
    const cfg = await readTrainConfig(argv.config);
    const fit = { ...cfg.fit, verbose: cfg.fit.verbose ?? 1 };
    for (const [flag, key, max] of [['epochs', 'epochs', MAX_EPOCHS], ['batch-size', 'batchSize', MAX_BATCH], ['steps-per-epoch', 'stepsPerEpoch', MAX_STEPS]] as const) {
      const v = argv[key];
      if (v === undefined) continue;
      if (!Number.isInteger(v) || v < 1 || v > max) fail(`--${flag}`, `expected an integer in [1, ${max}], got ${v}`);
      fit[key] = v;
    }
    const output = resolve(argv.output ?? cfg.output);
    await writableOutput(output, argv.output === undefined ? `${argv.config}: output` : '--output');
    // --seed (applied in main.ts) wins over the config's
    if (argv.seed === undefined && cfg.seed !== undefined) kiln.setSeed(cfg.seed);

    const model = section(argv.config, 'model', () => modelFromConfig(cfg.model));
    section(argv.config, 'compile', () => model.compile(cfg.compile));
    const batchSize = fit.batchSize ?? 32;
    const [x, y] = await fitData(cfg.data.train, 'data.train', batchSize);
    const validation = cfg.data.validation && (await fitData(cfg.data.validation, 'data.validation', batchSize));
    model.summary();
    const validationData = validation && (validation.length === 1 ? validation[0] : validation);
    await model.fit(x, y, { ...fit, ...(validationData ? { validationData } : {}) });
    if (cfg.data.test) {
      const [tx, ty] = await fitData(cfg.data.test, 'data.test', batchSize);
      console.log(`test - ${formatLogs(await model.evaluate(tx, ty, { batchSize }))}`);
    }
    await model.save(output);
    console.log(`saved ${shownPath(output)}`);
  },
};

/** Runs `fn`, naming the config file and section in its errors (modelFromConfig and compile name only themselves). */
function section<T>(file: string, name: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof KilnError) fail(file, `${name}: ${err.message}`);
    throw err;
  }
}
