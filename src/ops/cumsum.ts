import { ENGINE, type Primitive } from '../engine.js';

// The running sum sits below reduce.ts, with nothing but the engine above it, so that creation
// can count 0, 1, 2, … on the device (range) without joining the ops' import cycle.

interface CumsumAttrs {
  axis: number;
  exclusive: boolean;
  reverse: boolean;
}

export const CUMSUM: Primitive<CumsumAttrs> = {
  name: 'cumsum',
  infer: ([x]) => ({ shape: x.shape, dtype: x.dtype }),
  run: (backend, [x], out, { axis, exclusive, reverse }) => backend.cumsum(x, axis, exclusive, reverse, out),
  // each input adds into every later running sum: dx is the running sum of dy from the other end
  grad: (dy, _, __, attrs) => [ENGINE.run(CUMSUM, [dy], { ...attrs, reverse: !attrs.reverse })],
};
