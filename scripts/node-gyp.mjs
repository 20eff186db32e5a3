import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * npm's own node-gyp: npm names it while it runs lifecycle scripts, else it sits beside npm, else
 * in the project's node_modules under `root`. Shared by build-native.mjs and mutate-native.mjs.
 */
export function findNodeGyp(root) {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    join(dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  try {
    candidates.push(createRequire(join(root, 'package.json')).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not installed locally; the others may do
  }
  return candidates.find((c) => c && existsSync(c));
}
