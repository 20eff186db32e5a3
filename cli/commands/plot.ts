import type { CommandModule } from 'yargs';
import * as kiln from '../../index.js';
import type { GlobalArgs } from '../common.js';
import { existingFile, shownPath } from '../data.js';

interface Args extends GlobalArgs {
  model: string;
  output?: string;
  'show-shapes': boolean;
  'show-dtype': boolean;
  'show-layer-names': boolean;
  rankdir: string;
  'expand-nested': boolean;
  dpi: number;
}

export const plot: CommandModule<GlobalArgs, Args> = {
  command: 'plot <model>',
  describe: "Draw a saved model's layer graph as SVG (or DOT text for Graphviz), as Keras's plot_model",
  builder: (y) => y
    .positional('model', { type: 'string', demandOption: true, describe: 'a .kiln file' })
    .option('output', { alias: 'o', type: 'string', describe: 'the .svg or .dot file to write (default: the model path with .svg)' })
    .option('show-shapes', { type: 'boolean', default: false, describe: "each layer's input and output shapes" })
    .option('show-dtype', { type: 'boolean', default: false, describe: "each layer's output dtype" })
    .option('show-layer-names', { type: 'boolean', default: false, describe: 'layer names beside the class names' })
    .option('rankdir', { type: 'string', default: 'TB', choices: ['TB', 'LR'], describe: 'top to bottom or left to right' })
    .option('expand-nested', { type: 'boolean', default: false, describe: 'draw nested models as clusters of their layers' })
    .option('dpi', { type: 'number', default: 200, describe: 'the resolution written into the DOT text' }),
  handler: async (argv) => {
    const out = await runPlot(argv);
    console.log(`wrote ${shownPath(out)}`);
  },
};

/** The command's work, apart from printing (tests call it); returns the path written. */
export async function runPlot(argv: Pick<Args, 'model' | 'output' | 'show-shapes' | 'show-dtype' | 'show-layer-names' | 'rankdir' | 'expand-nested' | 'dpi'>): Promise<string> {
  const model = await kiln.loadModel(existingFile(argv.model, 'model', ['.kiln']), { compile: false });
  const out = argv.output ?? argv.model.replace(/\.kiln$/i, '.svg');
  try {
    await kiln.utils.plotModel(model, {
      showShapes: argv['show-shapes'],
      showDtype: argv['show-dtype'],
      showLayerNames: argv['show-layer-names'],
      rankdir: argv.rankdir as 'TB' | 'LR',
      expandNested: argv['expand-nested'],
      dpi: argv.dpi,
      toFile: out,
    });
  } finally {
    model.dispose();
  }
  return out;
}
