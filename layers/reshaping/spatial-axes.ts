/**
 * Where the spatial axes of an image-like input sit, [batch, ...spatial, channels] or
 * [batch, channels, ...spatial], for the layers that pad, crop or stretch them.
 */
import { resolveOptions, type DataFormat } from '../../src/ops/conv-options.js';

/** `dataFormat` checked, in kiln's spelling (Keras's snake_case is accepted, as the conv ops accept it). */
export function dataFormatOf(where: string, dataFormat: DataFormat | undefined, rank: number): DataFormat {
  return resolveOptions(where, { dataFormat }, rank).channelsFirst ? 'channelsFirst' : 'channelsLast';
}

/** The input axes of the `rank` spatial dimensions. */
export function spatialAxes(rank: number, dataFormat: DataFormat): number[] {
  const first = dataFormat === 'channelsFirst' ? 2 : 1;
  return Array.from({ length: rank }, (_, i) => first + i);
}
