/**
 * The normalizing flow: squeeze and masks by hand; each coupling's log-determinant and the whole flow's against a
 * Jacobian found by automatic differentiation (one gradient per output) and a float64 LU in plain JavaScript; the
 * preprocessing and an identity flow's density in closed form; training, sampling and persistence.
 */
import * as assert from 'assert';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { init } from '../../../lib/backend';
import { loadMnist } from '../../../lib/data/mnist';
import { loadModel, saveModel } from '../../../lib/io';
import { Random } from '../../../lib/random';
import * as flow from '../../../lib/models/flow';
import { assertGenlabError, maxAbsDiff, tempDir } from '../../helpers';

/** log |det A| of a square matrix (row-major, n × n) by LU with partial pivoting, in float64. */
function logAbsDet(a: Float64Array, n: number): number {
  const m = Float64Array.from(a);
  let sum = 0;
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(m[i * n + k]) > Math.abs(m[p * n + k])) p = i;
    if (p !== k) for (let j = 0; j < n; j++) [m[k * n + j], m[p * n + j]] = [m[p * n + j], m[k * n + j]];
    const pivot = m[k * n + k];
    sum += Math.log(Math.abs(pivot));
    for (let i = k + 1; i < n; i++) {
      const f = m[i * n + k] / pivot;
      if (f !== 0) for (let j = k; j < n; j++) m[i * n + j] -= f * m[k * n + j];
    }
  }
  return sum;
}

/** The Jacobian ∂f(x)/∂x of a map on one example (x of batch 1), row j the gradient of output j, as float64. */
function jacobian(f: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor): { matrix: Float64Array; n: number } {
  const n = x.size;
  const matrix = new Float64Array(n * n);
  for (let j = 0; j < n; j++) {
    const row = tf.tidy(() =>
      tf
        .grad((v: tf.Tensor) => f(v).reshape([-1]).slice([j], [1]).sum())(x)
        .dataSync(),
    );
    matrix.set(row, j * n);
  }
  return { matrix, n };
}

/** Random weights for every network of a flow or a coupling (the zero-started last layers too). */
function randomize(net: tf.LayersModel, seed: number, scale = 0.3): void {
  net.setWeights(net.getWeights().map((w, i) => tf.randomNormal(w.shape, 0, scale, 'float32', seed + i)));
}

describe('normalizing flow', function () {
  this.timeout(180000);
  before(() => init({ quiet: true }));

  it('squeeze: each 2 × 2 block becomes one pixel’s four channels, in the order written out by hand; unsqueeze undoes it', () => {
    // A 4 × 4 image with values 0…15 (row-major).
    const x = tf.tensor4d(
      Array.from({ length: 16 }, (_, i) => i),
      [1, 4, 4, 1],
    );
    const s = flow.squeeze(x);
    assert.deepStrictEqual(s.shape, [1, 2, 2, 4]);
    // Block (0, 0) holds pixels 0, 1, 4, 5: (row 0, col 0), (0, 1), (1, 0), (1, 1).
    assert.deepStrictEqual(Array.from(s.dataSync()), [0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15]);
    const y = tf.randomNormal([2, 6, 4, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    assert.deepStrictEqual(Array.from(flow.unsqueeze(flow.squeeze(y)).dataSync()), Array.from(y.dataSync()));
    assertGenlabError(() => flow.squeeze(tf.zeros([1, 3, 4, 1]) as tf.Tensor4D), /even height and width/);
  });

  it('the checkerboard mask alternates from the top-left corner (parity 0) or the next pixel (parity 1), the same in every channel', () => {
    const m0 = flow.checkerboardMask(3, 3, 2, 0).dataSync();
    const byHand = [1, 0, 1, 0, 1, 0, 1, 0, 1];
    assert.deepStrictEqual(
      Array.from(m0).filter((_, i) => i % 2 === 0),
      byHand,
    );
    assert.deepStrictEqual(
      Array.from(m0).filter((_, i) => i % 2 === 1),
      byHand,
    );
    assert.deepStrictEqual(
      Array.from(flow.checkerboardMask(3, 3, 1, 1).dataSync()),
      byHand.map((b) => 1 - b),
    );
  });

  /** A coupling of each kind with random network weights, and an input for it. */
  function couplings(): { name: string; coupling: flow.Coupling; x: tf.Tensor; keptOf: (x: tf.Tensor) => number[] }[] {
    const rng = new Random(3);
    const board = flow.checkerboardMask(4, 4, 2, 1);
    const cb = flow.couplingNet(2, 2, 8, rng, [4, 4]);
    const ch = flow.couplingNet(2, 2, 8, rng, [2, 2]);
    const vec = flow.couplingNet(1, 1, 8, rng);
    [cb, ch, vec].forEach((net, i) => randomize(net, 100 * i));
    const boardValues = board.dataSync();
    return [
      {
        name: 'checkerboard, 4 × 4 × 2',
        coupling: { kind: 'checkerboard', mask: board, net: cb },
        x: tf.randomNormal([1, 4, 4, 2], 0, 1, 'float32', 7),
        keptOf: (x) => Array.from(x.dataSync()).filter((_, i) => boardValues[i] === 1),
      },
      {
        name: 'channel (second half kept), 2 × 2 × 4',
        coupling: { kind: 'channel', flip: true, net: ch },
        x: tf.randomNormal([1, 2, 2, 4], 0, 1, 'float32', 8),
        keptOf: (x) => Array.from(x.dataSync()).filter((_, i) => i % 4 >= 2),
      },
      {
        name: 'channel, a 2-D point',
        coupling: { kind: 'channel', flip: false, net: vec },
        x: tf.tensor2d([[0.7, -1.2]]),
        keptOf: (x) => [x.dataSync()[0]],
      },
    ];
  }

  it('each affine coupling: the kept part passes unchanged, the inverse undoes it to float precision, and log |det| matches the Jacobian’s', () => {
    for (const { name, coupling, x, keptOf } of couplings()) {
      const { y, logDet } = flow.couplingForward(coupling, x);
      assert.deepStrictEqual(keptOf(y), keptOf(x), `${name}: kept part unchanged`);
      assert.ok(maxAbsDiff(y.dataSync(), x.dataSync()) > 1e-3, `${name}: the changed part changed`);
      const back = flow.couplingInverse(coupling, y);
      assert.ok(maxAbsDiff(back.dataSync(), x.dataSync()) < 1e-5, `${name}: round trip`);
      const { matrix, n } = jacobian((v) => flow.couplingForward(coupling, v).y, x);
      const expected = logAbsDet(matrix, n);
      assert.ok(
        Math.abs(logDet.dataSync()[0] - expected) < 1e-4 * Math.max(1, Math.abs(expected)),
        `${name}: log|det| ${logDet.dataSync()[0]} vs ${expected}`,
      );
    }
  });

  it('the logit preprocessing: w and log |dw/dy| as computed by hand in float64', () => {
    const y = [0.001, 0.25, 0.5, 0.999];
    const alpha = 0.05;
    const { w, logDet } = flow.logitTransform(tf.tensor2d([y]), alpha);
    const s = y.map((v) => alpha + (1 - 2 * alpha) * v);
    assert.ok(
      maxAbsDiff(
        w.dataSync(),
        s.map((v) => Math.log(v / (1 - v))),
      ) < 1e-5,
    );
    const byHand = s.reduce((sum, v) => sum + Math.log(1 - 2 * alpha) - Math.log(v) - Math.log(1 - v), 0);
    assert.ok(Math.abs(logDet.dataSync()[0] - byHand) < 1e-4, `${logDet.dataSync()[0]} vs ${byHand}`);
  });

  it('an untrained flow is the identity after the preprocessing: −log p(y) is the closed form’s, and bits/dim adds 8', () => {
    const f = flow.createFlow({ filters: 4, seed: 1 });
    const y = tf.randomUniform([2, 28, 28, 1], 0, 1, 'float32', 4);
    const nll = flow.negativeLogDensity(f, y).dataSync();
    const alpha = f.alpha;
    const values = y.dataSync();
    for (let i = 0; i < 2; i++) {
      let logp = 0;
      for (let d = 0; d < 784; d++) {
        const s = alpha + (1 - 2 * alpha) * values[i * 784 + d];
        const w = Math.log(s / (1 - s));
        logp += -0.5 * Math.log(2 * Math.PI) - 0.5 * w * w + Math.log(1 - 2 * alpha) - Math.log(s) - Math.log(1 - s);
      }
      assert.ok(Math.abs(nll[i] + logp) < 1e-3 * Math.abs(logp), `image ${i}: ${nll[i]} vs ${-logp}`);
    }
    assert.strictEqual(flow.dequantizedBitsPerDim(784 * Math.LN2), 9);
  });

  it('the whole flow (two scales, squeezes, factor-outs): inverse undoes forward, and Σ log |det| matches the 784 × 784 Jacobian’s', () => {
    const f = flow.createFlow({ filters: 3, seed: 2 });
    randomize(f.networks, 11, 0.1);
    const w = tf.randomNormal([1, 28, 28, 1], 0, 1, 'float32', 5);
    const { z, logDet } = flow.forward(f, w);
    assert.deepStrictEqual(z.shape, [1, 784]);
    assert.ok(maxAbsDiff(flow.inverse(f, z).dataSync(), w.dataSync()) < 1e-4, 'round trip');
    const { matrix, n } = jacobian((v) => flow.forward(f, v).z, w);
    const expected = logAbsDet(matrix, n);
    assert.ok(Math.abs(expected) > 1, `a random flow changes volume (${expected})`);
    assert.ok(
      Math.abs(logDet.dataSync()[0] - expected) < 1e-3 * Math.abs(expected),
      `${logDet.dataSync()[0]} vs ${expected}`,
    );
  });

  it('disposeFlow frees every tensor a flow holds: its weights and its checkerboard masks', () => {
    const before = tf.memory().numTensors;
    const model = flow.createFlow({ filters: 4, blocks: 1, seed: 1 });
    const masks = model.steps.filter((s) => s.kind === 'coupling' && s.coupling.kind === 'checkerboard').length;
    // Two scales of 3 checkerboard couplings, then the last 4.
    assert.strictEqual(masks, 10);
    assert.strictEqual(tf.memory().numTensors - before, model.networks.weights.length + masks);
    flow.disposeFlow(model);
    assert.strictEqual(tf.memory().numTensors, before);
  });

  it('a config it cannot build is refused with a sentence naming the setting', () => {
    assertGenlabError(() => flow.createFlow({ scales: 3 }), /halves twice at most.*got 3/);
    assertGenlabError(() => flow.createFlow({ filters: 0 }), /filters must be a whole number ≥ 1, got 0/);
    assertGenlabError(() => flow.createFlow({ blocks: 1.5 }), /blocks must be a whole number ≥ 0, got 1\.5/);
    assertGenlabError(() => flow.createFlow({ alpha: 0.5 }), /alpha is in \(0, 0\.5\), got 0\.5/);
    assertGenlabError(() => flow.createFlow({ alpha: 0 }), /got 0: .*logit\(0\) = −∞/);
  });

  describe('on MNIST', () => {
    let train: tf.Tensor4D;
    let test: tf.Tensor4D;
    before(() => {
      const data = loadMnist({ limit: { train: 512, test: 64 } });
      train = data.train.images;
      test = data.test.images;
    });

    it('dequantize: round(255 x) plus a uniform in [0, 1), over 256; the same seed the same noise', () => {
      const y = flow.dequantize(test.slice(0, 2), 3);
      const pixels = Array.from(test.slice(0, 2).dataSync(), (v) => Math.round(255 * v));
      const u = Array.from(y.dataSync(), (v, i) => 256 * v - pixels[i]);
      assert.ok(Math.min(...u) >= -1e-4 && Math.max(...u) < 1 + 1e-4, 'u in [0, 1)');
      assert.ok(Math.max(...u) - Math.min(...u) > 0.9, 'u spread over [0, 1)');
      assert.deepStrictEqual(Array.from(flow.dequantize(test.slice(0, 2), 3).dataSync()), Array.from(y.dataSync()));
    });

    it('trains: bits/dim fall on the test images, memory stays flat; evaluate agrees with a direct computation', async () => {
      const f = flow.createFlow({ filters: 8, seed: 1 });
      const before = flow.evaluate(f, test);
      const tensors = tf.memory().numTensors;
      const history = await flow.trainFlow(f, train, {
        steps: 30,
        batchSize: 32,
        learningRate: 3e-3,
        seed: 1,
        quiet: true,
      });
      assert.strictEqual(tf.memory().numTensors, tensors, 'no tensor leaks from training');
      assert.strictEqual(history.values.loss.length, 30);
      const after = flow.evaluate(f, test, { batchSize: 30, seed: 4 });
      assert.ok(after.bitsPerDim < before.bitsPerDim - 0.5, `${before.bitsPerDim} → ${after.bitsPerDim}`);
      // evaluate's batches draw noise with seed + batch index: the same computed directly.
      const direct = tf.tidy(() => {
        const parts = [0, 30, 60].map((start, i) =>
          flow.negativeLogDensity(f, flow.dequantize(test.slice(start, Math.min(30, 64 - start)), 4 + i)),
        );
        return tf.concat(parts).mean().dataSync()[0];
      });
      assert.ok(Math.abs(after.negativeLogLikelihood - direct) < 1e-3 * Math.abs(direct));
      assert.ok(Math.abs(after.bitsPerDim - (direct / (784 * Math.LN2) + 8)) < 1e-6);
    });

    it('the first training step sets each ActNorm from its batch (the first: that batch’s logits to mean 0, variance 1, computed here); a loaded flow keeps its own', async () => {
      const f = flow.createFlow({ filters: 4, seed: 6 });
      assert.strictEqual(f.initialized, false);
      // Rebuilt from its untrained networks, it is still to be set.
      assert.strictEqual(flow.flowFromNetworks(f.networks, { filters: 4 }).initialized, false);
      const first = f.steps.find((s) => s.kind === 'actnorm');
      assert.ok(first && first.kind === 'actnorm');
      const identity = first.norm.getWeights().map((w) => Array.from(w.dataSync()));
      assert.deepStrictEqual(identity, [[0], [0]], 'the identity before any data');
      const x = train.slice(0, 16);
      // Adam at a step size too small to move a weight: what changes is the initialisation.
      const optimizer = tf.train.adam(1e-12);
      flow.trainStep(f, optimizer, x, { seed: 3 });
      assert.strictEqual(f.initialized, true);
      // The same noise by hand: y = (round(255 x) + u) / 256 with trainStep's seed, then the logit, in float64.
      const y = flow.dequantize(x, 3).dataSync();
      const w = Array.from(y, (v) => {
        const s = f.alpha + (1 - 2 * f.alpha) * v;
        return Math.log(s / (1 - s));
      });
      const mean = w.reduce((a, b) => a + b) / w.length;
      const std = Math.sqrt(w.reduce((a, b) => a + (b - mean) ** 2, 0) / w.length);
      const [bias, logScale] = first.norm.getWeights().map((t) => t.dataSync()[0]);
      assert.ok(Math.abs(bias + mean) < 1e-4, `bias ${bias} vs ${-mean}`);
      assert.ok(Math.abs(logScale + Math.log(std)) < 1e-4, `log scale ${logScale} vs ${-Math.log(std)}`);
      // A second step, and a loaded flow's first, leave the ActNorms where they are.
      const dir = tempDir();
      await saveModel(f.networks, path.join(dir, 'networks'));
      const back = flow.family.fromParts({ networks: await loadModel(path.join(dir, 'networks')) }, { filters: 4 });
      assert.strictEqual(back.initialized, true);
      const weightsOf = (g: flow.Flow) =>
        g.steps.flatMap((s) => (s.kind === 'actnorm' ? s.norm.getWeights().map((t) => Array.from(t.dataSync())) : []));
      const saved = weightsOf(back);
      flow.trainStep(back, tf.train.adam(1e-12), train.slice(16, 16), { seed: 4 });
      assert.ok(maxAbsDiff(weightsOf(back).flat(), saved.flat()) < 1e-6, 'a loaded flow is not set again');
      flow.trainStep(f, optimizer, train.slice(16, 16), { seed: 4 });
      assert.ok(maxAbsDiff(weightsOf(f).flat(), saved.flat()) < 1e-6, 'nor is a flow after its first step');
    });

    it('samples in one pass: images in [0, 1], the same seed the same images; codes go back to the images they came from', () => {
      const f = flow.createFlow({ filters: 4, seed: 3 });
      randomize(f.networks, 21, 0.05);
      const a = flow.sample(f, 3, 9);
      assert.deepStrictEqual(a.shape, [3, 28, 28, 1]);
      assert.ok(a.min().dataSync()[0] >= 0 && a.max().dataSync()[0] <= 1);
      assert.deepStrictEqual(Array.from(flow.sample(f, 3, 9).dataSync()), Array.from(a.dataSync()));
      assert.ok(maxAbsDiff(flow.sample(f, 3, 10).dataSync(), a.dataSync()) > 0.1, 'another seed, other images');
      // A code's image is the dequantized image it came from (y = (x + u)/256, within a pixel of x).
      const x = test.slice(0, 2);
      const back = flow.fromCode(f, flow.toCode(f, x, 1));
      assert.ok(maxAbsDiff(back.dataSync(), x.dataSync()) < 1.5 / 256, 'within one gray level');
    });

    it('saves and loads as one network, and refuses a config with another number of couplings', async () => {
      const f = flow.createFlow({ filters: 4, seed: 5 });
      randomize(f.networks, 31, 0.1);
      const dir = tempDir();
      await saveModel(f.networks, path.join(dir, 'networks'));
      const back = flow.family.fromParts({ networks: await loadModel(path.join(dir, 'networks')) }, {});
      const y = flow.dequantize(test.slice(0, 2), 1);
      assert.ok(
        maxAbsDiff(flow.negativeLogDensity(back, y).dataSync(), flow.negativeLogDensity(f, y).dataSync()) < 1e-3,
      );
      assertGenlabError(() => flow.flowFromNetworks(back.networks, { scales: 1 }), /hold 16 couplings.*has 10/);
    });
  });
});
