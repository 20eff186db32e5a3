/**
 * The layer mapping table covers kiln.layers: every layer class has a row (some rows trace the
 * layer's call on purpose, as Lambda's and Dot's do) or is listed below with the reason it has
 * none, so a new layer or family cannot fall through to tracing unnoticed.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import { LAYERS } from '../../onnx/index.js';
import { FAMILY_ROWS } from '../../onnx/layers/index.js';

/** Layer classes kiln.layers exports that have no row, each traced when exported. */
const WITHOUT_ROW = new Set<unknown>([
  // the base class: a custom layer's own call is traced into primitives
  kiln.layers.Layer,
  // abstract: its subclasses (Add, Subtract, …) have rows, and a user's own subclass is traced
  kiln.layers.Merge,
  // a list of cells for RNN, which refuses to export it (onnx/layers/recurrent.ts): no ONNX op
  // describes the stack, and kiln's loop cannot be traced with the batch size left open
  kiln.layers.StackedRNNCells,
  // abstract bases: their subclasses have rows, and a user's own subclass is traced
  kiln.layers.RNNCell,
  kiln.layers.DropoutRNNCell,
  kiln.layers.AttentionLayer,
  kiln.layers.HeadAttention,
]);

const layerClasses = Object.entries(kiln.layers).filter(
  ([, v]) => typeof v === 'function' && (v === kiln.layers.Layer || v.prototype instanceof kiln.layers.Layer),
) as [string, typeof kiln.layers.Layer & { className?: string }][];

describe('the ONNX layer mapping table', () => {
  it('finds the layer classes of kiln.layers', () => {
    expect(layerClasses.length).toBeGreaterThan(20);
  });

  it.each(layerClasses)('%s has a row, or is listed as having none', (name, cls) => {
    if (WITHOUT_ROW.has(cls)) {
      expect(LAYERS[name], `${name} is listed as having no row, but has one`).toBeUndefined();
      return;
    }
    expect(cls.className, `${name} has no static className`).toBe(name);
    expect(LAYERS[name], `${name} has no row in onnx/layers/<family>.ts (or add it to WITHOUT_ROW, saying why it is traced)`).toBeDefined();
  });

  it('keys each row by a registered layer class', () => {
    for (const name of Object.keys(LAYERS)) expect(kiln.layers.getLayerClass(name), name).toBeDefined();
  });

  it('has one file per layer family, named as its folder under layers/, and each class in one family', () => {
    const seen = new Map<string, string>();
    for (const [family, rows] of Object.entries(FAMILY_ROWS)) {
      expect(existsSync(new URL(`../../layers/${family}/`, import.meta.url)), `layers/${family}/`).toBe(true);
      for (const [name] of rows) {
        expect(seen.get(name), `${name} has rows in ${seen.get(name)} and ${family}`).toBeUndefined();
        seen.set(name, family);
      }
    }
    expect(seen.size).toBe(Object.keys(LAYERS).length);
  });
});
