/**
 * kiln.utils.plotModel: the SVG and DOT it writes, read back by the parsers in parse.ts and
 * compared with graphs written out by hand for models built here.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as kiln from '../../index.js';
import { findAll, parseDot, parseXml, textOf, type XmlElement } from './parse.js';

const { Dense, Add } = kiln.layers;
const dir = mkdtempSync(join(tmpdir(), 'kiln-plot-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Two inputs, two branches, a merge: in_a → d1, in_b → d2, d1 + d2 → add → out. */
function twoBranches() {
  const a = kiln.Input({ shape: [3], name: 'in_a' });
  const b = kiln.Input({ shape: [2], name: 'in_b' });
  const h = new Add({ name: 'add' }).apply([new Dense(5, { name: 'd1' }).apply(a), new Dense(5, { name: 'd2' }).apply(b)] as never);
  return new kiln.Model({ inputs: [a, b], outputs: new Dense(1, { name: 'out' }).apply(h), name: 'branches' });
}
const BRANCH_EDGES = [['in_a', 'd1'], ['in_b', 'd2'], ['d1', 'add'], ['d2', 'add'], ['add', 'out']];

interface Box { id: string; name: string; rect: { x: number; y: number; w: number; h: number }; text: string }

function svgBoxes(svg: XmlElement): Box[] {
  return findAll(svg, 'g', 'node').map((g) => {
    const r = findAll(g, 'rect')[0].attrs;
    return { id: g.attrs.id, name: textOf(findAll(g, 'title')[0]), rect: { x: +r.x, y: +r.y, w: +r.width, h: +r.height }, text: findAll(g, 'text').map(textOf).join('\n') };
  });
}

function svgEdges(svg: XmlElement, boxes: Box[]): string[][] {
  const byId = new Map(boxes.map((b) => [b.id, b.name]));
  return findAll(svg, 'g', 'edge').map((g) => [byId.get(g.attrs['data-from'])!, byId.get(g.attrs['data-to'])!]);
}

function dotNames(dot: ReturnType<typeof parseDot>): Map<string, string> {
  // the name is the label's first <b>…</b>, XML-escaped
  return new Map([...dot.nodes].map(([id, n]) => [id, textOf(findAll(parseXml(n.label), 'b')[0])]));
}

const sorted = (pairs: string[][]) => pairs.map((p) => p.join(' -> ')).sort();

describe('plotModel', () => {
  it('draws one box per layer and one edge per tensor passed, in SVG and DOT', async () => {
    const { svg, dot } = await kiln.utils.plotModel(twoBranches(), { showLayerNames: true });
    const root = parseXml(svg);
    const boxes = svgBoxes(root);
    expect(boxes.map((b) => b.name).sort()).toEqual(['add', 'd1', 'd2', 'in_a', 'in_b', 'out']);
    expect(sorted(svgEdges(root, boxes))).toEqual(sorted(BRANCH_EDGES));
    const graph = parseDot(dot);
    const names = dotNames(graph);
    expect([...names.values()].sort()).toEqual(['add', 'd1', 'd2', 'in_a', 'in_b', 'out']);
    expect(sorted(graph.edges.map(([f, t]) => [names.get(f)!, names.get(t)!]))).toEqual(sorted(BRANCH_EDGES));
    expect(textOf(parseXml(graph.nodes.get([...names].find(([, n]) => n === 'add')![0])!.label))).toBe('add (Add)');
  });

  it('starts and ends each edge on the boxes it joins, and lays out TB downwards and LR rightwards', async () => {
    for (const rankdir of ['TB', 'LR'] as const) {
      const root = parseXml((await kiln.utils.plotModel(twoBranches(), { rankdir })).svg);
      const boxes = svgBoxes(root);
      const at = (name: string) => boxes.find((b) => b.name === name)!.rect;
      for (const g of findAll(root, 'g', 'edge')) {
        const pts = [...findAll(g, 'path')[0].attrs.d.matchAll(/[ML]([-\d.]+),([-\d.]+)/g)].map((m) => [+m[1], +m[2]]);
        const from = boxes.find((b) => b.id === g.attrs['data-from'])!.rect;
        const to = boxes.find((b) => b.id === g.attrs['data-to'])!.rect;
        const onEdge = (p: number[], r: Box['rect']) => p[0] >= r.x - 1 && p[0] <= r.x + r.w + 1 && p[1] >= r.y - 1 && p[1] <= r.y + r.h + 1;
        expect(onEdge(pts[0], from), `${g.attrs['data-from']} start`).toBe(true);
        expect(onEdge(pts[pts.length - 1], to), `${g.attrs['data-to']} end`).toBe(true);
      }
      const axis = rankdir === 'TB' ? 'y' : 'x';
      for (const [a, b] of BRANCH_EDGES) expect(at(b)[axis], `${a} before ${b} (${rankdir})`).toBeGreaterThan(at(a)[axis]);
    }
  });

  it("shows Keras's cells: input and output shapes (none for an Input), the output dtype", async () => {
    const { svg, dot } = await kiln.utils.plotModel(twoBranches(), { showShapes: true, showDtype: true, showLayerNames: true });
    const text = new Map(svgBoxes(parseXml(svg)).map((b) => [b.name, b.text]));
    expect(text.get('in_a')).toBe('in_a (InputLayer)\nOutput shape: (None, 3)\nOutput dtype: float32');
    expect(text.get('d2')).toBe('d2 (Dense)\nInput shape: (None, 2)\nOutput shape: (None, 5)\nOutput dtype: float32');
    expect(text.get('add')).toBe('add (Add)\nInput shape: [(None, 5), (None, 5)]\nOutput shape: (None, 5)\nOutput dtype: float32');
    const graph = parseDot(dot);
    const label = [...graph.nodes.values()].map((n) => parseXml(n.label)).find((t) => textOf(findAll(t, 'b')[0]) === 'out')!;
    expect(findAll(label, 'td').map(textOf)).toEqual(['out (Dense)', 'Input shape: (None, 5)', 'Output shape: (None, 1)', 'Output dtype: float32']);
    expect(graph.name).toBe('branches');
  });

  it('shows class names alone and no shapes by default, as Keras 3', async () => {
    const { svg, dot } = await kiln.utils.plotModel(twoBranches());
    const titles = findAll(parseXml(svg), 'text', 'title').map(textOf).sort();
    expect(titles).toEqual(['Add', 'Dense', 'Dense', 'Dense', 'InputLayer', 'InputLayer']);
    expect(svg).not.toContain('shape');
    expect(dot).toContain('rankdir=TB');
    expect(dot).toContain('dpi=200');
  });

  it('draws a Sequential model as a chain without an Input box', async () => {
    const model = new kiln.Sequential([new Dense(4, { inputShape: [3], name: 's1' }), new Dense(2, { name: 's2' }), new Dense(1, { name: 's3' })]);
    const root = parseXml((await kiln.utils.plotModel(model, { showLayerNames: true })).svg);
    const boxes = svgBoxes(root);
    expect(boxes.map((b) => b.name)).toEqual(['s1', 's2', 's3']);
    expect(sorted(svgEdges(root, boxes))).toEqual(sorted([['s1', 's2'], ['s2', 's3']]));
  });

  it('draws a nested model as one box, or with expandNested as a cluster its edges enter and leave', async () => {
    const innerIn = kiln.Input({ shape: [4], name: 'inner_in' });
    const inner = new kiln.Model({ inputs: innerIn, outputs: new Dense(3, { name: 'inner_b' }).apply(new Dense(6, { name: 'inner_a' }).apply(innerIn)), name: 'encoder' });
    const x = kiln.Input({ shape: [4], name: 'x' });
    const outer = new kiln.Model({ inputs: x, outputs: new Dense(1, { name: 'head' }).apply(inner.apply(x) as never), name: 'outer' });

    const flat = parseXml((await kiln.utils.plotModel(outer, { showLayerNames: true })).svg);
    const flatBoxes = svgBoxes(flat);
    expect(flatBoxes.map((b) => b.name)).toEqual(['x', 'encoder', 'head']);
    expect(sorted(svgEdges(flat, flatBoxes))).toEqual(sorted([['x', 'encoder'], ['encoder', 'head']]));
    expect(findAll(flat, 'g', 'cluster')).toHaveLength(0);

    const { svg, dot } = await kiln.utils.plotModel(outer, { showLayerNames: true, expandNested: true });
    const root = parseXml(svg);
    const boxes = svgBoxes(root);
    expect(boxes.map((b) => b.name).sort()).toEqual(['head', 'inner_a', 'inner_b', 'inner_in', 'x']);
    expect(sorted(svgEdges(root, boxes))).toEqual(sorted([['x', 'inner_in'], ['inner_in', 'inner_a'], ['inner_a', 'inner_b'], ['inner_b', 'head']]));
    const [cluster] = findAll(root, 'g', 'cluster');
    expect(textOf(cluster)).toBe('encoder');
    const frame = findAll(cluster, 'rect')[0].attrs;
    for (const b of boxes.filter((b) => b.name.startsWith('inner'))) {
      expect(b.rect.x).toBeGreaterThanOrEqual(+frame.x);
      expect(b.rect.y + b.rect.h).toBeLessThanOrEqual(+frame.y + +frame.height);
    }
    const graph = parseDot(dot);
    const names = dotNames(graph);
    expect([...graph.clusters.values()]).toEqual([{ label: 'encoder', parent: null }]);
    const clustered = [...graph.nodes].filter(([, n]) => n.cluster !== null).map(([id]) => names.get(id)).sort();
    expect(clustered).toEqual(['inner_a', 'inner_b', 'inner_in']);
  });

  it('escapes hostile layer and model names: the SVG and DOT stay well-formed and show the names as text', async () => {
    const evil = `</text><script>alert("x")</script>&amp; '\u0007]]>`;
    const x = kiln.Input({ shape: [2], name: 'in"\\put' });
    const model = new kiln.Model({ inputs: x, outputs: new Dense(1, { name: evil }).apply(x), name: `m"}</title><svg onload=alert(1)>` });
    const { svg, dot } = await kiln.utils.plotModel(model, { showLayerNames: true, showShapes: true });
    const root = parseXml(svg);
    expect(findAll(root, 'script')).toHaveLength(0);
    const shown = evil.replace('\u0007', '\uFFFD');
    expect(svgBoxes(root).map((b) => b.name)).toEqual(['in"\\put', shown]);
    expect(textOf(findAll(root, 'title')[0])).toBe(`m"}</title><svg onload=alert(1)>`);
    const graph = parseDot(dot);
    expect(graph.name).toBe(`m"}</title><svg onload=alert(1)>`);
    expect([...dotNames(graph).values()]).toEqual(['in"\\put', shown]);
    expect(graph.edges).toHaveLength(1);
  });

  it('writes .svg and .dot files atomically when given toFile', async () => {
    const model = twoBranches();
    const plot = await kiln.utils.plotModel(model, { toFile: join(dir, 'm.svg') });
    expect(readFileSync(join(dir, 'm.svg'), 'utf8')).toBe(plot.svg);
    await kiln.utils.plotModel(model, { toFile: join(dir, 'm.dot') });
    expect(readFileSync(join(dir, 'm.dot'), 'utf8')).toBe(plot.dot);
  });

  it('fails clearly on bad input', async () => {
    const model = twoBranches();
    await expect(kiln.utils.plotModel(model, { toFile: join(dir, 'm.png') })).rejects.toThrow(/plotModel: toFile must end in \.svg, \.dot or \.gv.*m\.png/);
    await expect(kiln.utils.plotModel(model, { toFile: join(dir, 'missing', 'm.svg') })).rejects.toThrow(/plotModel: cannot write .*m\.svg: the folder .*missing does not exist/);
    expect(existsSync(join(dir, 'missing'))).toBe(false);
    await expect(kiln.utils.plotModel(model, { rankdir: 'BT' as never })).rejects.toThrow("plotModel: rankdir must be 'TB' or 'LR', got \"BT\"");
    await expect(kiln.utils.plotModel(model, { dpi: 0 })).rejects.toThrow('plotModel: dpi must be a positive number, got 0');
    await expect(kiln.utils.plotModel(model, { showShapes: 'yes' as never })).rejects.toThrow('plotModel: showShapes must be true or false, got "yes"');
    await expect(kiln.utils.plotModel({} as never)).rejects.toThrow('plotModel: expected a kiln Model, got object');
    const unbuilt = new kiln.Sequential([new Dense(2)]);
    await expect(kiln.utils.plotModel(unbuilt)).rejects.toThrow(/plotModel: the model 'sequential\w*' has not been built/);
  });
});
