import { fail } from '../src/errors.js';
import { pyFixed } from './monitor.js';

// Python's str.format fields: '{{' and '}}' are literal braces, '{name}' or '{name:spec}' a field
const FIELD = /\{\{|\}\}|\{([^{}:]*)(?::([^{}]*))?\}/g;
// the part of Python's format-spec mini-language that file names use: [0][width][.precision][d|f]
const SPEC = /^(0)?(\d+)?(?:\.(\d+))?([df])?$/;

/**
 * Fills a Keras file-name template such as `'ckpt-{epoch:02d}-{val_loss:.4f}.kiln'` the way
 * Python's `str.format` would, for the forms file names use: `{key}`, `{key:d}`, `{key:0Nd}`,
 * `{key:.Nf}` and `{key:N.Nf}`.
 */
export function formatFilepath(op: string, template: string, values: Record<string, number>): string {
  return template.replace(FIELD, (whole, key: string | undefined, spec: string | undefined) => {
    if (whole === '{{') return '{';
    if (whole === '}}') return '}';
    const name = key as string;
    if (!(name in values)) fail(op, `cannot fill '{${name}}' in filepath '${template}': available keys are ${Object.keys(values).join(', ')}`);
    return formatValue(op, template, name, values[name], spec ?? '');
  });
}

function formatValue(op: string, template: string, name: string, value: number, spec: string): string {
  const m = SPEC.exec(spec);
  if (!m) fail(op, `unsupported format spec '${spec}' for '${name}' in filepath '${template}': use d, 0Nd, .Nf or N.Nf`);
  const [, zero, width, precision, type] = m;
  let text: string;
  if (type === 'd') {
    if (!Number.isInteger(value)) fail(op, `'{${name}:${spec}}' in filepath '${template}' needs an integer, got ${value}`);
    text = String(value);
  } else if (type === 'f') text = pyFixed(value, precision === undefined ? 6 : Number(precision));
  else if (precision !== undefined) fail(op, `format spec '${spec}' for '${name}' in filepath '${template}' needs a type: write .${precision}f`);
  else text = String(value);
  const w = width === undefined ? 0 : Number(width);
  if (text.length >= w) return text;
  // Python pads numbers on the left; with '0' the zeros go after the sign
  if (!zero) return text.padStart(w, ' ');
  const sign = text.startsWith('-') ? '-' : '';
  return sign + text.slice(sign.length).padStart(w - sign.length, '0');
}
