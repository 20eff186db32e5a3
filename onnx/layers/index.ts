/**
 * The layer mapping table: one row per layer class, keyed by the class name the save format uses,
 * collected from one file per layer family, each named as its folder under layers/. A layer
 * without a row (a custom layer, or a subclass that overrides call) is traced into kiln
 * primitives instead (../trace.ts, ../primitives.ts).
 */
import { ACTIVATION_ROWS } from './activations.js';
import { ATTENTION_ROWS } from './attention.js';
import { CONVOLUTIONAL_ROWS } from './convolutional.js';
import { CORE_ROWS } from './core.js';
import { MERGING_ROWS } from './merging.js';
import { PREPROCESSING_ROWS } from './preprocessing.js';
import { NORMALIZATION_ROWS } from './normalization.js';
import { POOLING_ROWS } from './pooling.js';
import { RECURRENT_ROWS } from './recurrent.js';
import { REGULARIZATION_ROWS } from './regularization.js';
import { RESHAPING_ROWS } from './reshaping.js';
import type { LayerRow, RowEntry } from './row.js';

export type { LayerArgs, LayerRow } from './row.js';

/** Each family's rows, by its folder's name under layers/. */
export const FAMILY_ROWS: Readonly<Record<string, readonly RowEntry[]>> = {
  core: CORE_ROWS,
  activations: ACTIVATION_ROWS,
  regularization: REGULARIZATION_ROWS,
  reshaping: RESHAPING_ROWS,
  merging: MERGING_ROWS,
  preprocessing: PREPROCESSING_ROWS,
  convolutional: CONVOLUTIONAL_ROWS,
  normalization: NORMALIZATION_ROWS,
  pooling: POOLING_ROWS,
  recurrent: RECURRENT_ROWS,
  attention: ATTENTION_ROWS,
};

export const LAYERS: Record<string, LayerRow> = Object.fromEntries(Object.values(FAMILY_ROWS).flat());
