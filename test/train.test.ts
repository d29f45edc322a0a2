import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { init } from '../lib/backend';
import { fit } from '../lib/train';
import { assertGenlabErrorAsync } from './helpers';

describe('fit', () => {
  before(() => init({ quiet: true }));

  it('minimises a least-squares loss to the closed-form solution, recording a history', async () => {
    // y = 2·x1 − 3·x2 + 1 exactly; the least-squares solution is w = (2, −3), b = 1.
    const X = tf.tensor2d([[0, 0], [1, 0], [0, 1], [1, 1], [2, 1], [1, 3]]);
    const y = tf.tensor2d([1, 3, -2, 0, 2, -6], [6, 1]);
    const w = tf.variable(tf.zeros([2, 1]));
    const b = tf.variable(tf.zeros([1]));
    const optimizer = tf.train.adam(0.1);
    const history = await fit({
      steps: 400,
      quiet: true,
      recordEvery: 10,
      step: () => {
        const loss = optimizer.minimize(() => X.matMul(w).add(b).sub(y).square().mean() as tf.Scalar, true)!;
        return { loss, half: 0.5 };
      },
    });
    assert.deepStrictEqual(history.step.slice(0, 3), [10, 20, 30]);
    assert.strictEqual(history.step.length, 40);
    assert.strictEqual(history.values.loss.length, 40);
    assert.ok(history.values.half.every((v) => v === 0.5));
    assert.ok(history.values.loss[39] < 1e-4, `final loss ${history.values.loss[39]}`);
    const [w1, w2] = w.dataSync();
    assert.ok(Math.abs(w1 - 2) < 0.01 && Math.abs(w2 + 3) < 0.01 && Math.abs(b.dataSync()[0] - 1) < 0.01, `w = ${w1}, ${w2}; b = ${b.dataSync()[0]}`);
    assert.ok(history.stepsPerSecond > 0 && history.seconds > 0);
  });

  it('frees every tensor a step makes: tf.memory().numTensors is flat across steps', async () => {
    const w = tf.variable(tf.randomNormal([16, 16], 0, 1, 'float32', 1));
    const optimizer = tf.train.adam(0.01);
    const counts: number[] = [];
    await fit({
      steps: 30,
      quiet: true,
      step: () => ({ loss: optimizer.minimize(() => w.matMul(w).square().mean() as tf.Scalar, true)! }),
      onStep: () => {
        counts.push(tf.memory().numTensors);
      },
    });
    // Adam creates its moment variables on the first step; from then on nothing grows.
    assert.ok(counts.slice(1).every((c) => c === counts[1]), `tensor counts ${counts.join(',')}`);
  });

  it('stops with a sentence when the loss diverges', async () => {
    await assertGenlabErrorAsync(
      () => fit({ steps: 3, quiet: true, step: (i) => ({ loss: i === 1 ? tf.scalar(NaN) : tf.scalar(1) }) }),
      /'loss' became NaN at step 2/,
      /lower the learning rate/,
    );
  });
});
