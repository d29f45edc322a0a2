/** The mended cpu backend kernels against values worked out here. */
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { registerCpuFixes } from '../src/cpu_fixes';
import { kernelTestValues, maxAbsDiff } from './helpers';

describe('the cpu backend, mended', () => {
  let before_: string | undefined;
  before(async () => {
    before_ = tf.getBackend();
    registerCpuFixes();
    await tf.setBackend('cpu');
  });
  after(async () => {
    if (before_ && tf.findBackend(before_)) await tf.setBackend(before_);
  });

  /** d/dx of Σ w ⊙ resize(x): the resize's gradient for dy = w. */
  const gradient = (x: tf.Tensor4D, size: [number, number], w: number[]) =>
    tf.tidy(() =>
      Array.from(
        tf
          .grad((v: tf.Tensor) =>
            tf.image
              .resizeNearestNeighbor(v as tf.Tensor4D, size)
              .mul(tf.tensor(w, [x.shape[0], ...size, x.shape[3]]))
              .sum(),
          )(x)
          .dataSync(),
      ),
    );

  it("a nearest-neighbour upsampling's gradient, for three images, sums each image's own blocks of dy", () => {
    const [n, h, w, c] = [3, 3, 4, 2];
    const dy = kernelTestValues(n * 6 * 8 * c);
    const got = gradient(tf.zeros([n, h, w, c]) as tf.Tensor4D, [6, 8], dy);
    const expected = new Array<number>(n * h * w * c).fill(0);
    for (let b = 0; b < n; b++)
      for (let y = 0; y < 6; y++)
        for (let x = 0; x < 8; x++)
          for (let q = 0; q < c; q++)
            expected[((b * h + Math.floor(y / 2)) * w + Math.floor(x / 2)) * c + q] +=
              dy[((b * 6 + y) * 8 + x) * c + q];
    assert.ok(maxAbsDiff(got, expected) < 1e-3, `differs by ${maxAbsDiff(got, expected)}`);
  });

  it('a resize by a fraction: each image of a batch gets the gradient it gets alone', () => {
    const [n, h, w, c] = [2, 3, 3, 2];
    const dy = kernelTestValues(n * 5 * 7 * c);
    const together = gradient(tf.zeros([n, h, w, c]) as tf.Tensor4D, [5, 7], dy);
    const apart = [0, 1].flatMap((b) =>
      gradient(tf.zeros([1, h, w, c]) as tf.Tensor4D, [5, 7], dy.slice(b * 35 * c, (b + 1) * 35 * c)),
    );
    assert.deepStrictEqual(together, apart);
  });
});
