import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { init } from '../../../lib/backend';
import { FASHION_MNIST_DEBIAN_DIR, loadFashionMnist, loadMnist, mnistPackageDir } from '../../../lib/data/mnist';
import { assertGenlabError, tempDir } from '../../helpers';

/** Class counts of MNIST as published (e.g. in every MNIST data card). */
const MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949];
const MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009];

function counts(labels: tf.Tensor1D): number[] {
  const c = new Array(10).fill(0);
  for (const l of labels.dataSync()) c[l]++;
  return c;
}

describe('MNIST and Fashion-MNIST', () => {
  before(() => init({ quiet: true }));

  it('loads all 70,000 MNIST images as float32 [N,28,28,1] in [0,1] with the published class counts', () => {
    const { train, test } = loadMnist();
    assert.deepStrictEqual(train.images.shape, [60000, 28, 28, 1]);
    assert.deepStrictEqual(test.images.shape, [10000, 28, 28, 1]);
    assert.strictEqual(train.images.dtype, 'float32');
    assert.strictEqual(train.labels.dtype, 'int32');
    assert.deepStrictEqual(counts(train.labels), MNIST_TRAIN_COUNTS);
    assert.deepStrictEqual(counts(test.labels), MNIST_TEST_COUNTS);
    // The famous first ten training labels.
    assert.deepStrictEqual(Array.from(train.labels.slice([0], [10]).dataSync()), [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]);
    const [lo, hi] = [train.images.min().dataSync()[0], train.images.max().dataSync()[0]];
    assert.deepStrictEqual([lo, hi], [0, 1]);
    tf.dispose([train.images, train.labels, test.images, test.labels]);
  });

  it('keeps the first `limit` examples, per split if asked', () => {
    const { train, test } = loadMnist({ limit: { train: 100, test: 10 } });
    assert.deepStrictEqual([train.size, test.size], [100, 10]);
    assert.deepStrictEqual(Array.from(test.labels.dataSync()), [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]);
    assertGenlabError(() => loadMnist({ limit: 0 }), /limit must be a positive whole number/);
  });

  it('names a corrupt or missing file and says how to fix it', () => {
    const dir = tempDir();
    for (const f of fs.readdirSync(mnistPackageDir()))
      fs.copyFileSync(path.join(mnistPackageDir(), f), path.join(dir, f));
    const labels = path.join(dir, 't10k-labels-idx1-ubyte');
    const bytes = fs.readFileSync(labels);
    bytes[100] ^= 0xff; // same length, one label flipped
    fs.writeFileSync(labels, bytes);
    assertGenlabError(
      () => loadMnist({ dir }),
      /t10k-labels-idx1-ubyte' has MD5 .* not the expected 27ae3e4e09519cfbb04c329615203637/,
      /reinstall/,
    );
    fs.unlinkSync(labels);
    assertGenlabError(
      () => loadMnist({ dir }),
      /file 't10k-labels-idx1-ubyte' \(or 't10k-labels-idx1-ubyte.gz'\) is missing/,
    );
  });

  it('loads Fashion-MNIST from Debian (6,000 / 1,000 per class) when installed', function () {
    if (!fs.existsSync(FASHION_MNIST_DEBIAN_DIR)) this.skip();
    const { train, test } = loadFashionMnist({ limit: { test: 10000 } });
    assert.deepStrictEqual(train.images.shape, [60000, 28, 28, 1]);
    assert.deepStrictEqual(counts(train.labels), new Array(10).fill(6000));
    assert.deepStrictEqual(counts(test.labels), new Array(10).fill(1000));
    assert.strictEqual(train.classNames[9], 'Ankle boot');
    tf.dispose([train.images, train.labels, test.images, test.labels]);
  });

  it('says how to get Fashion-MNIST when the folder is absent', () => {
    assertGenlabError(
      () => loadFashionMnist({ dir: '/nonexistent/fashion' }),
      /'\/nonexistent\/fashion' does not exist/,
    );
  });
});
