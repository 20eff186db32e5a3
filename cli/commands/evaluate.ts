import type { CommandModule } from 'yargs';
import * as kiln from '../../index.js';
import { fail } from '../../src/errors.js';
import { columnList, formatLogs, type GlobalArgs } from '../common.js';
import { existingFile, loadSource } from '../data.js';

interface Args extends GlobalArgs {
  model: string;
  x: string;
  y?: string;
  columns?: string;
  target?: string;
  'batch-size': number;
}

export const evaluate: CommandModule<GlobalArgs, Args> = {
  command: 'evaluate <model> <x> [y]',
  describe: 'Loss and metrics of a saved model on x and y (.npy or .csv files)',
  builder: (y) => y
    .positional('model', { type: 'string', demandOption: true, describe: 'a .kiln file' })
    .positional('x', { type: 'string', demandOption: true, describe: 'inputs: .npy, or .csv (every column, or --columns)' })
    .positional('y', { type: 'string', describe: 'targets: .npy or .csv; leave out with --target to take them from the x CSV' })
    .option('columns', { type: 'string', describe: "the x CSV's columns, comma-separated (default: all but --target)" })
    .option('target', { type: 'string', describe: 'the CSV column holding the targets (in y, or in x when y is left out)' })
    .option('batch-size', { type: 'number', default: 32 }),
  handler: async (argv) => {
    if (argv.y === undefined && argv.target === undefined) fail('evaluate', 'needs targets: give a y file, or --target COLUMN of the x CSV');
    // without y, x and y are columns of one CSV file
    const xPath = existingFile(argv.x, 'x', argv.y === undefined ? ['.csv'] : ['.npy', '.csv']);
    const columns = columnList(argv.columns);
    const { x, y } = await loadSource(argv.y === undefined
      ? { kind: 'csv', path: xPath, target: argv.target!, ...(columns ? { columns } : {}) }
      : { kind: 'files', x: { path: xPath, columns }, y: { path: existingFile(argv.y, 'y', ['.npy', '.csv']), columns: argv.target } }, 'evaluate');
    const model = await kiln.loadModel(argv.model);
    if (!model.compiled) fail('evaluate', `${argv.model} was saved without compile settings (no loss to evaluate)`);
    console.log(formatLogs(await model.evaluate(x, y, { batchSize: argv.batchSize })));
  },
};

