/**
 * The model kit (lib/models/kit.ts): its helpers against direct computations. The contract is
 * contract.test.ts's; the training loop training.test.ts's.
 */
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { init } from '../../../lib/backend';
import {
  checkBinary,
  checkBinaryImages,
  checkImageBatch,
  concatOverBatches,
  IMAGE_PIXELS,
  IMAGE_SHAPE,
  splitSeed,
  sumOverBatches,
} from '../../../lib/models/kit';
import { assertGenlabError, maxAbsDiff } from '../../helpers';

describe('the model kit', () => {
  before(() => init({ quiet: true }));

  it("the image shape is MNIST's, 28 × 28 × 1 = 784 pixels", () => {
    assert.deepStrictEqual([...IMAGE_SHAPE], [28, 28, 1]);
    assert.strictEqual(IMAGE_PIXELS, 784);
  });

  it('sumOverBatches adds up what one pass over the whole tensor adds up, with a short last batch, and frees its tensors', () => {
    const x = tf.tensor2d(
      Array.from({ length: 25 * 3 }, (_, i) => i),
      [25, 3],
    );
    const before = tf.memory().numTensors;
    const seen: number[] = [];
    const [sum, squares] = sumOverBatches(x, 10, (b, index) => {
      seen.push(index * 100 + b.shape[0]);
      return [b, b.square()];
    });
    assert.strictEqual(tf.memory().numTensors, before);
    assert.deepStrictEqual(seen, [10, 110, 205], 'batches of 10, 10 and 5, numbered 0, 1, 2');
    // 0 + 1 + … + 74 and 0² + … + 74², by the closed forms n(n−1)/2 and (n−1)n(2n−1)/6.
    assert.strictEqual(sum, (75 * 74) / 2);
    assert.strictEqual(squares, (74 * 75 * 149) / 6);
    assertGenlabError(() => sumOverBatches(x, 0, (b) => b), /batchSize must be a whole number ≥ 1, got 0/);
  });

  it('concatOverBatches joins per-batch outputs into what one pass gives, leaving only the result', () => {
    const x = tf.randomUniform([23, 4], -1, 1, 'float32', 3);
    const whole = x.relu().sum(1).dataSync();
    const before = tf.memory().numTensors;
    const joined = concatOverBatches(x, 7, (b) => b.relu().sum(1));
    assert.strictEqual(tf.memory().numTensors, before + 1);
    assert.ok(maxAbsDiff(joined.dataSync(), whole) < 1e-6);
  });

  it('the image checks say what was wrong and how to fix it', () => {
    assertGenlabError(
      () => checkImageBatch(tf.zeros([2, 784]), 'encode'),
      /encode expects images shaped \[N, 28, 28, 1\], got \[2,784\]/,
      /reshape/,
    );
    assertGenlabError(() => checkBinary(tf.tensor1d([0, 0.5, 1]), 'fit'), /fit expects binary images/, /binarize/);
    assertGenlabError(() => checkBinaryImages(tf.fill([1, 28, 28, 1], 0.3), 'logLikelihood'), /binary/);
    checkBinaryImages(tf.ones([1, 28, 28, 1]), 'logLikelihood');
  });

  it('splitSeed gives reproducible, different seeds for the networks of one model', () => {
    const [a, b] = splitSeed(5, 2);
    assert.notStrictEqual(a, b);
    assert.deepStrictEqual(splitSeed(5, 2), [a, b]);
    assert.notDeepStrictEqual(splitSeed(6, 2), [a, b]);
  });
});
