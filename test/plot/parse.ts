/**
 * Readers for what plotModel and trainingReport write, written here and sharing no code with
 * kiln: a strict XML parser (well-formedness is what a hostile name would break) and a DOT
 * statement reader.
 */

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: (XmlElement | string)[];
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(text: string, at: string): string {
  return text.replace(/&([^;]*);/g, (_, e: string) => {
    if (e in ENTITIES) return ENTITIES[e];
    if (/^#\d+$/.test(e)) return String.fromCodePoint(Number(e.slice(1)));
    if (/^#x[0-9a-f]+$/i.test(e)) return String.fromCodePoint(parseInt(e.slice(2), 16));
    throw new Error(`unknown entity &${e}; in ${at}`);
  });
}

/** Parses one XML document (no DTD, no CDATA: kiln writes neither) and throws on anything ill-formed. */
export function parseXml(text: string): XmlElement {
  // XML 1.0's Char production: no C0 controls but tab/newline/return, no lone surrogates
  const bad = /[\u0000-\u0008\u000B\u000C\u000E-\u001F]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.exec(text);
  if (bad) throw new Error(`character U+${bad[0].charCodeAt(0).toString(16)} is not allowed in XML (offset ${bad.index})`);
  const root: XmlElement = { name: '#document', attrs: {}, children: [] };
  const stack = [root];
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('<?', i) || text.startsWith('<!--', i)) {
      const end = text.indexOf(text.startsWith('<?', i) ? '?>' : '-->', i);
      if (end < 0) throw new Error(`unclosed declaration or comment at ${i}`);
      i = end + (text.startsWith('<?', i) ? 2 : 3);
    } else if (text.startsWith('</', i)) {
      const m = /^<\/([A-Za-z_][\w:.-]*)\s*>/.exec(text.slice(i));
      if (!m) throw new Error(`bad end tag at ${i}`);
      const open = stack.pop()!;
      if (open.name !== m[1]) throw new Error(`</${m[1]}> closes <${open.name}> at ${i}`);
      i += m[0].length;
    } else if (text[i] === '<') {
      const m = /^<([A-Za-z_][\w:.-]*)((?:\s+[A-Za-z_][\w:.-]*\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>/.exec(text.slice(i));
      if (!m) throw new Error(`bad start tag at ${i}: ${text.slice(i, i + 40)}`);
      const attrs: Record<string, string> = {};
      for (const a of m[2].matchAll(/([A-Za-z_][\w:.-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
        if (a[1] in attrs) throw new Error(`attribute ${a[1]} twice at ${i}`);
        attrs[a[1]] = decode(a[2] ?? a[3], `attribute ${a[1]}`);
      }
      const el: XmlElement = { name: m[1], attrs, children: [] };
      stack[stack.length - 1].children.push(el);
      if (!m[3]) stack.push(el);
      i += m[0].length;
    } else {
      const end = text.indexOf('<', i);
      const raw = text.slice(i, end < 0 ? text.length : end);
      if (raw.includes('>') && /]]>/.test(raw)) throw new Error(`"]]>" in text at ${i}`);
      stack[stack.length - 1].children.push(decode(raw, `text at ${i}`));
      i += raw.length;
    }
  }
  if (stack.length !== 1) throw new Error(`<${stack[stack.length - 1].name}> is never closed`);
  const elements = root.children.filter((c): c is XmlElement => typeof c !== 'string');
  if (elements.length !== 1 || root.children.some((c) => typeof c === 'string' && c.trim() !== '')) throw new Error('expected exactly one root element');
  return elements[0];
}

/** Every element under `el` (itself included) named `name` and, if given, with class `cls`. */
export function findAll(el: XmlElement, name: string, cls?: string): XmlElement[] {
  const out: XmlElement[] = [];
  const walk = (e: XmlElement) => {
    if (e.name === name && (cls === undefined || e.attrs.class === cls)) out.push(e);
    for (const c of e.children) if (typeof c !== 'string') walk(c);
  };
  walk(el);
  return out;
}

/** The text inside an element, its descendants' included. */
export function textOf(el: XmlElement): string {
  return el.children.map((c) => (typeof c === 'string' ? c : textOf(c))).join('');
}

export interface DotGraph {
  name: string;
  nodes: Map<string, { label: string; cluster: string | null }>;
  edges: [string, string][];
  clusters: Map<string, { label: string; parent: string | null }>;
}

/**
 * Reads the DOT subset Graphviz documents for digraphs: quoted ids with backslash escapes, HTML
 * labels `<...>` with nested angle brackets, subgraphs; statements end with `;`.
 */
export function parseDot(text: string): DotGraph {
  const tokens: { kind: 'id' | 'html' | 'punct'; value: string }[] = [];
  for (let i = 0; i < text.length;) {
    const c = text[i];
    if (/\s/.test(c)) i++;
    else if (c === '"') {
      let v = '';
      for (i++; text[i] !== '"'; i++) {
        if (i >= text.length) throw new Error('unclosed string');
        if (text[i] === '\\') v += text[++i] === 'n' ? '\n' : text[i];
        else v += text[i];
      }
      i++;
      tokens.push({ kind: 'id', value: v });
    } else if (c === '<') {
      let depth = 0;
      const start = i;
      do {
        if (text[i] === '<') depth++;
        else if (text[i] === '>') depth--;
        i++;
        if (i > text.length) throw new Error('unclosed HTML label');
      } while (depth > 0);
      tokens.push({ kind: 'html', value: text.slice(start + 1, i - 1) });
    } else if (text.startsWith('->', i)) {
      tokens.push({ kind: 'punct', value: '->' });
      i += 2;
    } else if ('{}[]=;,'.includes(c)) {
      tokens.push({ kind: 'punct', value: c });
      i++;
    } else {
      const m = /^[A-Za-z0-9_.]+/.exec(text.slice(i));
      if (!m) throw new Error(`unexpected ${JSON.stringify(c)} at ${i}`);
      tokens.push({ kind: 'id', value: m[0] });
      i += m[0].length;
    }
  }
  let k = 0;
  const next = () => tokens[k++];
  const expectPunct = (p: string) => {
    const t = next();
    if (t?.kind !== 'punct' || t.value !== p) throw new Error(`expected ${p}, got ${JSON.stringify(t)}`);
  };
  const attrList = (): Record<string, string> => {
    const attrs: Record<string, string> = {};
    expectPunct('[');
    while (tokens[k].value !== ']') {
      const key = next().value;
      expectPunct('=');
      attrs[key] = next().value;
      if (tokens[k].value === ',') k++;
    }
    expectPunct(']');
    return attrs;
  };
  if (next().value !== 'digraph') throw new Error('expected digraph');
  const graph: DotGraph = { name: next().value, nodes: new Map(), edges: [], clusters: new Map() };
  const body = (cluster: string | null) => {
    expectPunct('{');
    while (tokens[k].value !== '}') {
      const t = next();
      if (t.kind === 'id' && t.value === 'subgraph') {
        const id = next().value;
        graph.clusters.set(id, { label: '', parent: cluster });
        body(id);
        continue;
      }
      if (t.kind === 'id' && ['graph', 'node', 'edge'].includes(t.value) && tokens[k].value === '[') {
        const attrs = attrList();
        if (t.value === 'graph' && cluster) graph.clusters.get(cluster)!.label = attrs.label ?? '';
      } else if (tokens[k].value === '->') {
        k++;
        graph.edges.push([t.value, next().value]);
        if (tokens[k].value === '[') attrList();
      } else {
        const attrs = tokens[k].value === '[' ? attrList() : {};
        graph.nodes.set(t.value, { label: attrs.label ?? '', cluster });
      }
      expectPunct(';');
    }
    expectPunct('}');
  };
  body(null);
  if (k !== tokens.length) throw new Error('text after the graph');
  return graph;
}
