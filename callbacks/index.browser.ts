/**
 * kiln.callbacks in the browser bundle (browser.ts): the callbacks that write no files.
 * ModelCheckpoint, BackupAndRestore, CSVLogger, TensorBoard and TrainingReport write files and
 * stay in the Node entry; JsonLogger takes a `stream` here (its `path` needs Node).
 */
export { Callback, CallbackList, type CallbackParams, type Logs } from '../models/callback.js';
export { History } from '../models/history.js';
export { ProgbarLogger, type ProgbarOptions } from '../models/progbar.js';
export { JsonLogger, type JsonLoggerOptions } from '../models/json-logger.js';
export { EarlyStopping, type EarlyStoppingOptions } from './early-stopping.js';
export { ReduceLROnPlateau, type ReduceLROnPlateauOptions } from './reduce-lr-on-plateau.js';
export { LearningRateScheduler, type Schedule } from './learning-rate-scheduler.js';
export { TerminateOnNaN } from './terminate-on-nan.js';
export { LambdaCallback, type LambdaHooks } from './lambda-callback.js';
export type { Mode } from './monitor.js';
