/** Rows of layers/reshaping/: one movement op each, the batch axis left in place. */
import { Flatten } from '../../layers/reshaping/flatten.js';
import { Permute } from '../../layers/reshaping/permute.js';
import { RepeatVector } from '../../layers/reshaping/repeat-vector.js';
import { Reshape } from '../../layers/reshaping/reshape.js';
import { int, ints } from '../proto.js';
import { row, type RowEntry } from './row.js';

export const RESHAPING_ROWS: readonly RowEntry[] = [
  row(Flatten, 'Flatten (Transpose first for channels_first)', ({ b, layer, inputs: [x] }) => {
    const rank = x.shape.length;
    let y = x.name;
    if (layer.dataFormat === 'channels_first' && rank > 2) {
      y = b.op('Transpose', [y], { perm: ints([0, ...Array.from({ length: rank - 2 }, (_, i) => i + 2), 1]) });
    }
    return [b.op('Flatten', [y], { axis: int(1) })];
  }),
  // 0 copies the batch size from the input, so one file serves every batch size
  row(Reshape, 'Reshape', ({ b, layer, inputs: [x] }) => [b.reshape(x.name, [0, ...layer.targetShape])]),
  row(Permute, 'Transpose', ({ b, layer, inputs: [x] }) => [b.op('Transpose', [x.name], { perm: ints([0, ...layer.dims]) })]),
  row(RepeatVector, 'Unsqueeze, Tile', ({ b, layer, inputs: [x] }) => [b.op('Tile', [b.unsqueeze(x.name, [1]), b.int64s([1, layer.n, 1], 'repeats')])]),
];
