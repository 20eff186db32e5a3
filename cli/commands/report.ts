import { statSync } from 'node:fs';
import type { CommandModule } from 'yargs';
import * as kiln from '../../index.js';
import { join } from 'node:path';
import type { GlobalArgs } from '../common.js';
import { existingFile, shownPath } from '../data.js';

interface Args extends GlobalArgs {
  log: string;
  output?: string;
  model?: string;
  title?: string;
}

export const report: CommandModule<GlobalArgs, Args> = {
  command: 'report <log>',
  describe: 'Write a self-contained HTML training report (curves per epoch, model summary and graph) from a training log',
  builder: (y) => y
    .positional('log', { type: 'string', demandOption: true, describe: "CSVLogger's .csv, JSON lines (.jsonl), a History's .json, or a TensorBoard log folder" })
    .option('output', { alias: 'o', type: 'string', describe: 'the .html file to write (default: the log path with .html)' })
    .option('model', { type: 'string', describe: 'a .kiln file: adds its summary and layer graph' })
    .option('title', { type: 'string', describe: "the page's heading" }),
  handler: async (argv) => {
    const out = await runReport(argv);
    console.log(`wrote ${shownPath(out)}`);
  },
};

/** The command's work, apart from printing (tests call it); returns the path written. */
export async function runReport(argv: Pick<Args, 'log' | 'output' | 'model' | 'title'>): Promise<string> {
  // a folder is a TensorBoard log folder, read by trainingReport itself
  const folder = statSync(argv.log, { throwIfNoEntry: false })?.isDirectory() ?? false;
  const log = folder ? argv.log : existingFile(argv.log, 'log', ['.csv', '.tsv', '.jsonl', '.ndjson', '.json']);
  const out = argv.output ?? (folder ? join(log, 'report.html') : log.replace(/\.[^./]*$/, '.html'));
  const model = argv.model === undefined ? undefined : await kiln.loadModel(existingFile(argv.model, '--model', ['.kiln']), { compile: false });
  try {
    await kiln.utils.trainingReport(log, out, { model, title: argv.title });
  } finally {
    model?.dispose();
  }
  return out;
}
