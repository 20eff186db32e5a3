import { readFileSync } from 'node:fs';

/**
 * kiln's version, read from the package.json nearest above this module (src/ when run from
 * source, dist/src/ when built), so the package's own file stays the one place it is written.
 */
function readVersion(): string {
  for (let dir = new URL('.', import.meta.url); ; dir = new URL('..', dir)) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('package.json', dir), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'kiln' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // no package.json here: look one folder up
    }
    if (dir.pathname === '/') return 'unknown';
  }
}

export const version: string = readVersion();
