import { describe, expect, it } from 'vitest';
import * as kiln from '../../index.js';
import * as layers from '../../layers/index.js';
import { Dense, Layer, getLayerClass, layerFromConfig, registerLayer, serializeLayer, type LayerConfig } from '../../layers/index.js';

class Scale extends Layer {
  static readonly className = 'TestScale';
  call(x: kiln.Tensor): kiln.Tensor {
    return kiln.ops.multiply(x, 2);
  }
  static fromConfig(config: LayerConfig): Scale {
    return new Scale({ name: config.name });
  }
}

describe('layer registry', () => {
  it('holds every exported layer class under its Keras name', () => {
    const classes = Object.values(layers).filter((v) => typeof v === 'function' && Object.prototype.hasOwnProperty.call(v, 'className'));
    expect(classes.length).toBeGreaterThanOrEqual(28);
    for (const cls of classes) expect(getLayerClass((cls as { className: string }).className)).toBe(cls);
    expect(getLayerClass('InputLayer')).toBe(layers.InputLayer);
  });

  it('rebuilds a layer from its serialized form', () => {
    const saved = serializeLayer(new Dense(3, { name: 'reg_dense', activation: 'relu' }));
    expect(saved.className).toBe('Dense');
    const layer = layerFromConfig(JSON.parse(JSON.stringify(saved)));
    expect(layer).toBeInstanceOf(Dense);
    expect(layer.getConfig()).toEqual(saved.config);
  });

  it('registers custom layers, once per name', () => {
    registerLayer(Scale);
    registerLayer(Scale);
    expect(layerFromConfig({ className: 'TestScale', config: { name: 's', trainable: true, dtype: 'float32' } })).toBeInstanceOf(Scale);
    class Other extends Scale {
      static override readonly className = 'TestScale';
    }
    expect(() => registerLayer(Other)).toThrow("registerLayer: a different class is already registered as 'TestScale'");
    class Nameless extends Scale {}
    expect(() => registerLayer(Nameless)).toThrow('registerLayer: the class Nameless needs a static className (the name its configs are saved under)');
  });

  it('lists the registered classes for an unknown one and points at registerLayer', () => {
    expect(() => layerFromConfig({ className: 'Conv9D', config: { name: 'c', trainable: true, dtype: 'float32' } }))
      .toThrow(/layerFromConfig: unknown layer class 'Conv9D'; registered classes: .*Dense.*\. Register a custom layer with kiln\.registerLayer\(YourLayer\)/);
  });
});
