/** genlab's `tf`: TensorFlow.js itself, with logSigmoid's gradient working on intermediate tensors. */
import * as assert from 'assert';
import * as tfjs from '@tensorflow/tfjs';
import { init, tf } from '../../lib';

describe("genlab's tf", () => {
  before(() => init({ quiet: true }));

  it('is TensorFlow.js: the same classes and ops, one instance', () => {
    assert.strictEqual(tf.Tensor, tfjs.Tensor);
    assert.strictEqual(tf.softplus, tfjs.softplus);
    assert.strictEqual(tf.engine(), tfjs.engine());
  });

  it('logSigmoid: −softplus(−x) in value, and a gradient through an intermediate tensor (tfjs 4.22 loses it)', () => {
    const x = [-30, -1, 0, 0.5, 30];
    // By hand: log σ(x) = −log(1 + e^(−x)).
    const values = Array.from(tf.logSigmoid(tf.tensor1d(x)).dataSync());
    values.forEach((v, i) => assert.ok(Math.abs(v + Math.log1p(Math.exp(-x[i]))) < 1e-5, `${v} at ${x[i]}`));
    // d/dl mean log σ(−l) = −σ(l) / n: the input to logSigmoid is l.neg(), freed after the forward pass.
    const gradient = tf.grad((l: tf.Tensor) => tf.logSigmoid(l.neg()).mean())(tf.tensor1d(x));
    Array.from(gradient.dataSync()).forEach((g, i) =>
      assert.ok(Math.abs(g + 1 / (1 + Math.exp(-x[i])) / x.length) < 1e-6, `${g} at ${x[i]}`),
    );
  });
});
