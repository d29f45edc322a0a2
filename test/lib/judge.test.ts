/** The judge of generated digits, with a judge made by hand whose every reading is worked out here. */
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { init } from '../../lib/backend';
import { judgeConditionalSamples, judgeSamples } from '../../lib/judge';

/**
 * A "classifier" of 2×1 images: its penultimate features are the two pixels themselves, and its logits are 10 times
 * the first pixel for digit 0, 10 times the second for digit 1, and 0 for digits 2 to 9.
 */
function handMadeJudge(): tf.LayersModel {
  const model = tf.sequential({
    layers: [
      tf.layers.flatten({ inputShape: [2, 1, 1] }),
      tf.layers.dense({ units: 2, useBias: false }),
      tf.layers.dense({ units: 10, useBias: false }),
    ],
  });
  const readout = new Array(20).fill(0);
  readout[0] = 10; // feature 0 → digit 0
  readout[11] = 10; // feature 1 → digit 1
  model.setWeights([tf.tensor2d([1, 0, 0, 1], [2, 2]), tf.tensor2d(readout, [2, 10])]);
  return model;
}

describe('judge', () => {
  before(() => init({ quiet: true }));

  it('reads coverage, confidence and the Fréchet distance as worked out by hand', () => {
    const judge = handMadeJudge();
    // Two images with the first pixel lit (read as 0) and one with the second (read as 1).
    const samples = tf.tensor4d([1, 0, 1, 0, 0, 1], [3, 2, 1, 1]);
    const q = judgeSamples(judge, samples, samples);
    assert.strictEqual(q.modesCovered, 2);
    assert.deepStrictEqual(q.counts, [2, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    // Each image's top probability is e^10 / (e^10 + 9): one logit of 10, nine of 0.
    const top = Math.exp(10) / (Math.exp(10) + 9);
    assert.ok(Math.abs(q.meanConfidence - top) < 1e-5, `${q.meanConfidence} vs ${top}`);
    // Against itself the features have the same mean and covariance: distance 0.
    assert.ok(Math.abs(q.frechetDistance) < 1e-4, `${q.frechetDistance}`);
    // Against a reference shifted by (1, 1) in feature space, the squared distance is ‖Δμ‖² = 2 (same covariance).
    const shifted = judgeSamples(judge, samples, samples.add(1));
    assert.ok(Math.abs(shifted.frechetDistance - 2) < 1e-3, `${shifted.frechetDistance}`);
  });

  it('counts how often the judge reads the digit each sample was asked to be', () => {
    const judge = handMadeJudge();
    const samples = tf.tensor4d([1, 0, 1, 0, 0, 1], [3, 2, 1, 1]);
    // Read as 0, 0, 1; asked for 0, 1, 1: two of three agree.
    const q = judgeConditionalSamples(judge, samples, [0, 1, 1], samples);
    assert.strictEqual(q.labelAgreement, 2 / 3);
    assert.strictEqual(q.modesCovered, 2);
  });
});
