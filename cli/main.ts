#!/usr/bin/env node
/** The `kiln` command (docs/cli.md): global options and error handling; each command has its own file. */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import * as kiln from '../index.js';
import { info } from './commands/info.js';
import { train } from './commands/train.js';
import { summary } from './commands/summary.js';
import { evaluate } from './commands/evaluate.js';
import { predict } from './commands/predict.js';
import { exportCommand } from './commands/export.js';
import { plot } from './commands/plot.js';
import { report } from './commands/report.js';

class UsageError extends Error {}

const argv = hideBin(process.argv);

const cli = yargs(argv)
  .scriptName('kiln')
  .usage('$0 <command> [options]')
  .option('backend', { type: 'string', describe: 'the backend to run on (`kiln info` lists them); default: KILN_BACKEND or the best available' })
  .option('seed', { type: 'number', describe: 'seed every random draw (weight initialization, shuffling, dropout)' })
  .option('verbose', { type: 'boolean', default: false, describe: 'print the stack trace of an error' })
  // after validation, before any command: every command runs on the chosen backend
  .middleware(async (args) => {
    if (args.backend !== undefined) await kiln.setBackend(args.backend);
    else await kiln.ready();
    if (args.seed !== undefined) kiln.setSeed(args.seed);
  })
  .command(info)
  .command(train)
  .command(summary)
  .command(evaluate)
  .command(predict)
  .command(exportCommand)
  .command(plot)
  .command(report)
  .demandCommand(1, 'name a command')
  .strict()
  .version(kiln.version)
  .help()
  .alias('help', 'h')
  // errors reach the catch below, printed as one line rather than yargs's usage dump; yargs
  // passes its own (a missing argument, an unknown option) as a message alone
  .fail((message, err) => {
    throw err ?? new UsageError(message);
  });

try {
  await cli.parseAsync();
} catch (err) {
  const e = err instanceof Error ? err : new Error(String(err));
  const hint = e instanceof UsageError ? ' (see kiln --help)' : '';
  console.error(`kiln: ${e.message}${hint}`);
  if (argv.includes('--verbose') && e.stack) console.error(e.stack);
  process.exitCode = 1;
}
