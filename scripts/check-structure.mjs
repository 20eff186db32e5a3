#!/usr/bin/env node
// The structure check (docs/structure.md, STYLE.md lesson 14): file size, the floors' import
// direction, a self-contained backends/, and no import cycle across top-level folders.
// Plain Node and no dependencies, so it runs before anything is installed or built.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const MAX_LINES = 400;
const SIZED = /\.(ts|mts|mjs|cc|h|inc)$/;
const IMPORTING = /\.(ts|mts|mjs)$/;
// installed and built output, never read
const SKIPPED = ['node_modules', 'dist', 'backends/native/build', 'reports', '.stryker-tmp'];
// skipped by the size rule: tests and the benchmark harness
const UNSIZED = ['test', 'bench'];
// tooling around the library, free to import any floor
const UNCHECKED = ['test', 'examples', 'bench', 'scripts', 'vitest.config.ts', 'vitest.mutate.config.ts', 'stryker.config.mjs'];

const CORE = ['src', 'backends'];
const MODELS_AND_BELOW = ['models', 'layers', 'losses', 'optimizers', 'metrics', ...CORE];
/** Each floor, lowest first, and the floors its files may import; '*' imports anything. */
export const FLOORS = {
  backends: [],
  src: ['backends'],
  layers: CORE,
  losses: CORE,
  optimizers: CORE,
  metrics: ['losses', ...CORE],
  models: MODELS_AND_BELOW,
  saving: MODELS_AND_BELOW,
  callbacks: ['saving', ...MODELS_AND_BELOW],
  onnx: ['saving', ...MODELS_AND_BELOW],
  io: ['saving', ...MODELS_AND_BELOW],
  data: ['io', 'saving', ...MODELS_AND_BELOW],
  utils: ['data', 'io', 'onnx', 'callbacks', 'saving', ...MODELS_AND_BELOW],
  cli: '*',
  'index.ts': '*',
  'browser.ts': '*',
};
/**
 * The documented facades: the only imports allowed to reach a floor above, each a dynamic
 * `import()` with a comment saying so (the word "facade") on its line or in the comment lines
 * directly above.
 */
export const FACADES = [
  { from: 'models', to: 'saving', why: 'Model.save / saveWeights / loadWeights' },
  { from: 'models', to: 'onnx', why: 'Model.export' },
];
const ORDER = Object.keys(FLOORS);
const rank = (floor) => ORDER.indexOf(floor);
const SEE = 'see shared/STYLE.md lesson 14 and docs/structure.md';

/** Walks `root` and returns every failure of the four rules, the folder arrows and a printable report. */
export function checkStructure(root) {
  const files = listFiles(root);
  const failures = [];
  for (const file of files.filter((f) => SIZED.test(f) && !under(f, UNSIZED))) {
    const lines = countLines(readFileSync(join(root, file), 'utf8'));
    if (lines > MAX_LINES) {
      failures.push({
        file, line: lines, import: null, rule: `size: ${lines} lines, over the ${MAX_LINES}-line limit`,
        fix: 'split it by concept into smaller files, each named for what it holds',
      });
    }
  }
  const imports = files.filter((f) => IMPORTING.test(f)).flatMap((f) => importsOf(root, f));
  for (const imp of imports) {
    const broken = directionRule(imp);
    const seen = failures.some((f) => f.file === imp.file && f.line === imp.line && f.import === imp.specifier);
    if (broken && !seen) failures.push({ file: imp.file, line: imp.line, import: imp.specifier, ...broken });
  }
  const arrows = folderArrows(imports);
  const cycles = folderCycles(arrows);
  for (const cycle of cycles) {
    // every cycle has an import running up the floor order: that is the one to cut
    const up = imports.filter((i) => isStatic(i) && cycle.includes(i.from) && cycle.includes(i.to) && rank(i.to) > rank(i.from));
    for (const imp of up) {
      failures.push({
        file: imp.file, line: imp.line, import: imp.specifier,
        rule: `cycle: folders ${cycle.join(' ↔ ')} import each other, and this import closes the cycle`,
        fix: `move the shared code down to ${imp.from}/ or a floor it may import, or pass it in; ${SEE}`,
      });
    }
  }
  const upward = [...arrows.keys()].filter((key) => against(...key.split(' → ')));
  const fileCycles = fileLevelCycles(imports);
  const ok = failures.length === 0 && upward.length <= FACADES.length;
  return { ok, failures, upward, fileCycles, report: report(ok, failures, upward, fileCycles) };
}

function listFiles(root, dir = '') {
  const out = [];
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
    const path = dir === '' ? entry.name : `${dir}/${entry.name}`;
    if (entry.name.startsWith('.') || under(path, SKIPPED)) continue;
    if (entry.isDirectory()) out.push(...listFiles(root, path));
    else if (entry.isFile()) out.push(path);
  }
  return out.sort();
}

const under = (file, prefixes) => prefixes.some((p) => file === p || file.startsWith(`${p}/`));
const countLines = (text) => text.split('\n').length - (text.endsWith('\n') ? 1 : 0);

/** The top-level folder a repo-relative path belongs to ('index.ts' for the package entry). */
function floorOf(file) {
  return file.includes('/') ? file.slice(0, file.indexOf('/')) : file;
}

/** Every relative specifier a file imports, with its kind and where it resolves. */
function importsOf(root, file) {
  const source = readFileSync(join(root, file), 'utf8');
  const text = blankComments(source);
  const original = source.split('\n');
  const found = [];
  const add = (index, specifier, kind) => {
    if (!specifier.startsWith('.')) return;
    const line = text.slice(0, index).split('\n').length;
    const target = resolveTarget(root, file, specifier);
    const from = floorOf(file);
    const to = target === null ? null : floorOf(target);
    const facadeComment = commentAbove(original, line).some((l) => /facade/i.test(l));
    found.push({ file, line, specifier, kind, target, from, to, facadeComment });
  };
  const staticRe = /(?<![\w$.])(import|export)(\s+type\b)?\s+(?:[\w$*{},\s]*?\s*from\s*)?(['"])([^'"]+)\3/g;
  for (const m of text.matchAll(staticRe)) {
    const typeOnly = m[2] !== undefined || /^\s*(import|export)\s+type\s/.test(m[0]);
    add(m.index + m[0].lastIndexOf(m[4]), m[4], typeOnly ? 'type-only' : m[1] === 'export' ? 're-export' : 'static');
  }
  for (const m of text.matchAll(/(?<![\w$.])import\s*\(\s*(['"])([^'"]+)\1\s*\)/g)) add(m.index, m[2], 'dynamic');
  return found;
}

/** The import's own line and the comment lines directly above it. */
function commentAbove(lines, line) {
  const out = [lines[line - 1]];
  for (let i = line - 2; i >= 0 && /^\s*(\/\/|\/\*|\*)/.test(lines[i]); i--) out.push(lines[i]);
  return out;
}

/** The imported file, repo-relative (a '.js' specifier names its '.ts' source); null outside the root. */
function resolveTarget(root, file, specifier) {
  const abs = resolve(root, dirname(file), specifier);
  const rel = relative(root, abs).split(sep).join('/');
  if (rel.startsWith('..')) return null;
  const source = rel.replace(/\.js$/, '.ts').replace(/\.mjs$/, '.mts');
  return source !== rel && existsSync(join(root, source)) ? source : rel;
}

/**
 * Blanks comments (keeping line breaks, so line numbers hold) and leaves strings, whose text the
 * import patterns read. A '/' starts a regular expression where an operand is expected.
 */
function blankComments(text) {
  let out = '';
  let i = 0;
  let prev = '';
  while (i < text.length) {
    const c = text[i];
    const next = text[i + 1];
    if (c === '/' && next === '/') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end === -1 ? text.length : end + 2;
      out += text.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
    } else if (c === '"' || c === "'" || c === '`' || (c === '/' && (prev === '' || '(,=:[!&|?{};+-*%<>~^'.includes(prev)))) {
      let j = i + 1;
      let inClass = false;
      while (j < text.length && (text[j] !== c || inClass) && !(c !== '`' && text[j] === '\n')) {
        if (c === '/' && text[j] === '[') inClass = true;
        if (c === '/' && text[j] === ']') inClass = false;
        j += text[j] === '\\' ? 2 : 1;
      }
      out += text.slice(i, j + 1);
      prev = c;
      i = j + 1;
    } else {
      out += c;
      if (!/\s/.test(c)) prev = c;
      i++;
    }
  }
  return out;
}

const isStatic = (imp) => imp.kind !== 'dynamic';
const isFacade = (from, to) => FACADES.some((f) => f.from === from && f.to === to);
function against(from, to) {
  const allowed = FLOORS[from];
  return allowed !== undefined && allowed !== '*' && from !== to && !allowed.includes(to);
}

/** The rule an import breaks, with what to do about it, or null. */
function directionRule(imp) {
  const { from, to, kind } = imp;
  if (under(imp.file, UNCHECKED)) return null;
  if (!(from in FLOORS)) {
    return {
      rule: `floors: top-level '${from}' is not in the table of floors`,
      fix: `add it to FLOORS in scripts/check-structure.mjs and to the table in docs/structure.md, or move the file into an existing floor`,
    };
  }
  if (to === null) return { rule: 'floors: the import leaves the repository', fix: 'import only files inside the package' };
  if (from === 'backends' && to !== 'backends') {
    return {
      rule: `backends: backends/ imports nothing outside backends/; got a ${kind} import of ${to}/`,
      fix: `move what it needs into backends/ (the contract), or have core pass it in; ${SEE}`,
    };
  }
  if (!against(from, to)) return null;
  if (isFacade(from, to) && kind === 'dynamic') {
    if (imp.facadeComment) return null;
    return {
      rule: `facade: ${from} → ${to} is a documented facade, but this import has no comment saying so`,
      fix: `add a one-line comment with the word "facade" on the line above (${SEE})`,
    };
  }
  const allowed = FLOORS[from].length ? FLOORS[from].join(', ') : 'nothing outside itself';
  if (isFacade(from, to)) {
    return {
      rule: `floors: ${from}/ may import ${allowed}, and ${to}/ only through the facade's dynamic import(); got a ${kind} import`,
      fix: `load it with await import() inside the facade method, under a one-line comment naming the facade; ${SEE}`,
    };
  }
  return {
    rule: `floors: ${from}/ may import ${allowed}; got a ${kind} import of ${to}/`,
    fix: `move the shared code down to ${from}/ or a floor it may import, or pass it in; ${SEE}`,
  };
}

/** 'from → to' for each pair of distinct top-level folders with an import between them, checked floors only. */
function folderArrows(imports) {
  const arrows = new Map();
  for (const imp of imports) {
    if (imp.to === null || imp.from === imp.to || under(imp.file, UNCHECKED)) continue;
    const key = `${imp.from} → ${imp.to}`;
    arrows.set(key, [...(arrows.get(key) ?? []), imp]);
  }
  return arrows;
}

/**
 * Folder-level strongly connected components of more than one folder, over static and type-only
 * imports. Dynamic imports are left out: they load on first call, after every module has been
 * evaluated, so they form no load-order cycle; the only upward ones are the counted facades.
 */
function folderCycles(arrows) {
  const edges = new Map();
  for (const [key, imps] of arrows) {
    if (!imps.some(isStatic)) continue;
    const [from, to] = key.split(' → ');
    edges.set(from, [...(edges.get(from) ?? []), to]);
  }
  return stronglyConnected(edges).filter((c) => c.length > 1);
}

/** File-level cycles (static imports) inside one folder: allowed, listed with reasons in docs/structure.md. */
function fileLevelCycles(imports) {
  const edges = new Map();
  for (const imp of imports.filter((i) => isStatic(i) && i.target !== null && !under(i.file, UNCHECKED))) {
    edges.set(imp.file, [...(edges.get(imp.file) ?? []), imp.target]);
  }
  // a cycle across folders is already a folder cycle, reported as a failure
  return stronglyConnected(edges).filter((c) => c.length > 1 && new Set(c.map(floorOf)).size === 1);
}

/** Tarjan's algorithm over an adjacency map. */
function stronglyConnected(edges) {
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const out = [];
  let counter = 0;
  const visit = (v) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v), index.get(w)));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      out.push(component.sort());
    }
  };
  for (const v of edges.keys()) if (!index.has(v)) visit(v);
  return out;
}

function report(ok, failures, upward, fileCycles) {
  const lines = [];
  for (const f of failures) {
    lines.push(`${f.file}:${f.line}${f.import ? ` imports '${f.import}'` : ''}`, `  rule: ${f.rule}`, `  fix:  ${f.fix}`);
  }
  const allowedUp = FACADES.length;
  const listed = upward.map((a) => (isFacade(...a.split(' → ')) ? `${a} (facade)` : a)).join(', ');
  lines.push(
    `${upward.length} arrow(s) between top-level folders run against the floor order (at most ${allowedUp}, the facades)${listed ? `: ${listed}` : ''}`,
    `${fileCycles.length} file-level cycle(s) inside single folders (reasons in docs/structure.md)${fileCycles.map((c) => `\n  ${c.join(' ↔ ')}`).join('')}`,
    ok ? 'structure: ok' : `structure: ${failures.length} failure(s)`,
  );
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
  const result = checkStructure(root);
  console.log(result.report);
  if (!result.ok) process.exit(1);
}
