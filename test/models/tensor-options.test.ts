/**
 * Call options that hold tensors (layers/call-options.ts), as Keras records a call's tensor
 * arguments: in a Functional model they are inputs of the node, so the graph runs, saves, reloads
 * and exports them. A test layer with a single-tensor option, a list option and a plain option
 * is checked against values worked out by hand.
 */
import { describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { modelFromConfig, modelToConfig } from '../../models/serialize.js';
import { toModelProto } from '../../onnx/index.js';
import { encode, run, session } from '../onnx/harness.js';

interface ShiftOptions extends kiln.CallOptions {
  offset?: kiln.Tensor | null;
  scales?: kiln.Tensor[];
  negate?: boolean;
}

/** y = ±x · Π scales + offset: one option of one tensor, one of a list, one plain. */
class Shift extends kiln.Layer {
  static override readonly tensorCallOptions = ['offset', 'scales'];
  static readonly className = 'TensorOptionsShift';

  call(x: kiln.Tensor | kiln.Tensor[], options: ShiftOptions): kiln.Tensor {
    let y = x as kiln.Tensor;
    for (const s of options.scales ?? []) y = kiln.ops.multiply(y, s);
    if (options.negate) y = kiln.ops.neg(y);
    return options.offset ? kiln.ops.add(y, options.offset) : y;
  }

  static fromConfig(config: kiln.LayerConfig): Shift {
    return new Shift({ name: config.name, trainable: config.trainable });
  }
}
kiln.registerLayer(Shift);

/** Sum of two inputs plus a tensor option: a layer of several inputs whose masks must not count the option. */
class AddBias extends kiln.Layer {
  static override readonly tensorCallOptions = ['bias'];
  static readonly className = 'TensorOptionsAddBias';
  override multiInput = true;

  call(xs: kiln.Tensor | kiln.Tensor[], options: kiln.CallOptions & { bias?: kiln.Tensor }): kiln.Tensor {
    const [a, b] = xs as kiln.Tensor[];
    return kiln.ops.add(kiln.ops.add(a, b), options.bias!);
  }

  static fromConfig(config: kiln.LayerConfig): AddBias {
    return new AddBias({ name: config.name, trainable: config.trainable });
  }
}
kiln.registerLayer(AddBias);

const values = (t: kiln.Tensor | kiln.Tensor[]): number[] => Array.from((t as kiln.Tensor).dataSync());

function shiftModel(): kiln.Model {
  const x = kiln.Input({ shape: [3], name: 'x' });
  const offset = kiln.Input({ shape: [3], name: 'offset' });
  const a = kiln.Input({ shape: [1], name: 'a' });
  const b = kiln.Input({ shape: [1], name: 'b' });
  const y = new Shift({ name: 'shift' }).apply(x, { offset, scales: [a, b], negate: true } as unknown as ShiftOptions);
  return new kiln.Model({ inputs: [x, offset, a, b], outputs: y });
}

const feeds = (): kiln.Tensor[] => [
  kiln.tensor([1, 2, 3, -1, 0, 4], [2, 3]),
  kiln.tensor([10, 20, 30, 0, 0, 0.5], [2, 3]),
  kiln.tensor([2, -1], [2, 1]),
  kiln.tensor([3, 0.5], [2, 1]),
];
// −x·a·b + offset, row by row: a·b = 6, then −0.5
const EXPECTED = [4, 8, 12, -0.5, 0, 2.5];

describe('tensor call options', () => {
  it('eager calls take concrete tensors in the options', () => {
    const y = new Shift().apply(kiln.tensor([1, 2], [1, 2]), { offset: kiln.tensor([1, 1], [1, 2]), scales: [kiln.tensor([3], [1, 1])] } as ShiftOptions);
    expect(values(y)).toEqual([4, 7]);
  });

  it('a Functional node records them as inputs and the graph feeds their values back', async () => {
    const model = shiftModel();
    expect(values(await model.predict(feeds()) as kiln.Tensor)).toEqual(EXPECTED);
    const node = model.layers[model.layers.length - 1].inboundNodes[0];
    expect(node.inputs.length).toBe(4);
    expect(node.optionInputs).toEqual([['offset', null], ['scales', 2]]);
  });

  it('a config holds where the options sit and the plain options; the rebuilt model computes the same', async () => {
    const config = modelToConfig(shiftModel());
    const entry = (config.config as { layers: { name: string; inboundNodes: unknown[][] }[] }).layers.find((l) => l.name === 'shift')!;
    expect(entry.inboundNodes[0][0]).toEqual(['x', 0, 0, { negate: true, tensorOptions: [['offset', null], ['scales', 2]] }]);
    const copy = modelFromConfig(JSON.parse(JSON.stringify(config)));
    expect(values(await copy.predict(feeds()) as kiln.Tensor)).toEqual(EXPECTED);
  });

  it('a config naming an option the layer does not declare, or too many tensors, is refused with the layer named', () => {
    const config = JSON.parse(JSON.stringify(modelToConfig(shiftModel())));
    const entry = config.config.layers.find((l: { name: string }) => l.name === 'shift');
    entry.inboundNodes[0][0][3].tensorOptions = [['bias', null]];
    expect(() => modelFromConfig(config)).toThrow(/layer 'shift' node 0: tensorOptions names 'bias', which is not a tensor option of the layer \(it has: offset, scales\)/);
    entry.inboundNodes[0][0][3].tensorOptions = [['offset', null], ['scales', 3]];
    expect(() => modelFromConfig(config)).toThrow(/tensorOptions take 4 tensors, but the node has 4 inputs/);
  });

  it('the exporter traces the call with the options in place, checked in onnxruntime', async () => {
    const model = shiftModel();
    const s = await session(encode(await toModelProto(model)));
    const out = await run(s, feeds());
    expect(Array.from(out[s.outputNames[0]].data as Float32Array)).toEqual(EXPECTED);
    await s.release();
  });

  it('a layer of several inputs sees one mask per input of its own, not per option', async () => {
    const a = kiln.Input({ shape: [2, 1] });
    const b = kiln.Input({ shape: [2, 1] });
    const bias = kiln.Input({ shape: [2, 1] });
    let seen: (number[] | null)[] | undefined;
    class Spy extends AddBias {
      override call(xs: kiln.Tensor | kiln.Tensor[], options: kiln.CallOptions & { bias?: kiln.Tensor }): kiln.Tensor {
        if (xs instanceof kiln.Tensor || !(xs[0] instanceof kiln.Tensor) || !('dataSync' in xs[0])) return super.call(xs, options);
        seen = (options.masks ?? []).map((m) => (m ? Array.from(m.dataSync(), Number) : null));
        return super.call(xs, options);
      }
    }
    const masked = new kiln.layers.Masking({ maskValue: 0 }).apply(a);
    const y = new Spy().apply([masked, b], { bias } as kiln.CallOptions);
    const model = new kiln.Model({ inputs: [a, b, bias], outputs: y });
    const out = await model.predict([kiln.tensor([1, 0], [1, 2, 1]), kiln.tensor([10, 20], [1, 2, 1]), kiln.tensor([0.5, -0.5], [1, 2, 1])]);
    expect(values(out as kiln.Tensor)).toEqual([11.5, 19.5]);
    expect(seen?.length).toBe(2);
    expect(seen![0]).toEqual([1, 0]);
    expect(seen![1]).toBeNull();
  });

  it('symbolic inputs with a concrete option, or the other way round, are refused', () => {
    const x = kiln.Input({ shape: [3] });
    expect(() => new Shift({ name: 'mixed' }).apply(x, { offset: kiln.tensor([1, 2, 3], [1, 3]) } as ShiftOptions))
      .toThrow(/TensorOptionsShift 'mixed': options 'offset' must be symbolic tensors \(from kiln.Input or a layer\), as the inputs are/);
    expect(() => new Shift({ name: 'mixed2' }).apply(kiln.tensor([1, 2, 3], [1, 3]), { offset: x } as unknown as ShiftOptions))
      .toThrow(/options 'offset' must be concrete tensors, as the inputs are/);
    expect(() => new Shift({ name: 'bad' }).apply(kiln.tensor([1], [1, 1]), { scales: [3 as never] } as ShiftOptions))
      .toThrow(/option 'scales' entry 0 must be a tensor, got number/);
  });
});
