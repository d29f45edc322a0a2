import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { init } from '../../lib/backend';
import { cosineSchedule, fit, setLearningRate } from '../../lib/train';
import { assertGenlabError, assertGenlabErrorAsync } from '../helpers';

describe('fit', () => {
  before(() => init({ quiet: true }));

  it('minimises a least-squares loss to the closed-form solution, recording a history', async () => {
    // y = 2·x1 − 3·x2 + 1 exactly; the least-squares solution is w = (2, −3), b = 1.
    const X = tf.tensor2d([
      [0, 0],
      [1, 0],
      [0, 1],
      [1, 1],
      [2, 1],
      [1, 3],
    ]);
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
    assert.ok(
      Math.abs(w1 - 2) < 0.01 && Math.abs(w2 + 3) < 0.01 && Math.abs(b.dataSync()[0] - 1) < 0.01,
      `w = ${w1}, ${w2}; b = ${b.dataSync()[0]}`,
    );
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
    assert.ok(
      counts.slice(1).every((c) => c === counts[1]),
      `tensor counts ${counts.join(',')}`,
    );
  });

  it('stops with a sentence when the loss diverges', async () => {
    await assertGenlabErrorAsync(
      () => fit({ steps: 3, quiet: true, step: (i) => ({ loss: i === 1 ? tf.scalar(NaN) : tf.scalar(1) }) }),
      /'loss' became NaN at step 2/,
      /lower the learning rate/,
    );
  });
});

describe('learning-rate schedules', () => {
  it('cosineSchedule goes from η0 to η_min along ½(1 + cos πt/T)', () => {
    const s = cosineSchedule(1, 0.1, 100);
    assert.strictEqual(s(0), 1);
    assert.ok(Math.abs(s(50) - 0.55) < 1e-12, `midpoint ${s(50)}`);
    assert.ok(Math.abs(s(100) - 0.1) < 1e-12 && Math.abs(s(1000) - 0.1) < 1e-12);
    assert.ok(Math.abs(s(25) - (0.1 + 0.45 * (1 + Math.SQRT1_2))) < 1e-12);
  });

  it('setLearningRate changes the step an optimizer takes', () => {
    // SGD: w ← w − η·∂L/∂w with L = w²/2, so one step from w = 1 lands at 1 − η.
    const w = tf.variable(tf.scalar(1));
    const sgd = tf.train.sgd(0.5);
    setLearningRate(sgd, 0.1);
    sgd.minimize(() => w.square().div(2) as tf.Scalar);
    assert.ok(Math.abs(w.dataSync()[0] - 0.9) < 1e-7);
    // Adam's first step is η·m̂/(√v̂ + ε) = η·sign(g) (up to ε): from 1 to 1 − η.
    const v = tf.variable(tf.scalar(1));
    const adam = tf.train.adam(0.5);
    setLearningRate(adam, 0.1);
    adam.minimize(() => v.square().div(2) as tf.Scalar);
    assert.ok(Math.abs(v.dataSync()[0] - 0.9) < 1e-5, `${v.dataSync()[0]}`);
    assertGenlabError(() => setLearningRate(sgd, -1), /positive number/);
  });
});
