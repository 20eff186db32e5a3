/**
 * The padding, cropping, upsampling and spatial dropout layers exported and run in
 * onnxruntime-node at batch 1, 7 and 256: each in 1, 2 and 3 spatial axes, channelsLast and
 * channelsFirst, spatial sizes known only at run time, float64 and integer inputs; one ONNX op per
 * layer and no Transpose, since Pad, Slice and Resize take any layout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { expectParity, opTypes, reportErrors } from './harness.js';

const L = kiln.layers;
const BATCHES = [1, 7, 256];

interface Case {
  label: string;
  make: () => kiln.Layer;
  shape: (number | null)[];
  /** The ONNX ops the layer becomes (none for the dropouts); a float64 upsampling is traced instead of Resize. */
  ops: string[] | 'traced';
  dtype?: kiln.DType;
}

const cases: Case[] = [
  { label: 'ZeroPadding1D', make: () => new L.ZeroPadding1D(), shape: [5, 3], ops: ['Pad'] },
  { label: 'ZeroPadding1D [0, 2] channelsFirst', make: () => new L.ZeroPadding1D([0, 2], { dataFormat: 'channelsFirst' }), shape: [3, 5], ops: ['Pad'] },
  { label: 'ZeroPadding2D [[1, 0], 2]', make: () => new L.ZeroPadding2D([[1, 0], 2]), shape: [4, 3, 2], ops: ['Pad'] },
  { label: 'ZeroPadding2D channelsFirst, dynamic height and width', make: () => new L.ZeroPadding2D([1, [0, 3]], { dataFormat: 'channelsFirst' }), shape: [2, null, null], ops: ['Pad'] },
  { label: 'ZeroPadding3D', make: () => new L.ZeroPadding3D([1, [2, 0], 0]), shape: [2, 3, 2, 2], ops: ['Pad'] },
  { label: 'ZeroPadding2D of int32', make: () => new L.ZeroPadding2D(1), shape: [3, 3, 2], ops: ['Pad'], dtype: 'int32' },
  { label: 'Cropping1D', make: () => new L.Cropping1D(), shape: [6, 3], ops: ['Slice'] },
  { label: 'Cropping1D [2, 0]', make: () => new L.Cropping1D([2, 0]), shape: [6, 3], ops: ['Slice'] },
  { label: 'Cropping2D [[1, 2], [0, 1]]', make: () => new L.Cropping2D([[1, 2], [0, 1]]), shape: [6, 5, 2], ops: ['Slice'] },
  { label: 'Cropping2D channelsFirst, dynamic height and width', make: () => new L.Cropping2D([[1, 0], [2, 1]], { dataFormat: 'channelsFirst' }), shape: [2, null, null], ops: ['Slice'] },
  { label: 'Cropping3D', make: () => new L.Cropping3D([1, [0, 2], [1, 0]]), shape: [4, 5, 3, 2], ops: ['Slice'] },
  { label: 'Cropping3D float64', make: () => new L.Cropping3D(1, { dtype: 'float64' }), shape: [3, 4, 3, 2], ops: ['Slice'], dtype: 'float64' },
  { label: 'UpSampling1D', make: () => new L.UpSampling1D(), shape: [5, 3], ops: ['Resize'] },
  { label: 'UpSampling1D 3, dynamic steps', make: () => new L.UpSampling1D(3), shape: [null, 2], ops: ['Resize'] },
  { label: 'UpSampling2D nearest [2, 3]', make: () => new L.UpSampling2D([2, 3]), shape: [3, 4, 2], ops: ['Resize'] },
  { label: 'UpSampling2D nearest channelsFirst', make: () => new L.UpSampling2D(2, { dataFormat: 'channelsFirst' }), shape: [2, 3, 4], ops: ['Resize'] },
  { label: 'UpSampling2D bilinear', make: () => new L.UpSampling2D(2, { interpolation: 'bilinear' }), shape: [4, 5, 3], ops: ['Resize'] },
  { label: 'UpSampling2D bilinear [3, 2]', make: () => new L.UpSampling2D([3, 2], { interpolation: 'bilinear' }), shape: [3, 4, 2], ops: ['Resize'] },
  { label: 'UpSampling2D bilinear channelsFirst', make: () => new L.UpSampling2D([2, 4], { interpolation: 'bilinear', dataFormat: 'channelsFirst' }), shape: [2, 3, 5], ops: ['Resize'] },
  { label: 'UpSampling2D bilinear, dynamic height and width', make: () => new L.UpSampling2D(3, { interpolation: 'bilinear' }), shape: [null, null, 2], ops: ['Resize'] },
  { label: 'UpSampling2D bilinear, one row', make: () => new L.UpSampling2D(2, { interpolation: 'bilinear' }), shape: [1, 4, 2], ops: ['Resize'] },
  { label: 'UpSampling3D', make: () => new L.UpSampling3D([1, 2, 3]), shape: [2, 3, 2, 2], ops: ['Resize'] },
  { label: 'UpSampling3D channelsFirst', make: () => new L.UpSampling3D(2, { dataFormat: 'channelsFirst' }), shape: [2, 2, 3, 2], ops: ['Resize'] },
  { label: 'UpSampling2D nearest float64', make: () => new L.UpSampling2D(2, { dtype: 'float64' }), shape: [3, 3, 2], ops: 'traced', dtype: 'float64' },
  { label: 'UpSampling2D nearest of int32', make: () => new L.UpSampling2D(2), shape: [3, 3, 2], ops: ['Resize'], dtype: 'int32' },
  { label: 'UpSampling2D bilinear of int32', make: () => new L.UpSampling2D(2, { interpolation: 'bilinear' }), shape: [3, 3, 2], ops: ['Cast', 'Resize'], dtype: 'int32' },
  { label: 'UpSampling2D bilinear float64', make: () => new L.UpSampling2D([2, 3], { interpolation: 'bilinear', dtype: 'float64' }), shape: [3, 4, 2], ops: 'traced', dtype: 'float64' },
  { label: 'SpatialDropout1D', make: () => new L.SpatialDropout1D(0.5), shape: [5, 3], ops: [] },
  { label: 'SpatialDropout2D channelsFirst', make: () => new L.SpatialDropout2D(0.5, { dataFormat: 'channelsFirst' }), shape: [3, 4, 4], ops: [] },
  { label: 'SpatialDropout3D', make: () => new L.SpatialDropout3D(0.5), shape: [2, 3, 2, 2], ops: [] },
  { label: 'AlphaDropout', make: () => new L.AlphaDropout(0.5, { noiseShape: [null, 1] }), shape: [6], ops: [] },
];

describe('padding, cropping, upsampling and spatial dropout exported and run in onnxruntime-node', () => {
  beforeAll(() => kiln.setBackend('reference'));
  afterAll(reportErrors);

  for (const c of cases) {
    it(c.label, async () => {
      const x = kiln.Input({ shape: c.shape, dtype: c.dtype });
      // a dropout's output is its input: the graph joins them with an Identity, left out below
      const model = new kiln.Model({ inputs: x, outputs: c.make().apply(x) as never });
      const inputs = c.dtype === 'int32'
        ? (batch: number, seed: number) => [kiln.random.randint([batch, ...(c.shape as number[])], -50, 50, { seed })]
        : undefined;
      const proto = await expectParity(model, { label: c.label, batches: BATCHES, inputs });
      const ops = opTypes(proto).filter((op) => op !== 'Identity');
      if (c.ops === 'traced') expect(ops.length > 0 && !ops.includes('Resize'), ops.join(', ')).toBe(true);
      else expect(ops).toEqual(c.ops);
    });
  }

  it('refuses a float64 UpSampling of sizes known only at run time, saying why', async () => {
    for (const interpolation of ['nearest', 'bilinear'] as const) {
      const x = kiln.Input({ shape: [null, 4, 2], dtype: 'float64' });
      const model = new kiln.Model({ inputs: x, outputs: new L.UpSampling2D(2, { interpolation, dtype: 'float64', name: 'up' }).apply(x) as never });
      await expect(kiln.onnx.toModelProto(model)).rejects.toThrow("layer 'up' (UpSampling2D): onnxruntime has no float64 Resize");
    }
  });
});
