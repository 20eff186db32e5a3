/**
 * The weight and output shapes of an EinsumDense equation, as Keras's `_analyze_einsum_string`
 * works them out: equations `ab,bc->ac` (no ellipsis), `...ab,bc->...ac` (leading axes elided)
 * or `ab...,bc->ac...` (trailing axes elided), the kernel's axes sized from the input or the
 * output they share a letter with.
 */
import { fail, fmtShape } from '../../src/errors.js';
import type { Dim, Shape } from '../../src/shape.js';

export interface EinsumShapes {
  kernelShape: number[];
  /** The bias's shape, aligned with the output's last axes; null without biasAxes. */
  biasShape: number[] | null;
  outputShape: Dim[];
  /** The kernel's axes that contract with the input, and those that reach the output (its fans). */
  inputAxes: number[];
  outputAxes: number[];
}

interface Split {
  input: string;
  weight: string;
  output: string;
  elided: 'left' | 'right' | null;
}

const FORMS: [RegExp, Split['elided']][] = [
  [/^([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)$/, null],
  [/^\.\.\.([a-zA-Z]+),([a-zA-Z]+)->\.\.\.([a-zA-Z]+)$/, 'left'],
  [/^([a-zA-Z]{2,})\.\.\.,([a-zA-Z]+)->([a-zA-Z]+)\.\.\.$/, 'right'],
];

/** The equation's three subscripts and where its ellipsis is, or a clear error naming `who`. */
export function splitEquation(who: string, equation: unknown): Split {
  if (typeof equation === 'string') {
    for (const [form, elided] of FORMS) {
      const m = form.exec(equation.replace(/\s/g, ''));
      if (m) return { input: m[1], weight: m[2], output: m[3], elided };
    }
  }
  return fail(who, `equation must have the form 'ab,bc->ac', '...ab,bc->...ac' or 'ab...,bc->ac...', got ${JSON.stringify(equation)}`);
}

/**
 * Shapes for an input of `inputShape` and the user's `partialOutput` (the output's axes without
 * the batch axis and the elided ones, null where the input decides). Keras builds the full
 * output shape of a left-elided equation with the elided axes reversed; the output here is in
 * the order einsum produces.
 */
export function einsumShapes(who: string, equation: string, biasAxes: string | null, inputShape: Shape, partialOutput: readonly Dim[]): EinsumShapes {
  const { input, weight, output, elided: side } = splitEquation(who, equation);
  const elided = inputShape.length - input.length;
  if (elided < 0 || (side === null && elided !== 0)) {
    fail(who, `equation '${equation}' expects inputs of rank ${side === null ? '' : 'at least '}${input.length}, got shape ${fmtShape(inputShape)}`);
  }
  const outputShape: Dim[] = side === 'left'
    ? [inputShape[0], ...inputShape.slice(1, elided), ...partialOutput]
    : [inputShape[0], ...partialOutput, ...(side === 'right' ? inputShape.slice(inputShape.length - elided) : [])];
  const lead = side === 'left' ? elided : 0;
  const expectedRank = output.length + elided;
  if (outputShape.length !== expectedRank) {
    fail(who, `outputShape ${fmtShape(partialOutput)} does not fit equation '${equation}' for inputs of shape ${fmtShape(inputShape)}: the output has ${expectedRank} axes, the batch axis${elided ? ' and the elided axes' : ''} included`);
  }
  const inputDim = (c: string): Dim => inputShape[input.indexOf(c) + lead];
  const outputAt = (c: string): number => output.indexOf(c) + lead;
  for (const c of input) {
    if (!output.includes(c)) continue;
    const [i, o] = [inputDim(c), outputShape[outputAt(c)]];
    if (o === null) outputShape[outputAt(c)] = i;
    else if (i !== null && i !== o) fail(who, `input and output disagree at axis '${c}' of '${equation}': the input has ${i} (shape ${fmtShape(inputShape)}), outputShape ${o}`);
  }
  for (const c of output) {
    if (!input.includes(c) && !weight.includes(c)) fail(who, `output axis '${c}' of '${equation}' is in neither the input nor the kernel`);
  }
  const kernelShape: number[] = [];
  const inputAxes: number[] = [];
  const outputAxes: number[] = [];
  [...weight].forEach((c, i) => {
    const [size, axes] = output.includes(c) ? [outputShape[outputAt(c)], outputAxes] : input.includes(c) ? [inputDim(c), inputAxes] : [undefined, null];
    if (axes === null) fail(who, `kernel axis '${c}' of '${equation}' is in neither the input nor the output`);
    if (size === null || size === undefined) fail(who, `kernel axis '${c}' of '${equation}' has no known size (inputs ${fmtShape(inputShape)}, outputShape ${fmtShape(partialOutput)})`);
    kernelShape.push(size);
    axes.push(i);
  });
  return { kernelShape, biasShape: biasAxes === null ? null : biasShape(who, equation, biasAxes, output, outputShape.slice(lead), side === 'right' ? elided : 0), outputShape, inputAxes, outputAxes };
}

/**
 * The bias spans the output from its first bias axis on: size 1 on the axes in between that
 * carry no bias, and on the trailing elided axes.
 */
function biasShape(who: string, equation: string, biasAxes: string, output: string, outputShape: Dim[], trailing: number): number[] {
  for (const c of biasAxes) if (!output.includes(c)) fail(who, `bias axis '${c}' is not an output axis of '${equation}'`);
  const first = Math.min(...[...biasAxes].map((c) => output.indexOf(c)));
  const shape = [...output.slice(first)].map((c, i) => {
    if (!biasAxes.includes(c)) return 1;
    const size = outputShape[first + i];
    return size ?? fail(who, `bias axis '${c}' of '${equation}' has no known size`);
  });
  return [...shape, ...new Array<number>(trailing).fill(1)];
}
