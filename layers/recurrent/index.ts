/**
 * Recurrent layers: the cells, the generic RNN wrapper, SimpleRNN, LSTM and GRU, and the wrappers
 * that run a layer over time (TimeDistributed) or both ways (Bidirectional).
 */
import { registerLayer } from '../registry.js';
import { SimpleRNNCell } from './simple-rnn-cell.js';
import { LSTMCell } from './lstm-cell.js';
import { GRUCell } from './gru-cell.js';
import { StackedRNNCells } from './stacked-rnn-cells.js';
import { RNN } from './rnn.js';
import { SimpleRNN } from './simple-rnn.js';
import { LSTM } from './lstm.js';
import { GRU } from './gru.js';
import { TimeDistributed } from './time-distributed.js';
import { Bidirectional } from './bidirectional.js';

export { RNNCell, type CellLike, type CellCallOptions } from './cell.js';
export { type CellOptions, type GatedCellOptions } from './cell-options.js';
export { SimpleRNNCell, type SimpleRNNCellOptions } from './simple-rnn-cell.js';
export { LSTMCell, type LSTMCellOptions } from './lstm-cell.js';
export { GRUCell, type GRUCellOptions } from './gru-cell.js';
export { StackedRNNCells } from './stacked-rnn-cells.js';
export { RNN, type RNNOptions, type RNNCallOptions } from './rnn.js';
export { SimpleRNN, type SimpleRNNOptions } from './simple-rnn.js';
export { LSTM, type LSTMOptions } from './lstm.js';
export { GRU, type GRUOptions } from './gru.js';
export { TimeDistributed } from './time-distributed.js';
export { Bidirectional, type BidirectionalOptions, type BidirectionalCallOptions, type MergeMode, type RecurrentLayer } from './bidirectional.js';

registerLayer(SimpleRNNCell);
registerLayer(LSTMCell);
registerLayer(GRUCell);
registerLayer(StackedRNNCells);
registerLayer(RNN);
registerLayer(SimpleRNN);
registerLayer(LSTM);
registerLayer(GRU);
registerLayer(TimeDistributed);
registerLayer(Bidirectional);
