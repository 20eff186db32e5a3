/**
 * The structure check (scripts/check-structure.mjs, docs/structure.md): the real tree passes, and
 * a copy of it with one planted violation fails, naming the file and the rule it breaks.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { checkStructure, FACADES, MAX_LINES, type StructureResult } from '../scripts/check-structure.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SCRIPT = join(ROOT, 'scripts', 'check-structure.mjs');
// what the check never reads, left out of the copies
const NOT_COPIED = new Set(['node_modules', 'dist', '.git', 'build']);

const copies: string[] = [];
afterEach(() => {
  for (const dir of copies.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A copy of the tree's sources, with `files` (path → text) planted in it. */
function plant(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-structure-'));
  copies.push(dir);
  cpSync(ROOT, dir, { recursive: true, filter: (src) => !NOT_COPIED.has(relative(ROOT, src).split(/[\\/]/).pop()!) });
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
}

function failuresOf(result: StructureResult, file: string): string[] {
  return result.failures.filter((f) => f.file === file).map((f) => `${f.file}:${f.line} ${f.import ?? ''} | ${f.rule} | ${f.fix}`);
}

const lines = (n: number) => Array.from({ length: n }, (_, i) => `export const x${i} = ${i};\n`).join('');

describe('the real tree', () => {
  it('passes, with no more upward arrows than the documented facades', () => {
    const result = checkStructure(ROOT);
    expect(result.failures).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.upward.sort()).toEqual(['models → onnx', 'models → saving']);
    expect(FACADES.map((f) => `${f.from} → ${f.to}`).sort()).toEqual(result.upward);
    expect(result.report).toMatch(/2 arrow\(s\) between top-level folders run against the floor order \(at most 2, the facades\)/);
    expect(result.report).toMatch(/structure: ok$/);
  });

  it('has file-level cycles only inside one folder, each listed with its reason in docs/structure.md', () => {
    const docs = readFileSync(join(ROOT, 'docs', 'structure.md'), 'utf8');
    for (const cycle of checkStructure(ROOT).fileCycles) {
      expect(new Set(cycle.map((f) => f.split('/')[0])).size, cycle.join(' ↔ ')).toBe(1);
      expect(docs, `add "${cycle.join(' ↔ ')}" and its reason to docs/structure.md`).toContain(`\`${cycle.join(' ↔ ')}\`:`);
    }
  });
});

describe('planted violations fail, naming the file and the rule', () => {
  it(`a source file over ${MAX_LINES} lines; tests and exactly ${MAX_LINES} lines are fine`, () => {
    const dir = plant({
      'layers/core/huge.ts': lines(MAX_LINES + 1),
      'backends/native/src/cpu/huge.cc': '// x\n'.repeat(MAX_LINES + 5),
      'layers/core/full.ts': lines(MAX_LINES),
      'test/huge.test.ts': lines(MAX_LINES * 2),
    });
    const result = checkStructure(dir);
    expect(result.ok).toBe(false);
    expect(failuresOf(result, 'layers/core/huge.ts')).toEqual([
      `layers/core/huge.ts:${MAX_LINES + 1}  | size: ${MAX_LINES + 1} lines, over the ${MAX_LINES}-line limit | split it by concept into smaller files, each named for what it holds`,
    ]);
    expect(failuresOf(result, 'backends/native/src/cpu/huge.cc')).toHaveLength(1);
    expect(failuresOf(result, 'layers/core/full.ts')).toEqual([]);
    expect(failuresOf(result, 'test/huge.test.ts')).toEqual([]);
    expect(result.report).toContain(`layers/core/huge.ts:${MAX_LINES + 1}\n  rule: size: ${MAX_LINES + 1} lines`);
  });

  it('an upward import: src/ importing models/, by value, by type, or dynamically; the static ones close a cycle too', () => {
    const dir = plant({
      'src/planted.ts': [
        "import { Model } from '../models/model.js';",
        "import type { History } from '../models/history.js';",
        'export const m = Model;',
        'export type H = History;',
        "export const later = () => import('../models/sequential.js');",
      ].join('\n'),
    });
    const result = checkStructure(dir);
    expect(result.ok).toBe(false);
    const fix = 'move the shared code down to src/ or a floor it may import, or pass it in; see shared/STYLE.md lesson 14 and docs/structure.md';
    expect(failuresOf(result, 'src/planted.ts')).toEqual([
      `src/planted.ts:1 ../models/model.js | floors: src/ may import backends; got a static import of models/ | ${fix}`,
      `src/planted.ts:2 ../models/history.js | floors: src/ may import backends; got a type-only import of models/ | ${fix}`,
      `src/planted.ts:5 ../models/sequential.js | floors: src/ may import backends; got a dynamic import of models/ | ${fix}`,
      // models/ reaches src/ through every floor between: all of them are now one knot
      `src/planted.ts:1 ../models/model.js | cycle: folders layers ↔ losses ↔ metrics ↔ models ↔ optimizers ↔ src import each other, and this import closes the cycle | ${fix}`,
      `src/planted.ts:2 ../models/history.js | cycle: folders layers ↔ losses ↔ metrics ↔ models ↔ optimizers ↔ src import each other, and this import closes the cycle | ${fix}`,
    ]);
    expect(result.upward).toContain('src → models');
    expect(result.report).toContain("src/planted.ts:1 imports '../models/model.js'\n  rule: floors: src/ may import backends");
    expect(result.report).toMatch(/3 arrow\(s\) between top-level folders run against the floor order/);
  });

  it('a backends file importing src/', () => {
    const dir = plant({ 'backends/reference/planted.ts': "export { fail } from '../../src/errors.js';\n" });
    const result = checkStructure(dir);
    expect(failuresOf(result, 'backends/reference/planted.ts')).toEqual([
      'backends/reference/planted.ts:1 ../../src/errors.js | backends: backends/ imports nothing outside backends/; got a re-export import of src/ | move what it needs into backends/ (the contract), or have core pass it in; see shared/STYLE.md lesson 14 and docs/structure.md',
      'backends/reference/planted.ts:1 ../../src/errors.js | cycle: folders backends ↔ src import each other, and this import closes the cycle | move the shared code down to backends/ or a floor it may import, or pass it in; see shared/STYLE.md lesson 14 and docs/structure.md',
    ]);
  });

  it('a cycle across two folders, even where each may import anything (cli and the package entry)', () => {
    const dir = plant({ 'cli/planted.ts': "import { version } from '../index.js';\nexport const v = version;\n" });
    appendFileSync(join(dir, 'index.ts'), "export { v } from './cli/planted.js';\n");
    const result = checkStructure(dir);
    expect(result.ok).toBe(false);
    expect(failuresOf(result, 'cli/planted.ts')).toEqual([
      'cli/planted.ts:1 ../index.js | cycle: folders cli ↔ index.ts import each other, and this import closes the cycle | move the shared code down to cli/ or a floor it may import, or pass it in; see shared/STYLE.md lesson 14 and docs/structure.md',
    ]);
  });

  it('a cycle between two floors is reported as a cycle as well as an upward import', () => {
    const dir = plant({
      'layers/planted.ts': "import { b } from '../losses/planted.js';\nexport const a = () => b;\n",
      'losses/planted.ts': "import { a } from '../layers/planted.js';\nexport const b = () => a;\n",
    });
    const rules = checkStructure(dir).failures.filter((f) => f.file.endsWith('planted.ts')).map((f) => `${f.file}: ${f.rule}`);
    expect(rules).toEqual([
      'layers/planted.ts: floors: layers/ may import src, backends; got a static import of losses/',
      'losses/planted.ts: floors: losses/ may import src, backends; got a static import of layers/',
      'layers/planted.ts: cycle: folders layers ↔ losses import each other, and this import closes the cycle',
    ]);
  });

  it('a facade reaches up only by a dynamic import() under a comment naming it', () => {
    const bare = plant({ 'models/planted.ts': "export const load = () => import('../saving/load.js');\n" });
    expect(failuresOf(checkStructure(bare), 'models/planted.ts')).toEqual([
      'models/planted.ts:1 ../saving/load.js | facade: models → saving is a documented facade, but this import has no comment saying so | add a one-line comment with the word "facade" on the line above (see shared/STYLE.md lesson 14 and docs/structure.md)',
    ]);
    const commented = plant({ 'models/planted.ts': "// the documented facade to saving/\nexport const load = () => import('../saving/load.js');\n" });
    expect(checkStructure(commented).ok).toBe(true);
    const stat = plant({ 'models/planted.ts': "// the documented facade\nexport { loadWeights } from '../saving/load.js';\n" });
    expect(failuresOf(checkStructure(stat), 'models/planted.ts')).toEqual([
      "models/planted.ts:2 ../saving/load.js | floors: models/ may import models, layers, losses, optimizers, metrics, src, backends, and saving/ only through the facade's dynamic import(); got a re-export import | load it with await import() inside the facade method, under a one-line comment naming the facade; see shared/STYLE.md lesson 14 and docs/structure.md",
      'models/planted.ts:2 ../saving/load.js | cycle: folders models ↔ saving import each other, and this import closes the cycle | move the shared code down to models/ or a floor it may import, or pass it in; see shared/STYLE.md lesson 14 and docs/structure.md',
    ]);
  });

  it('imports in comments and strings are not imports', () => {
    const dir = plant({
      'src/planted.ts': [
        "// import { Model } from '../models/model.js';",
        "/* await import('../models/model.js') */",
        "export const text = 'see models/model.ts';",
      ].join('\n'),
    });
    expect(checkStructure(dir).ok).toBe(true);
  });

  it('the command prints the failures and exits 1, or prints ok and exits 0', () => {
    const bad = plant({ 'src/planted.ts': "import '../models/model.js';\n" });
    const failed = spawnSync(process.execPath, [SCRIPT, bad], { encoding: 'utf8' });
    expect(failed.status).toBe(1);
    expect(failed.stdout).toContain("src/planted.ts:1 imports '../models/model.js'\n  rule: floors: src/ may import backends; got a static import of models/\n  fix:  move the shared code down to src/ or a floor it may import");
    expect(failed.stdout).toMatch(/structure: 2 failure\(s\)\n$/);
    const good = spawnSync(process.execPath, [SCRIPT, ROOT], { encoding: 'utf8' });
    expect(good.status).toBe(0);
    expect(good.stdout).toMatch(/structure: ok\n$/);
  });
});
