// The seed chapter's TensorFlow GradientTape example, line for line in kiln:
// fit y = 2x + 3 + noise with W * x + b, MSE loss, SGD(0.01), 100 full-batch epochs.
import { pathToFileURL } from 'node:url';
import * as kiln from 'kiln';

const { ops, random, optimizers } = kiln;

export async function run({ seed = 42, epochs = 100, log = true } = {}) {
  kiln.setSeed(seed);

  // tidy frees the temporaries (the noise, the variables' initial tensors) and keeps what it returns
  const { x, y, W, b } = kiln.tidy(() => {
    // data: y = 2x + 3 + noise
    const x = random.normal([100]);
    const noise = random.normal([100], { stddev: 0.1 });
    const y = ops.add(ops.add(ops.multiply(x, 2), 3), noise);

    // the model's parameters
    const W = new kiln.Variable(random.normal([1]), { name: 'W' });
    const b = new kiln.Variable(kiln.zeros([1]), { name: 'b' });
    return { x, y, W, b };
  });
  const start = { W: (await W.data())[0], b: (await b.data())[0] };

  const linearRegression = (x: kiln.Tensor) => ops.add(ops.multiply(W, x), b);
  const meanSquaredError = (yTrue: kiln.Tensor, yPred: kiln.Tensor) => ops.mean(ops.square(ops.subtract(yTrue, yPred)));

  const optimizer = new optimizers.SGD({ learningRate: 0.01 });

  const history = { W: [start.W], b: [start.b], loss: [] as number[] };
  for (let epoch = 0; epoch < epochs; epoch++) {
    const loss = kiln.tidy(() => {
      const tape = new kiln.GradientTape();
      const loss = tape.record(() => {
        const yPred = linearRegression(x);
        return meanSquaredError(y, yPred);
      });
      const [dW, db] = tape.gradient(loss, [W, b]);
      optimizer.applyGradients([[dW, W], [db, b]]);
      return loss;
    });
    history.loss.push((await loss.data())[0]);
    loss.dispose();
    history.W.push((await W.data())[0]);
    history.b.push((await b.data())[0]);
  }

  if (log) {
    console.log(`W = ${history.W.at(-1)!.toFixed(4)}, b = ${history.b.at(-1)!.toFixed(4)} (true: 2, 3) after ${epochs} epochs`);
    console.log(`loss: ${history.loss[0].toFixed(4)} -> ${history.loss.at(-1)!.toFixed(4)}`);
  }
  const data = { x: await x.data(), y: await y.data() };
  kiln.dispose([x, y, W, b]);
  return { start, history, data };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await run();
}
