import { getActivation } from '../activations.js';
import { isFloat } from '../dtype.js';
import { fail, fmtShape } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { add, multiply, subtract } from '../ops/binary.js';
import { matmul } from '../ops/matmul.js';
import { concatenate, reshape, slice, stack } from '../ops/movement.js';
import { where } from '../ops/select.js';

/**
 * The recurrent ops' composed forms, and the record their fused kernels write. Each op's single
 * output is a record [B, T, slots·U]: per step the step's output, the states after it, then
 * what the backward pass needs of the step (activated gates), so the backward kernel recomputes
 * nothing and the public functions slice their results out of it:
 *
 * - lstm      out, h, c, i, f, g, o            (g = act(candidate))
 * - gru       out, h, z, r, hh, inner          (inner: resetAfter h·U_h + b_h, else (r·h)·U_h)
 * - simpleRnn out, h
 */
export const SLOTS = { lstm: 7, gru: 6, simpleRnn: 2 } as const;

/** What every recurrent op takes besides its tensors. */
export interface ScanAttrs {
  activation: string;
  recurrentActivation: string;
  zeroOutputForMask: boolean;
  /** Whether the last input is the [B, T] bool mask. */
  masked: boolean;
}

export interface GruAttrs extends ScanAttrs {
  resetAfter: boolean;
  /** Whether the input after the kernel is the recurrent bias [3U]. */
  bias: boolean;
}

/** One step: the new states (h first) and the step's extra record slots, from the input projection x_t [B, kU]. */
type Step = (x: Tensor, states: readonly Tensor[]) => { states: Tensor[]; extras: Tensor[] };

/**
 * Runs `step` forward over the T steps of xProj [B, T, kU] and stacks each step's record. A
 * masked step keeps the states and repeats the previous output (zeros before the first one),
 * or outputs zeros with zeroOutputForMask, as Keras's backends do.
 */
function scan(xProj: Tensor, states0: readonly Tensor[], mask: Tensor | null, zeroOutputForMask: boolean, step: Step): Tensor {
  const T = xProj.shape[1] as number;
  const kU = xProj.shape[2] as number;
  let states = [...states0];
  let out: Tensor | null = null;
  const records: Tensor[] = [];
  for (let t = 0; t < T; t++) {
    const x = reshape(slice(xProj, [0, t, 0], [-1, 1, kU]), [-1, kU]);
    const next = step(x, states);
    let y = next.states[0];
    if (mask) {
      const m = slice(mask, [0, t], [-1, 1]);
      const kept = states;
      states = next.states.map((s, i) => where(m, s, kept[i]));
      y = where(m, y, zeroOutputForMask || out === null ? 0 : out);
    } else {
      states = next.states;
    }
    out = y;
    records.push(concatenate([y, ...states, ...next.extras], -1));
  }
  return stack(records, 1);
}

/** The columns [k·U, (k+1)·U) of z [B, n·U]: one gate's block. */
export function gate(z: Tensor, k: number, U: number): Tensor {
  return slice(z, [0, k * U], [-1, U]);
}

/** LSTM over the inputs [xProj, h0, c0, recurrentKernel, mask?] as a record [B, T, 7U]. */
export function composeLstm([xProj, h0, c0, kernel, mask]: readonly Tensor[], attrs: ScanAttrs): Tensor {
  const U = kernel.shape[0] as number;
  const act = getActivation(attrs.activation);
  const recurrentAct = getActivation(attrs.recurrentActivation);
  return scan(xProj, [h0, c0], mask ?? null, attrs.zeroOutputForMask, (x, [h, c]) => {
    const z = add(x, matmul(h, kernel));
    const i = recurrentAct(gate(z, 0, U));
    const f = recurrentAct(gate(z, 1, U));
    const g = act(gate(z, 2, U));
    const o = recurrentAct(gate(z, 3, U));
    const cNext = add(multiply(f, c), multiply(i, g));
    return { states: [multiply(o, act(cNext)), cNext], extras: [i, f, g, o] };
  });
}

/** GRU over the inputs [xProj, h0, recurrentKernel, recurrentBias?, mask?] as a record [B, T, 6U]. */
export function composeGru(inputs: readonly Tensor[], attrs: GruAttrs): Tensor {
  const [xProj, h0, kernel] = inputs;
  const bias = attrs.bias ? inputs[3] : null;
  const mask = attrs.masked ? inputs[inputs.length - 1] : null;
  const U = kernel.shape[0] as number;
  const act = getActivation(attrs.activation);
  const recurrentAct = getActivation(attrs.recurrentActivation);
  return scan(xProj, [h0], mask, attrs.zeroOutputForMask, (x, [h]) => {
    let z: Tensor, r: Tensor, inner: Tensor, candidate: Tensor;
    if (attrs.resetAfter) {
      const all = bias ? add(matmul(h, kernel), bias) : matmul(h, kernel);
      z = recurrentAct(add(gate(x, 0, U), gate(all, 0, U)));
      r = recurrentAct(add(gate(x, 1, U), gate(all, 1, U)));
      inner = gate(all, 2, U);
      candidate = add(gate(x, 2, U), multiply(r, inner));
    } else {
      const zr = matmul(h, slice(kernel, [0, 0], [U, 2 * U]));
      z = recurrentAct(add(gate(x, 0, U), gate(zr, 0, U)));
      r = recurrentAct(add(gate(x, 1, U), gate(zr, 1, U)));
      inner = matmul(multiply(r, h), slice(kernel, [0, 2 * U], [U, U]));
      candidate = add(gate(x, 2, U), inner);
    }
    const hh = act(candidate);
    // z·h + (1 - z)·hh, written as Keras writes it
    const hNext = add(multiply(z, h), multiply(subtract(1, z), hh));
    return { states: [hNext], extras: [z, r, hh, inner] };
  });
}

/** SimpleRNN over the inputs [xProj, h0, recurrentKernel, mask?] as a record [B, T, 2U]. */
export function composeSimpleRnn([xProj, h0, kernel, mask]: readonly Tensor[], attrs: ScanAttrs): Tensor {
  const act = getActivation(attrs.activation);
  return scan(xProj, [h0], mask ?? null, attrs.zeroOutputForMask, (x, [h]) => ({ states: [act(add(x, matmul(h, kernel)))], extras: [] }));
}

/**
 * Checks a recurrent op's tensors: xProj [B, T, gates·U] of a float dtype with T known, each
 * state [B, U], the recurrent kernel [U, gates·U] and the mask [B, T] bool, where dimensions are
 * known; all floats of xProj's dtype.
 */
export function checkSequence(
  op: string, gates: number, xProj: Tensor, states: readonly [string, Tensor][], kernel: Tensor, mask: Tensor | null,
): void {
  const want = (name: string, t: Tensor, shape: readonly (number | null)[]) => {
    const ok = t.rank === shape.length && t.shape.every((d, i) => d === null || shape[i] === null || d === shape[i]);
    if (!ok) fail(op, `${name} must have shape ${fmtShape(shape)}, got ${fmtShape(t.shape)}`);
  };
  if (xProj.rank !== 3) fail(op, `xProj must be [batch, timesteps, ${gates}·units], got shape ${fmtShape(xProj.shape)}`);
  if (!isFloat(xProj.dtype)) fail(op, `xProj must be float32 or float64, got ${xProj.dtype}`);
  if (kernel.rank !== 2 || kernel.shape[0] === null) fail(op, `recurrentKernel must be [units, ${gates}·units] with units known, got shape ${fmtShape(kernel.shape)}`);
  const U = kernel.shape[0];
  const [B, T] = xProj.shape;
  if (T === null) fail(op, `the number of timesteps (xProj's axis 1) must be known, got shape ${fmtShape(xProj.shape)}`);
  want('recurrentKernel', kernel, [U, gates * U]);
  want('xProj', xProj, [B, T, gates * U]);
  for (const [name, s] of states) want(name, s, [B, U]);
  for (const [name, t] of [...states, ['recurrentKernel', kernel]] as const) {
    if (t.dtype !== xProj.dtype) fail(op, `${name} must have xProj's dtype ${xProj.dtype}, got ${t.dtype}`);
  }
  if (mask) {
    want('mask', mask, [B, T]);
    if (mask.dtype !== 'bool') fail(op, `mask must be bool, got ${mask.dtype}`);
  }
}
