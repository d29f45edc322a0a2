/** Metrics (accuracy, confusion, purity) and the sample-quality metrics, against hand-computed values and closed forms. */
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import {
  accuracy,
  clusterPurity,
  confusionMatrix,
  featureMoments,
  frechetDistance,
  frechetDistanceFromMoments,
  modeCoverage,
} from '../../lib/metrics';
import { Random } from '../../lib/random';
import { assertGenlabError } from '../helpers';

describe('metrics', () => {
  it('accuracy, confusion matrix and cluster purity by hand', () => {
    const y = [0, 0, 1, 1, 2, 2];
    const p = [0, 1, 1, 1, 2, 0];
    assert.strictEqual(accuracy(y, p), 4 / 6);
    assert.deepStrictEqual(confusionMatrix(y, p, 3), [
      [1, 1, 0],
      [0, 2, 0],
      [1, 0, 1],
    ]);
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
    const c = Math.cos(0.7),
      s = Math.sin(0.7);
    const rotate = (a: number, b: number) => [
      c * c * a + s * s * b,
      c * s * (a - b),
      c * s * (a - b),
      s * s * a + c * c * b,
    ];
    assert.ok(Math.abs(frechetDistanceFromMoments([0, 0], rotate(1, 4), [1, 2], rotate(9, 1)) - 10) < 1e-9);
  });

  it('matches tr √(Σ₁Σ₂) = √(tr M + 2√det M) for non-commuting 2×2 covariances', () => {
    const s1 = [2, 1, 1, 2],
      s2 = [1, 0, 0, 3];
    const m = [
      s1[0] * s2[0] + s1[1] * s2[2],
      s1[0] * s2[1] + s1[1] * s2[3],
      s1[2] * s2[0] + s1[3] * s2[2],
      s1[2] * s2[1] + s1[3] * s2[3],
    ];
    const trSqrt = Math.sqrt(m[0] + m[3] + 2 * Math.sqrt(m[0] * m[3] - m[1] * m[2]));
    const expected = 0.5 ** 2 + 0 + (2 + 2 + 1 + 3) - 2 * trSqrt;
    assert.ok(Math.abs(frechetDistanceFromMoments([0.5, 0], s1, [0, 0], s2) - expected) < 1e-9);
    assert.ok(Math.abs(frechetDistanceFromMoments([1, 2], s2, [1, 2], s2)) < 1e-9, 'zero between identical Gaussians');
  });

  it('from samples: moments by hand, and the distance between two sampled Gaussians near its closed form', () => {
    const m = featureMoments(
      tf.tensor2d([
        [1, 2],
        [3, 6],
        [5, 4],
      ]),
    );
    assert.deepStrictEqual(Array.from(m.mean), [3, 4]);
    assert.deepStrictEqual(Array.from(m.covariance), [4, 2, 2, 4]);
    const rng = new Random(9);
    const sample = (mu: number[], sd: number[], n: number) =>
      tf.tensor2d(Array.from({ length: n }, () => mu.map((mi, i) => mi + sd[i] * rng.normal())));
    const fd = frechetDistance(sample([0, 0, 0], [1, 2, 1], 20000), sample([1, 0, -1], [1, 1, 3], 20000));
    // Closed form: 2 + (2 − 1)² + (1 − 3)² = 7; sampling error is a few hundredths here.
    assert.ok(Math.abs(fd - 7) < 0.15, `${fd}`);
    assertGenlabError(() => frechetDistance(tf.zeros([5, 3]), tf.zeros([5, 4])), /3 and 4 dimensions/);
  });
});
