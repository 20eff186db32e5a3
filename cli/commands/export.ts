import type { CommandModule } from 'yargs';
import * as kiln from '../../index.js';
import { fail } from '../../src/errors.js';
import { exportModel, type ExportResult } from '../../onnx/write.js';
import { formatReport } from '../../onnx/verify.js';
import { DEFAULT_OPSET } from '../../onnx/proto.js';
import type { GlobalArgs } from '../common.js';
import { existingFile, loadFile, shownPath } from '../data.js';

interface Args extends GlobalArgs {
  model: string;
  out: string;
  opset: number;
  verify: boolean;
  sample?: string[];
  'external-data'?: boolean;
}

export const exportCommand: CommandModule<GlobalArgs, Args> = {
  command: 'export <model> <out>',
  describe: 'Write a saved model as an ONNX file, checked in onnxruntime against kiln (docs/onnx.md)',
  builder: (y) => y
    .positional('model', { type: 'string', demandOption: true, describe: 'a .kiln file' })
    .positional('out', { type: 'string', demandOption: true, describe: 'the .onnx file to write (replaced atomically)' })
    .option('opset', { type: 'number', default: DEFAULT_OPSET, describe: 'the ONNX opset, 13 to 26' })
    .option('verify', { type: 'boolean', default: true, describe: 'run the file in onnxruntime on random inputs (and --sample) and compare with predict; --no-verify skips it' })
    .option('sample', { type: 'string', array: true, describe: 'inputs of your own for the check: one .npy or .csv file per model input, in order' })
    .option('external-data', { type: 'boolean', describe: 'weights in <out>.data beside the model (default: only past 2 GB)' }),
  handler: async (argv) => {
    const result = await runExport(argv);
    if (result.verification) console.log(formatReport(result.verification));
    const data = result.dataPath ? ` (weights in ${shownPath(result.dataPath)})` : '';
    console.log(`wrote ${shownPath(result.path)}: opset ${result.opset}, ${result.bytes.toLocaleString('en-US')} bytes${data}`);
  },
};

/** The command's work, apart from printing (tests call it). */
export async function runExport(argv: Pick<Args, 'model' | 'out' | 'opset' | 'verify' | 'sample' | 'external-data'>): Promise<ExportResult> {
  const model = await kiln.loadModel(existingFile(argv.model, 'model', ['.kiln']), { compile: false });
  const sample = argv.sample?.length ? await Promise.all(argv.sample.map((p) => loadFile({ path: existingFile(p, 'sample', ['.npy', '.csv']) }))) : undefined;
  if (sample && sample.length !== model.inputNames.length) {
    fail('--sample', `the model has ${model.inputNames.length} inputs (${model.inputNames.join(', ')}), got ${sample.length} sample files`);
  }
  try {
    return await exportModel(model, argv.out, {
      opset: argv.opset,
      verify: argv.verify ? (sample ? { sample } : true) : false,
      externalData: argv['external-data'] ?? 'auto',
    });
  } finally {
    for (const t of sample ?? []) t.dispose();
    model.dispose();
  }
}
