import type { CommandModule } from 'yargs';
import * as kiln from '../../index.js';
import type { GlobalArgs } from '../common.js';

interface Args extends GlobalArgs {
  model: string;
}

export const summary: CommandModule<GlobalArgs, Args> = {
  command: 'summary <model>',
  describe: "Print a saved model's layers, output shapes and parameter counts",
  builder: (y) => y.positional('model', { type: 'string', demandOption: true, describe: 'a .kiln file' }),
  handler: async (argv) => {
    // a summary needs no optimizer state
    const model = await kiln.loadModel(argv.model, { compile: false });
    model.summary();
  },
};
