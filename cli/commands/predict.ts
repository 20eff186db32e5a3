import { basename, dirname, extname, join } from 'node:path';
import type { CommandModule } from 'yargs';
import * as kiln from '../../index.js';
import { fail } from '../../src/errors.js';
import { columnList, type GlobalArgs } from '../common.js';
import { existingFile, loadFile, shownPath } from '../data.js';

/** Predictions up to this many numbers print as JSON; more need a file. */
const MAX_PRINTED = 1000;

interface Args extends GlobalArgs {
  model: string;
  x: string;
  columns?: string;
  output?: string;
  'batch-size': number;
}

export const predict: CommandModule<GlobalArgs, Args> = {
  command: 'predict <model> <x>',
  describe: "A saved model's predictions for x (.npy or .csv), written as .npy or printed as JSON",
  builder: (y) => y
    .positional('model', { type: 'string', demandOption: true, describe: 'a .kiln file' })
    .positional('x', { type: 'string', demandOption: true, describe: 'inputs: .npy, or .csv (every column, or --columns)' })
    .option('columns', { type: 'string', describe: "the x CSV's columns, comma-separated" })
    .option('output', { alias: 'o', type: 'string', describe: 'write the predictions to this .npy file (one file per output: name.<output>.npy)' })
    .option('batch-size', { type: 'number', default: 32 }),
  handler: async (argv) => {
    if (argv.output !== undefined && extname(argv.output).toLowerCase() !== '.npy') fail('--output', `expected a .npy file, got ${argv.output}`);
    const columns = columnList(argv.columns);
    const x = await loadFile({ path: existingFile(argv.x, 'x', ['.npy', '.csv']), ...(columns ? { columns } : {}) });
    const model = await kiln.loadModel(argv.model, { compile: false });
    const result = await model.predict(x, { batchSize: argv.batchSize });
    const outputs = Array.isArray(result) ? result : [result];
    if (argv.output === undefined) {
      const size = outputs.reduce((n, t) => n + t.size, 0);
      if (size > MAX_PRINTED) fail('predict', `the predictions hold ${size} numbers, too many to print: write them to a file with -o predictions.npy`);
      const texts = await Promise.all(outputs.map(async (t) => JSON.stringify(await t.array(), t.dtype === 'float32' ? float32Digits : undefined)));
      console.log(Array.isArray(result) ? `{${model.outputNames.map((n, i) => `${JSON.stringify(n)}:${texts[i]}`).join(',')}}` : texts[0]);
      return;
    }
    for (const [i, t] of outputs.entries()) {
      const path = Array.isArray(result) ? join(dirname(argv.output), `${basename(argv.output, extname(argv.output))}.${model.outputNames[i]}.npy`) : argv.output;
      await kiln.io.writeNpy(path, t);
      console.log(`wrote ${shownPath(path)}: ${t.dtype} [${t.shape.join(', ')}]`);
    }
  },
};

/** 9 significant digits tell every float32 apart; a float64's 17 would only print noise. */
function float32Digits(_key: string, v: unknown): unknown {
  return typeof v === 'number' ? Number(v.toPrecision(9)) : v;
}
