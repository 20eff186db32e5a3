/**
 * Bad input gives a KilnError whose message names the op the caller used and says what was
 * expected and what was received. Cases are data: the call, and a pattern its message must match.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as kiln from '../index.js';
import { ReferenceBackend } from '../backends/reference/backend.js';

const { ops, random } = kiln;

beforeAll(async () => {
  await kiln.setBackend('reference');
});

const x23 = () => kiln.tensor([[1, 2, 3], [4, 5, 6]]);

/** Checks that `fn` throws a KilnError matching `pattern`. */
function expectError(fn: () => unknown, pattern: RegExp): void {
  let error: unknown = null;
  try {
    fn();
  } catch (e) {
    error = e;
  }
  expect(error, `expected an error matching ${pattern}`).toBeInstanceOf(kiln.KilnError);
  expect((error as Error).message).toMatch(pattern);
}

type Case = [string, () => unknown, RegExp];

const cases = (table: Case[]) => {
  for (const [name, fn, pattern] of table) it(name, () => kiln.tidy(() => expectError(fn, pattern)));
};

describe('shapes', () => {
  cases([
    ['matmul inner dimensions', () => ops.matmul(kiln.zeros([2, 3]), kiln.zeros([4, 5])), /^matmul: inner dimensions differ: a is \[2,3\], b is \[4,5\]/],
    ['matmul of a vector', () => ops.matmul(kiln.zeros([3]), kiln.zeros([4, 5])), /^matmul: inner dimensions differ: a is \[3\], b is \[4,5\]/],
    ['matmul batch dims', () => ops.matmul(kiln.zeros([2, 2, 3]), kiln.zeros([3, 3, 2])), /^matmul: shapes \[2\] and \[3\] cannot be broadcast/],
    ['matmul of scalars', () => ops.matmul(kiln.tensor(1), kiln.zeros([1])), /^matmul: operands must have rank >= 1.*got a \[\] and b \[1\]/],
    ['matmul of bools', () => ops.matmul(kiln.zeros([1, 1], 'bool'), kiln.zeros([1, 1], 'bool')), /^matmul: expected numeric operands, got bool/],
    ['dot inner dimensions', () => ops.dot(kiln.zeros([2, 3]), kiln.zeros([2, 3])), /^(dot|matmul): inner dimensions differ: a is \[2,3\], b is \[2,3\]/],
    ['einsum operand count', () => ops.einsum('ij,jk->ik', kiln.zeros([2, 2])), /^einsum: 'ij,jk->ik' has 2 operand\(s\), got 1 tensor/],
    ['einsum label sizes', () => ops.einsum('ij,jk->ik', kiln.zeros([2, 3]), kiln.zeros([4, 2])), /^einsum: subscript 'j' has size 3 .* 4/],
    ['einsum rank', () => ops.einsum('ijk->i', kiln.zeros([2, 2])), /^einsum: 'ijk' .*rank 2/],
    ['reshape size', () => ops.reshape(x23(), [4]), /^reshape: cannot reshape \[2,3\] \(6 elements\) into \[4\]/],
    ['reshape inferred size', () => ops.reshape(x23(), [-1, 4]), /^reshape: cannot reshape \[2,3\] \(6 elements\) into \[-1,4\]/],
    ['reshape two -1', () => ops.reshape(x23(), [-1, -1]), /^reshape: only one dimension can be -1/],
    ['reshape fractional', () => ops.reshape(x23(), [1.5, 4]), /^reshape: expected a shape of integers >= -1, got \[1.5,4\]/],
    ['broadcastTo', () => ops.broadcastTo(kiln.zeros([3]), [2, 4]), /^broadcastTo: cannot broadcast \[3\] to \[2,4\]/],
    ['concatenate dims', () => ops.concatenate([kiln.zeros([2, 3]), kiln.zeros([2, 4])], 0), /^concatenate: input 1 has shape \[2,4\], input 0 has \[2,3\]/],
    ['concatenate ranks', () => ops.concatenate([kiln.zeros([2, 3]), kiln.zeros([3])]), /^concatenate: inputs must share a rank: input 0 is \[2,3\], input 1 is \[3\]/],
    ['concatenate nothing', () => ops.concatenate([]), /^concatenate: expected a non-empty array/],
    ['stack shapes', () => ops.stack([kiln.zeros([2]), kiln.zeros([3])]), /^stack: all tensors must have one shape: input 0 is \[2\], input 1 is \[3\]/],
    ['split unevenly', () => ops.split(kiln.zeros([5]), 2), /^split: axis 0 of size 5 does not divide into 2 equal sections/],
    ['squeeze a non-1 axis', () => ops.squeeze(x23(), 1), /^squeeze: axis 1 has size 3, expected 1 \(shape \[2,3\]\)/],
    ['transpose with a bad permutation', () => ops.transpose(x23(), [0, 0]), /^transpose: axes must be a permutation of \[0..1\], got \[0,0\]/],
    ['transpose with too few axes', () => ops.transpose(kiln.zeros([2, 3, 4]), [1, 0]), /^transpose: axes must be a permutation of \[0..2\], got \[1,0\]/],
    ['slice past the end', () => ops.slice(x23(), [1, 1], [2, 2]), /^slice: .*reads outside axis 0 of size 2/],
    ['slice with a negative start', () => ops.slice(x23(), [-1, 0], [1, 1]), /^slice: startIndices must be 2 integers >= 0/],
    ['pad with a negative width', () => ops.pad(x23(), -1), /^pad: padWidth must be .*got -1/],
    ['pad with an unknown mode', () => ops.pad(x23(), 1, 'reflect'), /^pad: only mode 'constant' is supported, got 'reflect'/],
    ['tile by a negative count', () => ops.tile(x23(), [-1, 1]), /^tile: repeats must be non-negative integers, got \[-1,1\]/],
    ['repeat by a fraction', () => ops.repeat(x23(), 1.5), /^repeat: repeats must be a non-negative integer, got 1.5/],
    ['max over an empty axis', () => ops.max(kiln.zeros([2, 0]), 1), /^max: cannot take the max over an empty axis: shape \[2,0\]/],
    ['argmax over an empty axis', () => ops.argmax(kiln.zeros([0])), /^argmax: cannot take the argmax over an empty axis/],
    ['where branches', () => ops.where(kiln.zeros([2], 'bool'), kiln.zeros([3]), kiln.zeros([4])), /^where: shapes \[\d\] and \[\d\] cannot be broadcast/],
  ]);
});

describe('broadcasting names the op the caller used, with operands in their order', () => {
  // every public binary op; the kernel behind greater is less with swapped operands, but the
  // message must speak of greater(a, b)
  const names = [
    'add', 'subtract', 'multiply', 'divide', 'power', 'maximum', 'minimum', 'mod', 'floorDivide',
    'equal', 'notEqual', 'less', 'lessEqual', 'greater', 'greaterEqual', 'logicalAnd', 'logicalOr', 'logicalXor',
  ];
  const fns = ops as unknown as Record<string, (a: kiln.Tensor, b: kiln.Tensor) => kiln.Tensor>;
  for (const name of names) {
    it(name, () => kiln.tidy(() => expectError(() => fns[name](kiln.zeros([2, 3]), kiln.zeros([4])), new RegExp(`^${name}: shapes \\[2,3\\] and \\[4\\] cannot be broadcast`))));
  }
});

describe('axes', () => {
  cases([
    ['sum axis out of range', () => ops.sum(x23(), 2), /^sum: axis 2 is out of range for a tensor of rank 2 \(expected an integer in \[-2, 1\]\)/],
    ['sum negative axis out of range', () => ops.sum(x23(), -3), /^sum: axis -3 is out of range for a tensor of rank 2/],
    ['sum fractional axis', () => ops.sum(x23(), 0.5), /^sum: axis 0.5 is out of range .*expected an integer/],
    ['sum repeated axis', () => ops.sum(x23(), [0, -2]), /^sum: repeated axis in \[0,-2\]/],
    ['mean axis', () => ops.mean(x23(), 5), /^mean: axis 5 is out of range/],
    ['softmax axis', () => ops.softmax(x23(), 2), /^softmax: axis 2 is out of range/],
    ['argmax axis', () => ops.argmax(x23(), 2), /^argmax: axis 2 is out of range/],
    ['cumsum axis', () => ops.cumsum(x23(), -3), /^cumsum: axis -3 is out of range/],
    ['concatenate axis', () => ops.concatenate([x23(), x23()], 2), /^concatenate: axis 2 is out of range/],
    ['stack axis', () => ops.stack([x23(), x23()], 4), /^stack: axis 4 is out of range for a tensor of rank 3/],
    ['expandDims axis', () => ops.expandDims(x23(), 4), /^expandDims: axis 4 is out of range for a tensor of rank 3/],
    ['flip axis', () => ops.flip(x23(), 2), /^flip: axis 2 is out of range/],
    ['take axis', () => ops.take(x23(), [0], 2), /^take: axis 2 is out of range/],
    ['keepdims not a boolean', () => ops.sum(x23(), 0, 1 as unknown as boolean), /^sum: keepdims must be a boolean, got 1/],
  ]);
});

describe('making tensors', () => {
  cases([
    ['data length', () => kiln.tensor([1, 2, 3], [2, 2]), /^tensor: shape \[2,2\] needs 4 values, got 3/],
    ['negative shape', () => kiln.tensor([], [-1]), /^tensor: expected a shape of non-negative integers, got \[-1\]/],
    ['fractional shape', () => kiln.tensor([1], [0.5]), /^tensor: expected a shape of non-negative integers, got \[0.5\]/],
    ['infinite shape', () => kiln.tensor([1], [Infinity]), /^tensor: expected a shape of non-negative integers, got \[null\]/],
    ['NaN shape', () => kiln.tensor([1], [NaN]), /^tensor: expected a shape of non-negative integers/],
    ['shape not an array', () => kiln.tensor([1], 1 as unknown as number[]), /^tensor: expected a shape \(an array of integers\), got 1/],
    ['ragged rows', () => kiln.tensor([[1, 2], [3]]), /^tensor: ragged nested array: values\[1\] has length 1, expected length 2/],
    ['ragged depth', () => kiln.tensor([[1, 2], 3]), /^tensor: ragged nested array: values\[1\] has no array, expected length 2/],
    ['array where a value belongs', () => kiln.tensor([1, [2]]), /^tensor: ragged nested array: values\[1\] is an array/],
    ['string values', () => kiln.tensor(['a'] as unknown as number[]), /^tensor: element 0 is string a; expected numbers or booleans/],
    ['an object', () => kiln.tensor({} as unknown as number[]), /^tensor: expected a number, boolean, \(nested\) array or typed array, got a Object/],
    ['unknown dtype', () => kiln.tensor([1], [1], 'float16' as kiln.DType), /^tensor: unknown dtype "float16"; expected one of bool, int32, float32, float64/],
    ['cast to an unknown dtype', () => ops.cast(x23(), 'int64' as kiln.DType), /^cast: unknown dtype "int64"/],
    ['zeros with an unknown dtype', () => kiln.zeros([1], 'uint8' as kiln.DType), /^zeros: unknown dtype "uint8"/],
    ['zeros with a negative shape', () => kiln.zeros([2, -1]), /^zeros: expected a shape of non-negative integers, got \[2,-1\]/],
    ['ones with a fractional shape', () => kiln.ones([1.5]), /^ones: expected a shape of non-negative integers, got \[1.5\]/],
    ['fill with a string', () => kiln.fill([1], 'a' as unknown as number), /^fill: expected a number or boolean value, got string/],
    ['range step 0', () => kiln.range(0, 1, 0), /^range: step must not be 0/],
    ['range to infinity', () => kiln.range(0, Infinity), /^range: stop must be a finite number, got Infinity/],
    ['eye with a fractional k', () => kiln.eye(2, 2, 0.5), /^eye: k must be an integer, got 0.5/],
    ['normal with a negative shape', () => random.normal([-2]), /^normal: expected a shape of non-negative integers, got \[-2\]/],
    ['uniform with maxval <= minval', () => random.uniform([2], { minval: 1, maxval: 1 }), /^uniform: maxval must exceed minval, got minval=1, maxval=1/],
    ['normal with an int dtype', () => random.normal([2], { dtype: 'int32' }), /^normal: dtype must be float32 or float64, got int32/],
    ['setSeed with a fraction', () => kiln.setSeed(1.5), /^setSeed: expected an integer seed, got 1.5/],
  ]);
});

describe('indices', () => {
  cases([
    ['take out of range', () => ops.take(kiln.tensor([1, 2, 3]), [0, 5]), /^take: index 5 is out of range for an axis of size 3 \(valid: -3 to 2\)/],
    ['take below range', () => ops.take(kiln.tensor([1, 2, 3]), [-4], 0), /^take: index -4 is out of range for an axis of size 3/],
    ['take fractional index', () => ops.take(kiln.tensor([1, 2, 3]), [0.5]), /^take: indices must be integers, got 0.5/],
    ['take bool indices', () => ops.take(kiln.tensor([1, 2, 3]), kiln.tensor([true])), /^take: indices must be integers, got a bool tensor/],
    ['takeAlongAxis out of range', () => ops.takeAlongAxis(x23(), [[3], [0]], 1), /^takeAlongAxis: index 3 is out of range for an axis of size 3/],
    ['takeAlongAxis rank', () => ops.takeAlongAxis(x23(), [0], 1), /^takeAlongAxis: indices must have the rank of x: x is \[2,3\], indices are \[1\]/],
    ['oneHot bool indices', () => ops.oneHot(kiln.tensor([true]), 2), /^oneHot: indices must be integers, got a bool tensor/],
    ['oneHot negative classes', () => ops.oneHot(kiln.tensor([1], [1], 'int32'), -1), /^oneHot: numClasses must be a non-negative integer, got -1/],
  ]);
  // a tensor's indices are checked on the device, and the next read throws (docs/indices.md)
  const readError = async (make: () => kiln.Tensor, pattern: RegExp) => {
    const y = kiln.tidy(make);
    await expect(y.data()).rejects.toThrow(pattern);
    expect(y.isDisposed).toBe(false);
    y.dispose();
  };
  it('take out of range, int32 tensor: the next read throws', () => readError(
    () => ops.take(x23(), kiln.tensor([0, 2], [2], 'int32'), 0),
    /^take: index 2 is out of range for an axis of size 2 \(valid: -2 to 1; position 1 of the indices, flattened\)$/,
  ));
  it('take of a fractional float tensor index: the next read throws', () => readError(
    () => ops.take(kiln.tensor([1, 2, 3]), kiln.tensor([[0, 1], [NaN, 2.5]])),
    /^take: indices must be integers, got NaN at position 2$/,
  ));
  it('takeAlongAxis below range, int32 tensor: the next read throws', () => readError(
    () => ops.takeAlongAxis(x23(), kiln.tensor([[-4], [0]], [2, 1], 'int32'), 1),
    /^takeAlongAxis: index -4 is out of range for an axis of size 3 \(valid: -3 to 2; position 0 of the indices, flattened\)$/,
  ));

});

describe('dtypes', () => {
  cases([
    ['floor of bool', () => ops.floor(kiln.tensor([true])), /^floor: expected a numeric tensor, got bool/],
    ['leakyRelu slope', () => ops.leakyRelu(x23(), NaN), /^leakyRelu: negativeSlope must be a finite number, got null/],
    ['gelu approximate not a boolean', () => ops.gelu(x23(), 'yes' as unknown as boolean), /^gelu: approximate must be a boolean, got "yes"/],
  ]);
});

describe('lifetimes', () => {
  it('a disposed tensor names the op, the tensor and its shape', () => {
    const t = kiln.tensor([1, 2]);
    t.dispose();
    expectError(() => ops.exp(t), /^exp: tensor \d+ \(float32 \[2\]\) is already disposed/);
    expectError(() => ops.add(t, 1), /^add: tensor \d+ \(float32 \[2\]\) is already disposed/);
    expect(t.data()).rejects.toThrow(/^data: tensor \d+ \(float32 \[2\]\) is already disposed/);
  });

  it('a disposed tensor in a composed op names the op the caller used', () => {
    const t = kiln.tensor([1, 2]);
    const t2 = kiln.tensor([[1, 2]]);
    kiln.dispose([t, t2]);
    const calls: [string, () => unknown][] = [
      ['subtract', () => ops.subtract(t, t)],
      ['multiply', () => ops.multiply(t, t)],
      ['greater', () => ops.greater(t, t)],
      ['negative', () => ops.negative(t)],
      ['sum', () => ops.sum(t)],
      ['softmax', () => ops.softmax(t)],
      ['transpose', () => ops.transpose(t2)],
      ['concatenate', () => ops.concatenate([t, t])],
      ['matmul', () => ops.matmul(t, t)],
    ];
    const wrong: string[] = [];
    for (const [name, call] of calls) {
      try {
        kiln.tidy(call);
        wrong.push(`${name}: no error`);
      } catch (e) {
        const message = (e as Error).message;
        if (!new RegExp(`^${name}: tensor \\d+ \\(float32 \\[[\\d,]+\\]\\) is already disposed`).test(message)) wrong.push(`${name} said '${message}'`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('ops that have nothing to do still refuse a disposed tensor', () => {
    const t = kiln.tensor([1, 2]);
    t.dispose();
    const calls: [string, () => unknown][] = [
      ['cast', () => ops.cast(t, 'float32')],
      ['transpose', () => ops.transpose(t)],
      ['broadcastTo', () => ops.broadcastTo(t, [2])],
      ['flip', () => ops.flip(t, [])],
      ['sum', () => ops.sum(t, [])],
    ];
    const silent = calls.filter(([, call]) => {
      try {
        call();
        return true;
      } catch (e) {
        return !(e instanceof kiln.KilnError && /is already disposed/.test(e.message));
      }
    }).map(([name]) => name);
    expect(silent, 'ops that returned a disposed tensor without an error').toEqual([]);
  });

  it('a Variable that was disposed', () => {
    const init = kiln.tensor([1]);
    const v = new kiln.Variable(init, { name: 'w' });
    init.dispose();
    v.dispose();
    expectError(() => ops.add(v, 1), /^add: tensor \d+ \(float32 \[1\]\) is already disposed/);
  });

  it('tidy of a non-function', () => {
    expectError(() => kiln.tidy(3 as unknown as () => void), /^tidy: expected a function, got number/);
  });

  it('item of a tensor with several elements', async () => {
    const t = kiln.tensor([1, 2]);
    await expect(t.item()).rejects.toThrow(/^item: expected a tensor with one element, got shape \[2\]/);
    t.dispose();
  });
});

describe('backends', () => {
  /** A second backend: reference under another name, so that tensors can live on either. */
  class SecondBackend extends ReferenceBackend {
    constructor() {
      super();
      Object.defineProperty(this, 'name', { value: 'second' });
    }
  }

  beforeAll(() => {
    kiln.registerBackend({ name: 'second', priority: -1, probe: () => ({ available: true }), create: () => new SecondBackend() });
  });
  afterAll(async () => {
    await kiln.setBackend('reference');
  });

  it('setBackend with an unknown name lists the known ones', async () => {
    await expect(kiln.setBackend('nope')).rejects.toThrow(/^setBackend: unknown backend 'nope'; known backends: reference, .*second/);
  });

  it('registering a name twice', () => {
    expectError(() => kiln.registerBackend({ name: 'reference', priority: 0, probe: () => ({ available: true }), create: () => new ReferenceBackend() }),
      /^registerBackend: a backend named 'reference' is already registered/);
  });

  it('an unavailable backend says why', async () => {
    kiln.registerBackend({ name: 'absent', priority: -2, probe: () => ({ available: false, reason: 'no such device' }), create: () => new ReferenceBackend() });
    await expect(kiln.setBackend('absent')).rejects.toThrow(/^setBackend: backend 'absent' is unavailable here: no such device/);
  });

  it('mixing tensors of two backends names both and the way out', async () => {
    await kiln.setBackend('second');
    const a = kiln.tensor([1, 2]);
    expect(a.backendName).toBe('second');
    await kiln.setBackend('reference');
    const b = kiln.tensor([3, 4]);
    expectError(() => ops.add(b, a), /^add: input 1 lives on backend 'second' but the current backend is 'reference'; move it with await kiln.toBackend/);
    expectError(() => ops.exp(a), /^exp: input 0 lives on backend 'second'/);
    const moved = await kiln.toBackend(a, 'reference');
    expect(Array.from(await ops.add(b, moved).data())).toEqual([4, 6]);
    kiln.dispose([a, b, moved]);
    expect((await kiln.memoryOf('second')).numTensors).toBe(0);
  });
});

describe('Variables and optimizers', () => {
  const variable = (values: number[], name: string) => {
    const init = kiln.tensor(values);
    const v = new kiln.Variable(init, { name });
    init.dispose();
    return v;
  };

  it('assign with the wrong shape', () => {
    const v = variable([1, 2], 'w');
    expectError(() => v.assign(kiln.tensor([1, 2, 3])), /^Variable 'w'.assign: expected float32 \[2\], got float32 \[3\]/);
    v.dispose();
  });

  it('assign with the wrong dtype', () => {
    const v = variable([1, 2], 'w');
    expectError(() => v.assign(kiln.tensor([1, 2], [2], 'int32')), /^Variable 'w'.assign: expected float32 \[2\], got int32 \[2\]/);
    v.dispose();
  });

  it('assign of a non-tensor', () => {
    const v = variable([1, 2], 'w');
    expectError(() => v.assign([1, 2] as unknown as kiln.Tensor), /^Variable 'w'.assign: expected a Tensor, got an array/);
    v.dispose();
  });

  it('a Variable from a non-tensor', () => {
    expectError(() => new kiln.Variable([1] as unknown as kiln.Tensor), /^Variable: expected an initial Tensor, got an array/);
  });

  it('applyGradients with bad pairs', () => {
    const v = variable([1, 2], 'w');
    const opt = new kiln.optimizers.SGD();
    const g3 = kiln.tensor([1, 2, 3]);
    expectError(() => opt.applyGradients([[g3, v]]), /^SGD.applyGradients: gradient for 'w' has shape \[3\], the variable has \[2\]/);
    expectError(() => opt.applyGradients([[kiln.tensor([1, 1]), g3 as unknown as kiln.Variable]]), /^SGD.applyGradients: pair 0: expected a Variable, got a float32 tensor of shape \[3\]/);
    expectError(() => opt.applyGradients([[g3] as unknown as [kiln.Tensor, kiln.Variable]]), /^SGD.applyGradients: pair 0 must be \[gradient, variable\]/);
    expectError(() => opt.applyGradients(g3 as unknown as []), /^SGD.applyGradients: expected an array of \[gradient, variable\] pairs/);
    expect(opt.iterations).toBe(0);
    kiln.dispose([v, g3]);
  });

  it('an optimizer with a bad learning rate', () => {
    expectError(() => new kiln.optimizers.SGD({ learningRate: -1 }), /^SGD: learningRate must be .*got -1/);
  });
});

describe('autodiff', () => {
  it('gradient of a non-tensor target', () => {
    const tape = new kiln.GradientTape();
    expectError(() => tape.gradient(3 as unknown as kiln.Tensor, []), /^GradientTape.gradient: target must be a Tensor, got number 3/);
  });

  it('a source that is not a tensor', () => {
    const x = kiln.tensor([1]);
    const tape = new kiln.GradientTape();
    const y = kiln.tidy(() => tape.record(() => ops.square(x)));
    expectError(() => tape.gradient(y, [x, 'w' as unknown as kiln.Tensor]), /^GradientTape.gradient: source 1 must be a Tensor or Variable, got string w/);
    kiln.dispose([x, y]);
  });

  it('outputGradients of the wrong shape', () => {
    const x = kiln.tensor([1, 2]);
    const tape = new kiln.GradientTape();
    const y = kiln.tidy(() => tape.record(() => ops.square(x)));
    const seed = kiln.tensor([1]);
    expectError(() => tape.gradient(y, x, { outputGradients: seed }), /^GradientTape.gradient: outputGradients has shape \[1\], target has \[2\]/);
    kiln.dispose([x, y, seed]);
  });

  it('recording on a used tape', () => {
    const x = kiln.tensor([1]);
    const tape = new kiln.GradientTape();
    const y = tape.record(() => ops.square(x));
    tape.gradient(y, x)?.dispose();
    expectError(() => tape.record(() => x), /^GradientTape.record: this non-persistent tape was already used/);
    kiln.dispose([x, y]);
  });

  it('grad of a function that returns no tensor', () => {
    const x = kiln.tensor([1]);
    expectError(() => kiln.grad(() => 3 as unknown as kiln.Tensor)(x), /^grad: the function must return a Tensor, got number 3/);
    expectError(() => kiln.grad((v) => v)(3 as unknown as kiln.Tensor), /^grad: argument 0 must be a Tensor, got number 3/);
    x.dispose();
  });
});
