/** Recurrent layers and the wrappers that apply a layer over time: TimeDistributed. */
import { registerLayer } from '../registry.js';
import { TimeDistributed } from './time-distributed.js';

export { TimeDistributed } from './time-distributed.js';

for (const cls of [TimeDistributed]) registerLayer(cls);
