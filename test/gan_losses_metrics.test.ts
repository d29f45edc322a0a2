/** GAN losses on logits and the sample-quality metrics, against closed forms. */
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { init } from '../lib/engine/backend';
import { discriminatorLoss, minimaxGeneratorLoss, nonSaturatingGeneratorLoss } from '../lib/losses';
import { featureMoments, frechetDistance, frechetDistanceFromMoments, modeCoverage } from '../lib/metrics';
import { Random } from '../lib/random';
import { assertGenlabError, relError } from './helpers';

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

describe('GAN losses on logits', () => {
  before(() => init({ quiet: true }));

  it('discriminatorLoss = −E[log D(x)] − E[log(1 − D(G(z)))], by hand and for huge logits', () => {
    assert.ok(Math.abs(discriminatorLoss(tf.tensor1d([0]), tf.tensor1d([0])).dataSync()[0] - 2 * Math.log(2)) < 1e-6);
    // Real logits (2, −1), fake logit 3: −½(log σ(2) + log σ(−1)) − log(1 − σ(3)).
    const expected = -0.5 * (Math.log(sigmoid(2)) + Math.log(sigmoid(-1))) - Math.log(1 - sigmoid(3));
    assert.ok(relError(discriminatorLoss(tf.tensor2d([[2], [-1]]), tf.tensor2d([[3]])).dataSync(), [expected]) < 1e-6);
    assert.ok(Math.abs(discriminatorLoss(tf.tensor1d([1000]), tf.tensor1d([-1000])).dataSync()[0]) < 1e-6, 'a perfect discriminator has loss 0');
    assert.ok(relError(discriminatorLoss(tf.tensor1d([-1000]), tf.tensor1d([1000])).dataSync(), [2000]) < 1e-6, 'finite when fooled completely');
  });

  it('the minimax generator loss is E[log(1 − D(G(z)))]; the non-saturating one is −E[log D(G(z))]', () => {
    const logits = [-2, 0.5, 4];
    const d = logits.map(sigmoid);
    const minimax = d.reduce((s, di) => s + Math.log(1 - di), 0) / 3;
    const nonSat = -d.reduce((s, di) => s + Math.log(di), 0) / 3;
    assert.ok(relError(minimaxGeneratorLoss(tf.tensor1d(logits)).dataSync(), [minimax]) < 1e-6);
    assert.ok(relError(nonSaturatingGeneratorLoss(tf.tensor1d(logits)).dataSync(), [nonSat]) < 1e-6);
    assert.ok(Math.abs(nonSaturatingGeneratorLoss(tf.tensor1d([-1000])).dataSync()[0] - 1000) < 1e-3);
  });

  it('where D rejects the fakes (ℓ = −10) the minimax gradient vanishes and the non-saturating one does not', () => {
    // d/dℓ [−softplus(ℓ)] = −σ(ℓ);  d/dℓ [softplus(−ℓ)] = −σ(−ℓ) = −(1 − σ(ℓ)).
    const at = tf.tensor1d([-10]);
    const gMinimax = tf.grad((l: tf.Tensor) => minimaxGeneratorLoss(l))(at).dataSync()[0];
    const gNonSat = tf.grad((l: tf.Tensor) => nonSaturatingGeneratorLoss(l))(at).dataSync()[0];
    assert.ok(relError([gMinimax], [-sigmoid(-10)]) < 1e-4 && Math.abs(gMinimax) < 1e-4, `${gMinimax}`);
    assert.ok(relError([gNonSat], [-(1 - sigmoid(-10))]) < 1e-6, `${gNonSat}`);
    // And the discriminator's gradient on a fake logit is σ(ℓ)/N_fake.
    const gD = tf.grad((l: tf.Tensor) => discriminatorLoss(tf.tensor1d([1]), l))(tf.tensor1d([0.3, -2])).dataSync();
    assert.ok(relError(gD, [sigmoid(0.3) / 2, sigmoid(-2) / 2]) < 1e-6);
  });
});

describe('sample-quality metrics', () => {
  it('modeCoverage counts the classes with at least 1% of the samples', () => {
    const predictions = [...new Array(95).fill(3), 7, 7, 1, 1, 2];
    const { covered, counts } = modeCoverage(predictions, 10);
    assert.deepStrictEqual(counts, [0, 2, 1, 95, 0, 0, 0, 2, 0, 0]);
    assert.strictEqual(covered, 4);
    assert.strictEqual(modeCoverage(predictions, 10, { minFraction: 0.02 }).covered, 3);
    assertGenlabError(() => modeCoverage([10], 10), /class 10 is outside 0\.\.9/);
  });

  it('the Fréchet distance of diagonal Gaussians is ‖μ₁ − μ₂‖² + Σ (σ₁ − σ₂)²', () => {
    // μ: (0, 0) vs (1, 2); σ²: (1, 4) vs (9, 1): 5 + (1 − 3)² + (2 − 1)² = 10.
    assert.ok(Math.abs(frechetDistanceFromMoments([0, 0], [1, 0, 0, 4], [1, 2], [9, 0, 0, 1]) - 10) < 1e-9);
    // The same covariances in a rotated basis (commuting): the same distance.
    const c = Math.cos(0.7), s = Math.sin(0.7);
    const rotate = (a: number, b: number) => [c * c * a + s * s * b, c * s * (a - b), c * s * (a - b), s * s * a + c * c * b];
    assert.ok(Math.abs(frechetDistanceFromMoments([0, 0], rotate(1, 4), [1, 2], rotate(9, 1)) - 10) < 1e-9);
  });

  it('matches tr √(Σ₁Σ₂) = √(tr M + 2√det M) for non-commuting 2×2 covariances', () => {
    const s1 = [2, 1, 1, 2], s2 = [1, 0, 0, 3];
    const m = [s1[0] * s2[0] + s1[1] * s2[2], s1[0] * s2[1] + s1[1] * s2[3], s1[2] * s2[0] + s1[3] * s2[2], s1[2] * s2[1] + s1[3] * s2[3]];
    const trSqrt = Math.sqrt(m[0] + m[3] + 2 * Math.sqrt(m[0] * m[3] - m[1] * m[2]));
    const expected = 0.5 ** 2 + 0 + (2 + 2 + 1 + 3) - 2 * trSqrt;
    assert.ok(Math.abs(frechetDistanceFromMoments([0.5, 0], s1, [0, 0], s2) - expected) < 1e-9);
    assert.ok(Math.abs(frechetDistanceFromMoments([1, 2], s2, [1, 2], s2)) < 1e-9, 'zero between identical Gaussians');
  });

  it('from samples: moments by hand, and the distance between two sampled Gaussians near its closed form', () => {
    const m = featureMoments(tf.tensor2d([[1, 2], [3, 6], [5, 4]]));
    assert.deepStrictEqual(Array.from(m.mean), [3, 4]);
    assert.deepStrictEqual(Array.from(m.covariance), [4, 2, 2, 4]);
    const rng = new Random(9);
    const sample = (mu: number[], sd: number[], n: number) => tf.tensor2d(Array.from({ length: n }, () => mu.map((mi, i) => mi + sd[i] * rng.normal())));
    const fd = frechetDistance(sample([0, 0, 0], [1, 2, 1], 20000), sample([1, 0, -1], [1, 1, 3], 20000));
    // Closed form: 2 + (2 − 1)² + (1 − 3)² = 7; sampling error is a few hundredths here.
    assert.ok(Math.abs(fd - 7) < 0.15, `${fd}`);
    assertGenlabError(() => frechetDistance(tf.zeros([5, 3]), tf.zeros([5, 4])), /3 and 4 dimensions/);
  });
});
