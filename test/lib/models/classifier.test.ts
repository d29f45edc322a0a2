/** The classifiers of lab 1 (and lab 2's fine-tuning head), against hand counts and a direct computation. */
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { init } from '../../../lib/backend';
import { loadMnist } from '../../../lib/data/mnist';
import { softmaxCrossEntropy } from '../../../lib/losses';
import { accuracy } from '../../../lib/metrics';
import * as autoencoder from '../../../lib/models/autoencoder';
import * as classifier from '../../../lib/models/classifier';
import { assertGenlabError } from '../../helpers';

describe('classifiers', function () {
  this.timeout(120000);
  before(() => init({ quiet: true }));

  it('have the parameter counts of their architectures, counted by hand', () => {
    assert.strictEqual(classifier.createClassifier({ architecture: 'softmax', seed: 1 }).countParams(), 784 * 10 + 10);
    assert.strictEqual(
      classifier.createClassifier({ architecture: 'mlp', seed: 1 }).countParams(),
      784 * 256 + 256 + 256 * 10 + 10,
    );
    // conv 5×5×1×16 + 16, conv 5×5×16×32 + 32, dense 7·7·32 × 128 + 128, dense 128 × 10 + 10.
    assert.strictEqual(
      classifier.createClassifier({ architecture: 'cnn', seed: 1 }).countParams(),
      416 + 12832 + 200832 + 1290,
    );
    assertGenlabError(
      () => classifier.createClassifier({ architecture: 'rnn' as 'cnn' }),
      /architecture must be 'softmax', 'mlp' or 'cnn', got 'rnn'/,
    );
  });

  it('the same seed gives the same weights', () => {
    const a = classifier.createClassifier({ architecture: 'mlp', seed: 5 }).getWeights()[0].dataSync();
    const b = classifier.createClassifier({ architecture: 'mlp', seed: 5 }).getWeights()[0].dataSync();
    assert.deepStrictEqual(Array.from(a), Array.from(b));
  });

  it("softmax regression learns MNIST digits, frees every step's tensors, and predicts in batches", async () => {
    const { train, test } = loadMnist({ limit: { train: 2000, test: 500 } });
    const model = classifier.createClassifier({ architecture: 'softmax', seed: 0 });
    const before = tf.memory().numTensors;
    const history = await classifier.trainClassifier(model, train, {
      steps: 150,
      batchSize: 64,
      learningRate: 5e-3,
      quiet: true,
    });
    assert.strictEqual(tf.memory().numTensors, before, 'no tensor outlives training (the optimizer included)');
    assert.ok(
      history.values.loss[149] < history.values.loss[0] / 3,
      `loss ${history.values.loss[0]} → ${history.values.loss[149]}`,
    );
    const predicted = classifier.predictClasses(model, test.images, 128);
    const whole = (model.predict(test.images) as tf.Tensor).argMax(1).dataSync();
    assert.deepStrictEqual(Array.from(predicted), Array.from(whole), 'batched prediction = one big batch');
    assert.ok(accuracy(test.labels, predicted) > 0.8, `test accuracy ${accuracy(test.labels, predicted)}`);
  });

  it("classifierFromEncoder reuses the encoder's weights and adds a linear head", () => {
    const ae = autoencoder.createAutoencoder({ architecture: 'mlp', bottleneck: 8, seed: 2 });
    const model = classifier.classifierFromEncoder(ae.encoder, { classes: 10, seed: 3 });
    assert.strictEqual(model.countParams(), ae.encoder.countParams() + (8 + 1) * 10);
    for (const w of ae.encoder.trainableWeights) assert.ok(model.trainableWeights.includes(w), `${w.name} is shared`);
    assert.deepStrictEqual((model.predict(tf.zeros([2, 28, 28, 1])) as tf.Tensor).shape, [2, 10]);
  });

  it('evaluate gives the mean cross-entropy and the accuracy that a direct float64 computation gives', () => {
    const { test } = loadMnist({ limit: { test: 230 } });
    const model = classifier.createClassifier({ architecture: 'mlp', hiddenUnits: [16], seed: 4 });
    const result = classifier.evaluate(model, test, { batchSize: 100 }); // 100 + 100 + 30: a short last batch
    const logits = (model.predict(test.images) as tf.Tensor).arraySync() as number[][];
    const labels = Array.from(test.labels.dataSync());
    let loss = 0;
    let correct = 0;
    logits.forEach((l, i) => {
      const max = Math.max(...l);
      const logSumExp = max + Math.log(l.reduce((s, v) => s + Math.exp(v - max), 0));
      loss += logSumExp - l[labels[i]];
      if (l.indexOf(max) === labels[i]) correct++;
    });
    assert.ok(Math.abs(result.loss - loss / labels.length) < 1e-4, `${result.loss} vs ${loss / labels.length}`);
    assert.strictEqual(result.accuracy, correct / labels.length);
    assertGenlabError(
      () => classifier.evaluate(model, { images: test.images, labels: test.labels.slice(0, 10) }),
      /230 images but 10 labels/,
    );
  });

  it('trainStep returns the batch loss before the update and its accuracy, and needs labels', () => {
    const { train } = loadMnist({ limit: { train: 32 } });
    const model = classifier.createClassifier({ architecture: 'softmax', seed: 2 });
    const expected = tf.tidy(
      () =>
        softmaxCrossEntropy(train.labels, model.predict(train.images) as tf.Tensor)
          .mean()
          .dataSync()[0],
    );
    const optimizer = tf.train.adam(1e-3);
    const { loss, accuracy: batchAccuracy } = classifier.trainStep(model, optimizer, {
      x: train.images,
      y: train.labels,
    });
    assert.ok(Math.abs(loss.dataSync()[0] - expected) < 1e-5);
    assert.ok(batchAccuracy.dataSync()[0] >= 0 && batchAccuracy.dataSync()[0] <= 1);
    assertGenlabError(() => classifier.trainStep(model, optimizer, { x: train.images }), /needs labels/);
  });

  it('the older trainClassifier(model, images, labels, options) trains exactly as trainClassifier(model, { images, labels }, options)', async () => {
    const { train } = loadMnist({ limit: { train: 256 } });
    const options = { steps: 5, batchSize: 32, seed: 3, quiet: true };
    const a = classifier.createClassifier({ architecture: 'softmax', seed: 9 });
    const b = classifier.createClassifier({ architecture: 'softmax', seed: 9 });
    const newer = await classifier.trainClassifier(a, train, options);
    const older = await classifier.trainClassifier(b, train.images, train.labels, options);
    assert.deepStrictEqual(older.values, newer.values);
  });
});
