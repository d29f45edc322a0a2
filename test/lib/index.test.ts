/**
 * The front door, lib/index.ts: its naming rule (a model is a namespace, everything else is flat),
 * and the deprecated names from before the rule, which must stay the very same objects.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as genlab from '../../lib';
import * as aliases from '../../lib/aliases';
import * as losses from '../../lib/losses';
import * as autoencoder from '../../lib/models/autoencoder';
import * as classifier from '../../lib/models/classifier';
import * as conditionalGan from '../../lib/models/conditional_gan';
import * as gan from '../../lib/models/gan';
import * as pixelcnn from '../../lib/models/pixelcnn';
import * as vae from '../../lib/models/vae';
import * as unsupervised from '../../lib/unsupervised';

const MODELS: Record<string, Record<string, unknown>> = { classifier, autoencoder, vae, pixelcnn, gan, conditionalGan };

describe('the public API (lib/index.ts)', () => {
  it('exports each model file whole, as one namespace', () => {
    const exported = genlab as unknown as Record<string, Record<string, unknown>>;
    for (const [name, module] of Object.entries(MODELS)) {
      assert.deepStrictEqual(Object.keys(exported[name]).sort(), Object.keys(module).sort(), name);
      for (const key of Object.keys(module)) assert.strictEqual(exported[name][key], module[key], `${name}.${key}`);
    }
  });

  it("keeps its rule: no flat name is a model's function, except the deprecated aliases", () => {
    const aliasNames = new Set(Object.keys(aliases));
    const modelFunctions = new Set(
      Object.values(MODELS).flatMap((m) => Object.values(m).filter((v) => typeof v === 'function')),
    );
    const offending = Object.entries(genlab)
      .filter(([name, value]) => !aliasNames.has(name) && !(name in MODELS) && modelFunctions.has(value))
      .map(([name]) => name);
    assert.deepStrictEqual(offending, []);
  });

  it('the losses, metrics and unsupervised methods are flat names', () => {
    for (const name of [
      'klNormal',
      'negativeElbo',
      'stopGradient',
      'softmaxCrossEntropy',
      'kmeans',
      'assignClusters',
      'fitPca',
      'projectPca',
      'fitPixelBernoulli',
    ]) {
      assert.strictEqual(typeof (genlab as unknown as Record<string, unknown>)[name], 'function', name);
    }
  });

  it('every old name is the same object as its new one, so the grader guards both alike', () => {
    for (const key of Object.keys(losses))
      assert.strictEqual(
        (aliases.losses as Record<string, unknown>)[key],
        (losses as Record<string, unknown>)[key],
        `losses.${key}`,
      );
    for (const key of Object.keys(unsupervised))
      assert.strictEqual(
        (aliases.unsupervised as Record<string, unknown>)[key],
        (unsupervised as Record<string, unknown>)[key],
        `unsupervised.${key}`,
      );
    const renamed: Record<string, unknown> = {
      createClassifier: classifier.createClassifier,
      classifierFromEncoder: classifier.classifierFromEncoder,
      trainClassifier: classifier.trainClassifier,
      predictClasses: classifier.predictClasses,
      penultimateFeatures: classifier.penultimateFeatures,
      loadOrTrainMnistClassifier: classifier.loadOrTrainMnistClassifier,
      createAutoencoder: autoencoder.createAutoencoder,
      createVae: vae.createVae,
      createPixelCnn: pixelcnn.createPixelCnn,
      createGan: gan.createGan,
      createToyGan: gan.createToyGan,
    };
    for (const [name, value] of Object.entries(renamed))
      assert.strictEqual((genlab as unknown as Record<string, unknown>)[name], value, name);
    assert.deepStrictEqual(
      Object.keys(aliases).sort(),
      [...Object.keys(renamed), 'losses', 'unsupervised'].sort(),
      'every alias is checked here',
    );
  });

  it('each old name is marked @deprecated where it is defined, so editors strike it through', () => {
    const source = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'lib', 'aliases.ts'), 'utf8');
    const lines = source.split('\n');
    lines.forEach((line, i) => {
      if (/^export /.test(line)) assert.match(lines[i - 1], /@deprecated/, `line ${i + 1}: ${line}`);
    });
  });
});
