/**
 * The child of kill-save.test.ts: saves one model to `path` again and again, version after
 * version, each version's weights all equal to the version number, and prints "saved <k>"
 * after each save returns, until it is killed.
 *   node --import tsx test/reliability/save-loop.ts <path> <first version>
 */
import * as kiln from '../../index.js';

const [path, first] = process.argv.slice(2);
await kiln.setBackend('reference');
// ~1.1 MB of weights: a save takes long enough for kills to land inside it
const model = new kiln.Sequential([kiln.Input({ shape: [256] }), new kiln.layers.Dense(512), new kiln.layers.Dense(256)]);
for (let k = Number(first); ; k++) {
  model.setWeights(model.getWeights().map((w) => kiln.fill([...w.shape], k)));
  await model.save(path);
  process.stdout.write(`saved ${k}\n`);
}
