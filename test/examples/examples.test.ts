import { describe, expect, it } from 'vitest';
import { run as twoInputs } from '../../examples/functional-two-inputs.js';
import { run as customLayer, Linear } from '../../examples/custom-layer.js';
import { run as customLoop } from '../../examples/custom-training-loop.js';

describe('examples/functional-two-inputs (two inputs, two outputs, weighted losses)', () => {
  it('learns both heads well above chance on held-out tickets', async () => {
    const { loss, evaluation } = await twoInputs({ samples: 1024, epochs: 4, verbose: 0 });
    expect(loss.at(-1)!).toBeLessThan(loss[0]);
    // the total is the priority loss plus 0.2 times the department loss
    expect(evaluation.loss).toBeCloseTo(evaluation.priority_loss + 0.2 * evaluation.department_loss, 4);
    expect(evaluation.priority_accuracy).toBeGreaterThan(0.85);
    expect(evaluation.department_accuracy).toBeGreaterThan(0.6);
  });
});

describe('examples/custom-layer (a registered subclassed layer)', () => {
  it('trains, saves and loads back as Linear layers with identical predictions', async () => {
    const { loss, maxDifference, loadedLayers, loadedIsLinear } = await customLayer({ epochs: 5, verbose: 0 });
    expect(loss.at(-1)!).toBeLessThan(loss[0]);
    expect(loadedLayers).toEqual(['Linear', 'ReLU', 'Linear']);
    expect(loadedIsLinear).toBe(true);
    expect(maxDifference).toBe(0);
    expect(new Linear({ units: 3 }).getConfig()).toMatchObject({ units: 3 });
  });
});

describe('examples/custom-training-loop (GradientTape, applyGradients, metrics by hand)', () => {
  it('lowers the loss each epoch and beats chance on validation digits', async () => {
    const { history } = await customLoop({ trainSamples: 1024, valSamples: 256, epochs: 2, log: false });
    expect(history).toHaveLength(2);
    expect(history[1].loss).toBeLessThan(history[0].loss);
    expect(history[1].trainAccuracy).toBeGreaterThan(history[0].trainAccuracy);
    expect(history[1].valAccuracy).toBeGreaterThan(0.5);
  });
});
