/**
 * The pooling layers exported and run in onnxruntime-node at batch 1, 7 and 256: each kind in 1, 2
 * and 3 spatial axes, 'valid' and 'same', channelsLast and channelsFirst, spatial sizes known only
 * at run time, integer inputs; and the Transposes a channels-last chain keeps.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { expectParity, opTypes, reportErrors, single } from './harness.js';

const L = kiln.layers;
const BATCHES = [1, 7, 256];

interface Case {
  label: string;
  make: () => kiln.Layer;
  shape: (number | null)[];
  dtype?: kiln.DType;
}

const cases: Case[] = [
  { label: 'MaxPooling1D', make: () => new L.MaxPooling1D(), shape: [9, 3] },
  { label: 'MaxPooling1D same, window 3 stride 1', make: () => new L.MaxPooling1D(3, { strides: 1, padding: 'same' }), shape: [6, 2] },
  { label: 'MaxPooling1D channelsFirst', make: () => new L.MaxPooling1D(2, { dataFormat: 'channelsFirst' }), shape: [3, 8] },
  { label: 'MaxPooling2D', make: () => new L.MaxPooling2D(), shape: [6, 5, 3] },
  { label: 'MaxPooling2D same, window [3, 2] strides [2, 1]', make: () => new L.MaxPooling2D([3, 2], { strides: [2, 1], padding: 'same' }), shape: [7, 5, 2] },
  { label: 'MaxPooling2D channelsFirst same', make: () => new L.MaxPooling2D(3, { strides: 2, padding: 'same', dataFormat: 'channelsFirst' }), shape: [2, 5, 6] },
  { label: 'MaxPooling2D same, dynamic height and width', make: () => new L.MaxPooling2D(2, { padding: 'same' }), shape: [null, null, 3] },
  { label: 'MaxPooling3D same', make: () => new L.MaxPooling3D(2, { padding: 'same' }), shape: [3, 4, 5, 2] },
  { label: 'MaxPooling2D float64', make: () => new L.MaxPooling2D(2, { padding: 'same', dtype: 'float64' }), shape: [5, 5, 2], dtype: 'float64' },
  { label: 'MaxPooling1D of int32', make: () => new L.MaxPooling1D(2), shape: [6, 2], dtype: 'int32' },
  { label: 'AveragePooling1D same, window 4 stride 1: padding at both ends', make: () => new L.AveragePooling1D(4, { strides: 1, padding: 'same' }), shape: [7, 3] },
  { label: 'AveragePooling2D', make: () => new L.AveragePooling2D(2), shape: [6, 4, 3] },
  { label: 'AveragePooling2D same, window 3 stride 2', make: () => new L.AveragePooling2D(3, { strides: 2, padding: 'same' }), shape: [5, 6, 2] },
  { label: 'AveragePooling2D channelsFirst', make: () => new L.AveragePooling2D([2, 3], { strides: 1, dataFormat: 'channelsFirst' }), shape: [3, 4, 5] },
  { label: 'AveragePooling2D same, dynamic height and width', make: () => new L.AveragePooling2D(3, { strides: 2, padding: 'same' }), shape: [null, null, 2] },
  { label: 'AveragePooling3D', make: () => new L.AveragePooling3D([2, 1, 2]), shape: [4, 3, 4, 2] },
  { label: 'AveragePooling3D same', make: () => new L.AveragePooling3D(3, { strides: 2, padding: 'same' }), shape: [3, 5, 4, 1] },
  { label: 'GlobalMaxPooling1D', make: () => new L.GlobalMaxPooling1D(), shape: [7, 3] },
  { label: 'GlobalMaxPooling2D keepdims', make: () => new L.GlobalMaxPooling2D({ keepdims: true }), shape: [4, 5, 3] },
  { label: 'GlobalMaxPooling2D channelsFirst', make: () => new L.GlobalMaxPooling2D({ dataFormat: 'channelsFirst' }), shape: [3, 4, 5] },
  { label: 'GlobalMaxPooling3D', make: () => new L.GlobalMaxPooling3D(), shape: [3, 3, 4, 2] },
  { label: 'GlobalMaxPooling1D of int32', make: () => new L.GlobalMaxPooling1D({ keepdims: true }), shape: [6, 2], dtype: 'int32' },
  { label: 'GlobalAveragePooling1D', make: () => new L.GlobalAveragePooling1D(), shape: [7, 3] },
  { label: 'GlobalAveragePooling1D channelsFirst keepdims', make: () => new L.GlobalAveragePooling1D({ dataFormat: 'channelsFirst', keepdims: true }), shape: [3, 7] },
  { label: 'GlobalAveragePooling2D', make: () => new L.GlobalAveragePooling2D(), shape: [4, 5, 3] },
  { label: 'GlobalAveragePooling2D dynamic height and width', make: () => new L.GlobalAveragePooling2D(), shape: [null, null, 3] },
  { label: 'GlobalAveragePooling3D keepdims', make: () => new L.GlobalAveragePooling3D({ keepdims: true }), shape: [3, 3, 4, 2] },
];

describe('pooling layers exported and run in onnxruntime-node', () => {
  beforeAll(() => kiln.setBackend('reference'));
  afterAll(reportErrors);

  for (const c of cases) {
    it(c.label, async () => {
      const x = kiln.Input({ shape: c.shape, dtype: c.dtype });
      const model = new kiln.Model({ inputs: x, outputs: c.make().apply(x) as never });
      const inputs = c.dtype === 'int32' ? (batch: number, seed: number) => [kiln.random.randint([batch, ...(c.shape as number[])], -50, 50, { seed })] : undefined;
      const proto = await expectParity(model, { label: c.label, batches: BATCHES, inputs });
      const pools = opTypes(proto).filter((op) => /Pool|ReduceMax/.test(op));
      expect(pools, 'one pooling node').toHaveLength(1);
    });
  }

  it('a channels-last chain keeps one Transpose, at its input', async () => {
    const model = new kiln.Sequential([
      kiln.Input({ shape: [12, 10, 3] }),
      new L.MaxPooling2D(2),
      new L.AveragePooling2D(3, { strides: 1, padding: 'same' }),
      new L.MaxPooling2D(2, { strides: 1 }),
      new L.GlobalAveragePooling2D(),
    ]);
    const proto = await expectParity(model, { label: 'pooling chain', batches: BATCHES });
    expect(opTypes(proto)).toEqual(['Transpose', 'MaxPool', 'AveragePool', 'MaxPool', 'GlobalAveragePool', 'Flatten']);
  });

  it('writes explicit pads for known sizes and SAME_UPPER for sizes known at run time', async () => {
    const attrsOf = async (shape: (number | null)[]) => {
      const model = single(new L.AveragePooling1D(4, { strides: 1, padding: 'same' }), shape);
      const proto = await kiln.onnx.toModelProto(model);
      const node = proto.graph!.node!.find((n) => n.opType === 'AveragePool')!;
      return Object.fromEntries((node.attribute ?? []).map((a) => [a.name, a.ints?.length ? a.ints.map(Number) : a.s?.length ? new TextDecoder().decode(a.s) : Number(a.i)]));
    };
    // window 4 over 7 steps at stride 1: 3 of padding, 1 before and 2 after
    expect(await attrsOf([7, 2])).toEqual({ kernel_shape: [4], strides: [1], pads: [1, 2], count_include_pad: 0 });
    expect(await attrsOf([null, 2])).toEqual({ kernel_shape: [4], strides: [1], auto_pad: 'SAME_UPPER', count_include_pad: 0 });
  });

  it('a layer of its own calling ops.maxPool and ops.averagePool is traced into the primitives they compose', async () => {
    L.Lambda.registerFunction('onnx_pool_fn', (x) => kiln.ops.add(
      kiln.ops.maxPool(x, 3, { strides: 1, padding: 'same' }), kiln.ops.averagePool(x, [2, 3], { strides: [1, 1], padding: 'same' }),
    ));
    const model = single(new L.Lambda('onnx_pool_fn'), [6, 5, 2]);
    const proto = await expectParity(model, { label: 'Lambda of maxPool and averagePool (traced)', batches: BATCHES });
    expect(opTypes(proto)).toEqual(expect.arrayContaining(['Pad', 'Slice', 'Concat', 'ReduceMax', 'ReduceSum', 'Div']));
    expect(opTypes(proto).filter((op) => op.endsWith('Pool'))).toEqual([]);
  });

  it('exports from opset 13', async () => {
    const model = single(new L.MaxPooling2D(3, { strides: 2, padding: 'same' }), [7, 7, 2]);
    await expectParity(model, { label: 'MaxPooling2D opset 13', batches: [2], opset: 13 });
  });
});
