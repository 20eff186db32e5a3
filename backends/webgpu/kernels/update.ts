import type { TensorInfo, UpdateRule } from '../../contract.js';
import { sizeOf } from '../../contract.js';
import { FLOAT_FUNCTIONS } from './binary.js';
import { mathLibrary, mathUsedBy } from './math.js';
import { MAIN, f32Word, grid, storage, type Access, type GpuContext } from './wgsl.js';

/**
 * One rule as WGSL statements, in the composition's order of operations (src/fused/update.ts),
 * each rounded to float32 as the composed ops round it, so that both paths agree to the bit:
 * `slots` computes the new slots n0, n1, … from g and the old slots s0, s1, …; `weight` computes
 * wn from w, g and the new slots. Hyperparameters arrive as float32 words h0, h1, …, derived on
 * the host as the composition derives its scalars (1 - beta1 in float64, then rounded).
 */
interface Rule {
  hyper: number[];
  slots: string;
  weight: string;
}

function ruleOf(rule: UpdateRule, hyper: readonly number[], slotCount: number): Rule {
  switch (rule) {
    case 'sgd': {
      const [lr, momentum, nesterov] = hyper;
      if (slotCount === 0) return { hyper: [lr], slots: '', weight: 'let wn = w - g * h0;' };
      return {
        hyper: [lr, momentum],
        slots: 'let n0 = s0 * h1 - g * h0;',
        weight: nesterov ? 'let wn = w + (n0 * h1 - g * h0);' : 'let wn = w + n0;',
      };
    }
    case 'adam': {
      const [alpha, beta1, beta2, epsilon] = hyper;
      const amsgrad = slotCount === 3;
      return {
        hyper: [alpha, 1 - beta1, 1 - beta2, epsilon],
        slots: `let n0 = s0 + (g - s0) * h1;
  let n1 = s1 + (g * g - s1) * h2;${amsgrad ? '\n  let n2 = f_max(s2, n1);' : ''}`,
        weight: `let wn = w - f_div(n0 * h0, select(sqrt(${amsgrad ? 'n2' : 'n1'}), m_nan(), ${amsgrad ? 'n2' : 'n1'} < 0.0) + h3);`,
      };
    }
    case 'rmsprop': {
      const [lr, rho, momentum, epsilon, centered] = hyper;
      const avg = centered ? `n${slotCount - 1}` : '';
      const increment = `f_div(h0 * g, select(sqrt(d), m_nan(), d < 0.0))`;
      const denominator = centered ? `let d = (n0 - ${avg} * ${avg}) + h3;` : 'let d = n0 + h3;';
      return {
        hyper: [lr, rho, 1 - rho, epsilon, momentum],
        slots: `let n0 = h1 * s0 + h2 * (g * g);${centered ? `\n  let ${avg} = h1 * s${slotCount - 1} + h2 * g;` : ''}
  ${momentum === 0 ? '' : `${denominator}\n  let n1 = h4 * s1 + ${increment};`}`,
        weight: momentum === 0 ? `${denominator}\n  let wn = w - ${increment};` : 'let wn = w - n1;',
      };
    }
    case 'adagrad': {
      const [lr, epsilon] = hyper;
      return {
        hyper: [lr, epsilon],
        slots: 'let n0 = s0 + g * g;',
        weight: 'let wn = w - f_div(h0 * g, select(sqrt(n0 + h1), m_nan(), n0 + h1 < 0.0));',
      };
    }
  }
}

/**
 * One optimizer step on one weight: outs = [w', ...slots'], from w, g and the slots. One launch
 * where its buffers fit the adapter's storage bindings per stage (8 guaranteed); AMSGrad and
 * centered rmsprop with momentum need 9, and take two: the slots, then w' from the new slots.
 */
export function applyUpdate(
  ctx: GpuContext, rule: UpdateRule, hyper: readonly number[], w: TensorInfo, g: TensorInfo,
  slots: readonly TensorInfo[], outs: readonly TensorInfo[],
): void {
  const n = sizeOf(w.shape);
  const r = ruleOf(rule, hyper, slots.length);
  const k = slots.length;
  const consts = r.hyper.map((_, i) => `let h${i} = bitcast<f32>(p(${i + 1}u));`).join('\n  ');
  const launch = (key: string, reads: string[], readBufs: readonly TensorInfo[], writes: string[], writeBufs: readonly TensorInfo[], body: string) => {
    const bindings = [...readBufs.map((t) => [ctx.buffer(t), 'read'] as [GPUBuffer, Access]), ...writeBufs.map((t) => [ctx.buffer(t), 'write'] as [GPUBuffer, Access])];
    ctx.dispatch({
      key,
      code: (decl) => `${decl}
${reads.map((name, b) => storage(b + 1, `${name}_`, 'f32', 'read')).join('\n')}
${writes.map((name, b) => storage(reads.length + b + 1, `${name}_`, 'f32', 'write')).join('\n')}
${mathLibrary(mathUsedBy(FLOAT_FUNCTIONS))}
${FLOAT_FUNCTIONS}
${MAIN}
  if (i >= p(0u)) { return; }
  ${consts}
  ${reads.map((name) => `let ${name} = ${name}_[i];`).join(' ')}
  ${body}
  ${writes.map((name) => `${name}_[i] = ${name};`).join(' ')}
}`,
      bindings,
      params: [n, ...r.hyper.map(f32Word)],
      groups: grid(n),
    });
  };
  const olds = slots.map((_, s) => `s${s}`);
  const news = slots.map((_, s) => `n${s}`);
  // what changes the code: the rule, its slots, and the flags that pick its formula
  const flags = rule === 'sgd' ? [hyper[2]] : rule === 'rmsprop' ? [hyper[2] === 0, hyper[4]] : [];
  const key = `applyUpdate:${rule}:${k}:${flags.join(':')}`;
  if (2 + 2 * k + 1 <= ctx.limits.maxStorageBuffersPerShaderStage) {
    launch(key, ['w', 'g', ...olds], [w, g, ...slots], ['wn', ...news], outs, `${r.slots}\n  ${r.weight}`);
  } else {
    launch(`${key}:slots`, ['g', ...olds], [g, ...slots], news, outs.slice(1), r.slots);
    launch(`${key}:weight`, ['w', 'g', ...news], [w, g, ...outs.slice(1)], ['wn'], [outs[0]], r.weight);
  }
}
