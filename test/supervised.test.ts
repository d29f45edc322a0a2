/**
 * Lab 1's supervised side and lab 2's models: softmax cross-entropy, MSE, metrics,
 * classifiers and autoencoders, against hand-computed values and closed forms.
 */
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { init } from '../lib/engine/backend';
import { loadMnist } from '../lib/data/mnist';
import { mse, softmaxCrossEntropy } from '../lib/losses';
import { accuracy, clusterPurity, confusionMatrix } from '../lib/metrics';
import { addGaussianNoise, createAutoencoder, encodeAll, evaluateMse, reconstruct, trainAutoencoder } from '../lib/models/autoencoder';
import { classifierFromEncoder, createClassifier, predictClasses, trainClassifier } from '../lib/models/classifier';
import { assertGenlabError, maxAbsDiff, relError } from './helpers';

describe('softmax cross-entropy and MSE', () => {
  before(() => init({ quiet: true }));

  it('softmaxCrossEntropy matches −log softmax(ℓ)_y by hand, and is finite for huge logits', () => {
    // Row 1: two equal logits (and a negligible third) → ln 2. Row 2: log(e + e² + e³) − 3. Row 3: label 1 of (1000, 0, −1000) → 1000.
    const logits = tf.tensor2d([[0, 0, -50], [1, 2, 3], [1000, 0, -1000]]);
    const expected = [Math.log(2 + Math.exp(-50)), Math.log(Math.E + Math.E ** 2 + Math.E ** 3) - 3, 1000];
    const byIndex = softmaxCrossEntropy(tf.tensor1d([0, 2, 1], 'int32'), logits);
    assert.deepStrictEqual(byIndex.shape, [3]);
    assert.ok(relError(byIndex.dataSync(), expected) < 1e-6, `${byIndex.dataSync()} vs ${expected}`);
    const byOneHot = softmaxCrossEntropy(tf.tensor2d([[1, 0, 0], [0, 0, 1], [0, 1, 0]]), logits);
    assert.ok(relError(byOneHot.dataSync(), expected) < 1e-6);
  });

  it('softmaxCrossEntropy with soft labels is −Σ_k y_k log softmax(ℓ)_k, and its gradient is softmax(ℓ) − y', () => {
    const logits = [0.5, -1, 2];
    const y = [0.2, 0.3, 0.5];
    const z = logits.reduce((s, l) => s + Math.exp(l), 0);
    const p = logits.map((l) => Math.exp(l) / z);
    const expected = -y.reduce((s, yk, k) => s + yk * Math.log(p[k]), 0);
    const value = softmaxCrossEntropy(tf.tensor2d([y]), tf.tensor2d([logits])).dataSync()[0];
    assert.ok(Math.abs(value - expected) < 1e-6, `${value} vs ${expected}`);
    const grad = tf.grad((l: tf.Tensor) => softmaxCrossEntropy(tf.tensor2d([y]), l).sum())(tf.tensor2d([logits]));
    assert.ok(relError(grad.dataSync(), p.map((pk, k) => pk - y[k])) < 1e-5);
  });

  it('softmaxCrossEntropy says what is wrong with mismatched shapes', () => {
    assertGenlabError(() => softmaxCrossEntropy(tf.tensor1d([0, 1], 'int32'), tf.zeros([3, 10])), /2 labels for 3 rows of logits/);
    assertGenlabError(() => softmaxCrossEntropy(tf.tensor1d([0], 'int32'), tf.zeros([10])), /expects logits shaped \[N, K\], got \[10\]/);
  });

  it('mse averages squared differences per example', () => {
    // (0.5² + 0 + 1² + 0) / 4 = 0.3125 and (0 + 0 + 0 + 2²) / 4 = 1.
    const x = tf.tensor4d([0, 1, 1, 0, 1, 1, 1, 1], [2, 2, 2, 1]);
    const xHat = tf.tensor4d([0.5, 1, 0, 0, 1, 1, 1, -1], [2, 2, 2, 1]);
    assert.ok(relError(mse(x, xHat).dataSync(), [0.3125, 1]) < 1e-7);
    assertGenlabError(() => mse(x, tf.zeros([2, 4])), /the shapes must match, but got \[2,2,2,1\] and \[2,4\]/);
  });
});

describe('metrics', () => {
  it('accuracy, confusion matrix and cluster purity by hand', () => {
    const y = [0, 0, 1, 1, 2, 2];
    const p = [0, 1, 1, 1, 2, 0];
    assert.strictEqual(accuracy(y, p), 4 / 6);
    assert.deepStrictEqual(confusionMatrix(y, p, 3), [[1, 1, 0], [0, 2, 0], [1, 0, 1]]);
    // Clusters {0,1,2} hold labels 3,3,4 (majority 3: 2 agree) and {3,4} hold 5,5 (2 agree): 4/5.
    const purity = clusterPurity([0, 0, 0, 1, 1], tf.tensor1d([3, 3, 4, 5, 5], 'int32'));
    assert.strictEqual(purity.purity, 0.8);
    assert.deepStrictEqual(purity.majority, [3, 5]);
    assert.deepStrictEqual(purity.sizes, [3, 2]);
  });

  it('metrics refuse mismatched or non-integer input in words', () => {
    assertGenlabError(() => accuracy([0, 1], [0]), /2 labels but 1 predictions/);
    assertGenlabError(() => accuracy([0.5], [0]), /class indices .* entry 0 is 0\.5/);
    assertGenlabError(() => confusionMatrix([0, 3], [0, 0], 3), /class 3 at entry 1 is outside 0\.\.2/);
  });
});

describe('classifiers', function () {
  this.timeout(120000);
  before(() => init({ quiet: true }));

  it('have the parameter counts of their architectures, counted by hand', () => {
    assert.strictEqual(createClassifier({ architecture: 'softmax', seed: 1 }).countParams(), 784 * 10 + 10);
    assert.strictEqual(createClassifier({ architecture: 'mlp', seed: 1 }).countParams(), 784 * 256 + 256 + 256 * 10 + 10);
    // conv 5×5×1×16 + 16, conv 5×5×16×32 + 32, dense 7·7·32 × 128 + 128, dense 128 × 10 + 10.
    assert.strictEqual(createClassifier({ architecture: 'cnn', seed: 1 }).countParams(), 416 + 12832 + 200832 + 1290);
    assertGenlabError(() => createClassifier({ architecture: 'rnn' as 'cnn' }), /architecture must be 'softmax', 'mlp' or 'cnn', got 'rnn'/);
  });

  it('the same seed gives the same weights', () => {
    const a = createClassifier({ architecture: 'mlp', seed: 5 }).getWeights()[0].dataSync();
    const b = createClassifier({ architecture: 'mlp', seed: 5 }).getWeights()[0].dataSync();
    assert.deepStrictEqual(Array.from(a), Array.from(b));
  });

  it('softmax regression learns MNIST digits, frees every step\'s tensors, and predicts in batches', async () => {
    const { train, test } = loadMnist({ limit: { train: 2000, test: 500 } });
    const model = createClassifier({ architecture: 'softmax', seed: 0 });
    const before = tf.memory().numTensors;
    const history = await trainClassifier(model, train.images, train.labels, { steps: 150, batchSize: 64, learningRate: 5e-3, quiet: true });
    assert.strictEqual(tf.memory().numTensors, before, 'no tensor outlives training (the optimizer included)');
    assert.ok(history.values.loss[149] < history.values.loss[0] / 3, `loss ${history.values.loss[0]} → ${history.values.loss[149]}`);
    const predicted = predictClasses(model, test.images, 128);
    const whole = (model.predict(test.images) as tf.Tensor).argMax(1).dataSync();
    assert.deepStrictEqual(Array.from(predicted), Array.from(whole), 'batched prediction = one big batch');
    assert.ok(accuracy(test.labels, predicted) > 0.8, `test accuracy ${accuracy(test.labels, predicted)}`);
  });

  it('classifierFromEncoder reuses the encoder\'s weights and adds a linear head', () => {
    const ae = createAutoencoder({ architecture: 'mlp', bottleneck: 8, seed: 2 });
    const model = classifierFromEncoder(ae.encoder, { classes: 10, seed: 3 });
    assert.strictEqual(model.countParams(), ae.encoder.countParams() + (8 + 1) * 10);
    for (const w of ae.encoder.trainableWeights) assert.ok(model.trainableWeights.includes(w), `${w.name} is shared`);
    assert.deepStrictEqual((model.predict(tf.zeros([2, 28, 28, 1])) as tf.Tensor).shape, [2, 10]);
  });
});

describe('autoencoders', function () {
  this.timeout(120000);
  before(() => init({ quiet: true }));

  it('the conv autoencoder has the lecture\'s layers: parameter count by hand, shapes 28 → 7 → 28', () => {
    const b = 16;
    const ae = createAutoencoder({ architecture: 'conv', bottleneck: b, seed: 1 });
    // Encoder: 3×3 convs 1→16, 16→32, 32→32, 32→32 (weights + biases), then 7·7·32 → b.
    assert.strictEqual(ae.encoder.countParams(), 160 + 4640 + 9248 + 9248 + 1568 * b + b);
    // Decoder: b → 7·7·32, then 3×3 up-convs 32→32, 32→32, 32→16, 16→1.
    assert.strictEqual(ae.decoder.countParams(), b * 1568 + 1568 + 9248 + 9248 + 4624 + 145);
    const shapes = ae.encoder.layers.filter((l) => l.getClassName() === 'Conv2D').map((l) => (l.outputShape as number[]).slice(1));
    assert.deepStrictEqual(shapes, [[14, 14, 16], [7, 7, 32], [7, 7, 32], [7, 7, 32]]);
    const out = reconstruct(ae, tf.zeros([3, 28, 28, 1]));
    assert.deepStrictEqual(out.shape, [3, 28, 28, 1]);
    const v = out.dataSync();
    assert.ok(v.every((p) => p > 0 && p < 1), 'the decoder ends in a sigmoid');
    // A zero code decodes to σ(bias) = MNIST's mean intensity 0.1307 (every ReLU before it gets 0 · w + 0).
    const blank = ae.decoder.predict(tf.zeros([1, b])) as tf.Tensor;
    assert.ok(Array.from(blank.dataSync()).every((p) => Math.abs(p - 0.1307) < 1e-4), 'the output bias starts at the mean intensity');
  });

  it('the MLP autoencoder is 784 → 256 → z → 256 → 784', () => {
    const ae = createAutoencoder({ architecture: 'mlp', bottleneck: 32, seed: 1 });
    assert.strictEqual(ae.encoder.countParams(), 784 * 256 + 256 + 256 * 32 + 32);
    assert.strictEqual(ae.decoder.countParams(), 32 * 256 + 256 + 256 * 784 + 784);
    assertGenlabError(() => createAutoencoder({ bottleneck: 0 }), /bottleneck must be a whole number ≥ 1, got 0/);
    assertGenlabError(() => reconstruct(ae, tf.zeros([2, 784])), /images shaped \[N, 28, 28, 1\], got \[2,784\]/);
  });

  it('training lowers the reconstruction error below the mean image\'s, and evaluateMse agrees with a direct computation', async () => {
    const { train, test } = loadMnist({ limit: { train: 1000, test: 200 } });
    const ae = createAutoencoder({ architecture: 'mlp', bottleneck: 16, seed: 0 });
    const before = tf.memory().numTensors;
    await trainAutoencoder(ae, train.images, { steps: 200, learningRate: 2e-3, quiet: true });
    assert.strictEqual(tf.memory().numTensors, before);
    const error = evaluateMse(ae, test.images, { batchSize: 64 });
    // Independent: the MSE from the reconstructions, summed in float64.
    const x = test.images.dataSync();
    const r = reconstruct(ae, test.images).dataSync();
    let sum = 0;
    for (let i = 0; i < x.length; i++) sum += (x[i] - r[i]) ** 2;
    assert.ok(Math.abs(error - sum / x.length) < 1e-5, `${error} vs ${sum / x.length}`);
    // Baseline: predicting the mean training image for every input.
    const mean = train.images.mean(0).dataSync();
    let baseline = 0;
    for (let i = 0; i < x.length; i++) baseline += (x[i] - mean[i % 784]) ** 2;
    baseline /= x.length;
    assert.ok(error < 0.7 * baseline, `autoencoder MSE ${error} vs mean-image MSE ${baseline}`);
  });

  it('encodeAll encodes in batches what one pass encodes, and leaves only its result behind', () => {
    const ae = createAutoencoder({ architecture: 'mlp', bottleneck: 4, seed: 6 });
    const x = tf.randomUniform([25, 28, 28, 1], 0, 1, 'float32', 8);
    const whole = (ae.encoder.predict(x) as tf.Tensor).dataSync();
    const before = tf.memory().numTensors;
    const codes = encodeAll(ae, x, 10);
    assert.strictEqual(tf.memory().numTensors, before + 1, 'only the codes remain');
    assert.deepStrictEqual(codes.shape, [25, 4]);
    assert.ok(maxAbsDiff(codes.dataSync(), whole) < 1e-6);
  });

  it('addGaussianNoise adds seeded noise of the given spread, clipped to [0, 1]', () => {
    const x = tf.fill([1, 100, 100, 1], 0.5);
    const noisy = addGaussianNoise(x, { std: 0.1, seed: 3 });
    const v = noisy.dataSync();
    let mean = 0, sq = 0;
    for (const p of v) { mean += p; sq += (p - 0.5) ** 2; }
    mean /= v.length;
    assert.ok(Math.abs(mean - 0.5) < 0.005 && Math.abs(Math.sqrt(sq / v.length) - 0.1) < 0.005, `mean ${mean}, sd ${Math.sqrt(sq / v.length)}`);
    assert.ok(addGaussianNoise(x, { std: 5, seed: 3 }).dataSync().every((p) => p >= 0 && p <= 1));
    assert.deepStrictEqual(Array.from(addGaussianNoise(x, { std: 0.1, seed: 3 }).dataSync()), Array.from(v));
  });
});
