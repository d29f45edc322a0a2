import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { init } from '../../../lib/backend';
import { batches, binarize, binarizeStochastic } from '../../../lib/data/batches';
import { Random } from '../../../lib/random';
import { assertGenlabError } from '../../helpers';

describe('batches and binarization', () => {
  before(() => init({ quiet: true }));

  it('visits every example exactly once per epoch, reshuffling each epoch', () => {
    const x = tf.range(0, 10).reshape([10, 1]);
    const y = tf.range(100, 110);
    const it = batches(x, y, { batchSize: 5, seed: 3 });
    const epochs: number[][] = [[], []];
    for (let i = 0; i < 4; i++) {
      const b = it.next().value;
      const xv = Array.from(b.x.dataSync());
      assert.deepStrictEqual(
        Array.from(b.y!.dataSync()),
        xv.map((v) => v + 100),
        'x and y stay aligned',
      );
      assert.deepStrictEqual(xv, Array.from(b.indices));
      epochs[b.epoch].push(...xv);
      tf.dispose([b.x, b.y!]);
    }
    for (const e of epochs)
      assert.deepStrictEqual(
        [...e].sort((a, b) => a - b),
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
      );
    assert.notDeepStrictEqual(epochs[0], epochs[1]);
  });

  it('gives the same batches for the same seed and different ones for another', () => {
    const x = tf.range(0, 100).reshape([100, 1]);
    const order = (seed: number) => Array.from(batches(x, undefined, { batchSize: 100, seed }).next().value.indices);
    assert.deepStrictEqual(order(1), order(1));
    assert.notDeepStrictEqual(order(1), order(2));
  });

  it('drops the remainder by default and rejects impossible sizes', () => {
    const x = tf.zeros([7, 1]);
    const it = batches(x, undefined, { batchSize: 3, seed: 0 });
    assert.deepStrictEqual([it.next().value.x.shape[0], it.next().value.x.shape[0], it.next().value.epoch], [3, 3, 1]);
    assertGenlabError(() => batches(x, undefined, { batchSize: 8 }).next(), /Cannot draw batches of 8 from 7 examples/);
    assertGenlabError(() => batches(x, tf.zeros([6]), { batchSize: 2 }).next(), /x has 7 examples but y has 6/);
  });

  it('binarizes by threshold', () => {
    assert.deepStrictEqual(Array.from(binarize(tf.tensor1d([0, 0.5, 0.51, 1])).dataSync()), [0, 0, 1, 1]);
  });

  it('binarizes stochastically with P(1) equal to the intensity, reproducibly', () => {
    const p = tf.fill([20000], 0.3);
    const a = binarizeStochastic(p, 5);
    const mean = a.mean().dataSync()[0];
    // Binomial(20000, 0.3): standard error of the mean is sqrt(0.3·0.7/20000) ≈ 0.0032; allow 5σ.
    assert.ok(Math.abs(mean - 0.3) < 0.016, `mean ${mean}`);
    assert.deepStrictEqual(Array.from(binarizeStochastic(p, 5).dataSync()), Array.from(a.dataSync()));
    assert.deepStrictEqual(Array.from(binarizeStochastic(tf.tensor1d([0, 1]), new Random(1)).dataSync()), [0, 1]);
  });

  it('draws pixel i as 1 exactly when its uniform u_i < x_i (Salakhutdinov & Murray), ties and tiny gaps included', () => {
    // The uniforms binarizeStochastic draws with seed 9, compared by hand with the intensities;
    // half the intensities are the uniforms themselves (a tie must give 0) or one float32 step away.
    const n = 4000;
    const u = Array.from(tf.randomUniform([n], 0, 1, 'float32', 9).dataSync());
    const x = u.map((ui, i) =>
      i % 4 === 0
        ? ui
        : i % 4 === 1
          ? ui * (1 + 2 ** -23)
          : i % 4 === 2
            ? Math.fround(Math.abs(Math.sin(i)))
            : ui * (1 - 2 ** -24),
    );
    const expected = u.map((ui, i) => (ui < Math.fround(x[i]) ? 1 : 0));
    assert.deepStrictEqual(Array.from(binarizeStochastic(tf.tensor1d(x), 9).dataSync()), expected);
  });
});
