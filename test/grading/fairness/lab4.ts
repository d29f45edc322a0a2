import type { LabFairness } from './types';

/** Lab 4: the causal masks, the masked convolution and the sampler (any loop or tensor style, the stated draw order). */
export const LAB4: LabFairness = {
  lab: '04-pixelcnn.ipynb',
  todos: {
    'create-mask': {
      test: 'create-mask-check',
      correct: [
        `function createMask(kernelSize: number, inChannels: number, outChannels: number, type: 'A' | 'B'): tf.Tensor4D {
  const centre = Math.floor(kernelSize / 2);
  const mask = tf.buffer([kernelSize, kernelSize, inChannels, outChannels]);
  for (let r = 0; r < kernelSize; r++)
    for (let c = 0; c < kernelSize; c++) {
      const visible = r < centre || (r === centre && c < centre) || (r === centre && c === centre && type === 'B');
      if (visible) for (let i = 0; i < inChannels; i++) for (let o = 0; o < outChannels; o++) mask.set(1, r, c, i, o);
    }
  return mask.toTensor() as tf.Tensor4D;
}`,
        `function createMask(kernelSize: number, inChannels: number, outChannels: number, type: 'A' | 'B'): tf.Tensor4D {
  // Raster order: a tap is visible when it comes before the centre (or is the centre, for B).
  const centre = (kernelSize * kernelSize - 1) / 2;
  const taps = Array.from({ length: kernelSize * kernelSize }, (_, i) => (i < centre || (i === centre && type === 'B') ? 1 : 0));
  return tf.tensor4d(taps, [kernelSize, kernelSize, 1, 1]).tile([1, 1, inChannels, outChannels]) as tf.Tensor4D;
}`,
        `function createMask(kernelSize: number, inChannels: number, outChannels: number, type: 'A' | 'B'): tf.Tensor4D {
  return tf.tidy(() => {
    const centre = (kernelSize - 1) / 2;
    const rows = tf.range(0, kernelSize).reshape([kernelSize, 1]).tile([1, kernelSize]);
    const cols = tf.range(0, kernelSize).reshape([1, kernelSize]).tile([kernelSize, 1]);
    const left = type === 'A' ? cols.less(centre) : cols.lessEqual(centre);
    const visible = rows.less(centre).logicalOr(rows.equal(centre).logicalAnd(left));
    return visible.toFloat().reshape([kernelSize, kernelSize, 1, 1]).tile([1, 1, inChannels, outChannels]) as tf.Tensor4D;
  });
}`,
      ],
      mistakes: [
        {
          replace: ["(r === centre && c === centre && type === 'B')", '(r === centre && c === centre)'],
          says: /mask A, k = 3: the centre tap is included/,
        },
        {
          replace: ['const visible = r < centre ||', 'const visible = r > centre ||'],
          says: /the mask is upside down: keep the rows above the centre/,
        },
        { replace: ['mask.set(1, r, c, i, o)', 'mask.set(1, c, r, i, o)'], says: /rows and columns are swapped/ },
        {
          replace: [
            'const visible = r < centre || (r === centre && c < centre)',
            'const visible = r < centre || c < centre',
          ],
          says: /a future row leaks/,
        },
        {
          replace: ["(r === centre && c === centre && type === 'B')", 'false'],
          says: /mask B keeps the centre tap; only mask A hides it/,
        },
        {
          replace: [
            'const mask = tf.buffer([kernelSize, kernelSize, inChannels, outChannels]);',
            'const mask = tf.buffer([kernelSize, kernelSize, 1, 1]);',
          ],
          says: /shape \[k, k, in, out\]: got shape \[3,3,1,1\]; expected \[3, 3, 2, 4\]/,
        },
      ],
    },
    'masked-conv': {
      test: 'masked-conv-check',
      correct: [
        `function maskedConv(x: tf.Tensor4D, kernel: tf.Tensor4D, mask: tf.Tensor4D, bias: tf.Tensor1D): tf.Tensor4D {
  return tf.conv2d(x, tf.mul(kernel, mask) as tf.Tensor4D, [1, 1], 'same').add(bias.reshape([1, 1, 1, -1])) as tf.Tensor4D;
}`,
        `function maskedConv(x: tf.Tensor4D, kernel: tf.Tensor4D, mask: tf.Tensor4D, bias: tf.Tensor1D): tf.Tensor4D {
  return tf.fused.conv2d({ x, filter: kernel.mul(mask) as tf.Tensor4D, strides: 1, pad: 'same', bias });
}`,
        `function maskedConv(x: tf.Tensor4D, kernel: tf.Tensor4D, mask: tf.Tensor4D, bias: tf.Tensor1D): tf.Tensor4D {
  const masked = tf.where(mask.greater(0), kernel, tf.zerosLike(kernel)) as tf.Tensor4D;
  return tf.add(tf.conv2d(x, masked, 1, 'same', 'NHWC'), bias);
}`,
      ],
      mistakes: [
        { replace: ['tf.mul(kernel, mask) as tf.Tensor4D', 'kernel'], says: /the mask is not applied/ },
        {
          replace: ['.add(bias.reshape([1, 1, 1, -1])) as tf.Tensor4D;', ' as tf.Tensor4D;'],
          says: /the bias is missing/,
        },
      ],
    },
    'sample-pixel-cnn': {
      test: 'sample-pixel-cnn-check',
      correct: [
        // A TensorBuffer for the images, the probability in plain JavaScript.
        `function samplePixelCnn(model: tf.LayersModel, n: number, rng: Random): tf.Tensor4D {
  const images = tf.buffer([n, 28, 28, 1]);
  for (let r = 0; r < 28; r++)
    for (let c = 0; c < 28; c++) {
      const logits = tf.tidy(() => (model.predict(images.toTensor()) as tf.Tensor).slice([0, r, c, 0], [n, 1, 1, 1]).dataSync());
      for (let i = 0; i < n; i++) images.set(rng.next() < 1 / (1 + Math.exp(-logits[i])) ? 1 : 0, i, r, c, 0);
    }
  return images.toTensor() as tf.Tensor4D;
}`,
        // One flat pixel index, model.apply, the whole probability map read each step.
        `function samplePixelCnn(model: tf.LayersModel, n: number, rng: Random): tf.Tensor4D {
  const pixels = new Float32Array(n * 784);
  for (let i = 0; i < 784; i++) {
    const p = tf.tidy(() => tf.sigmoid(model.apply(tf.tensor4d(pixels, [n, 28, 28, 1])) as tf.Tensor).dataSync());
    for (let image = 0; image < n; image++) {
      const at = image * 784 + i;
      pixels[at] = rng.next() < p[at] ? 1 : 0;
    }
  }
  return tf.tensor4d(pixels, [n, 28, 28, 1]);
}`,
        // Images as nested arrays, one row of probabilities read at a time.
        `function samplePixelCnn(model: tf.LayersModel, n: number, rng: Random): tf.Tensor4D {
  const images = Array.from({ length: n }, () => Array.from({ length: 28 }, () => new Array<number>(28).fill(0)));
  for (let r = 0; r < 28; r++) {
    for (let c = 0; c < 28; c++) {
      const probabilities = tf.tidy(() => {
        const x = tf.tensor4d(images.map((im) => im.map((row) => row.map((v) => [v]))));
        return tf.sigmoid((model.predict(x) as tf.Tensor).gather([r], 1).gather([c], 2)).arraySync() as number[][][][];
      });
      images.forEach((im, i) => { im[r][c] = rng.next() < probabilities[i][0][0][0] ? 1 : 0; });
    }
  }
  return tf.tensor4d(images.map((im) => im.map((row) => row.map((v) => [v]))));
}`,
      ],
      mistakes: [
        {
          replace: [
            'rng.next() < 1 / (1 + Math.exp(-logits[i])) ? 1 : 0',
            'rng.next() < 1 / (1 + Math.exp(-logits[i])) ? 0 : 1',
          ],
          says: /the draw is reversed/,
        },
        {
          // The network run once, on the blank image.
          replace: [
            'const logits = tf.tidy(() => (model.predict(images.toTensor()) as tf.Tensor).slice([0, r, c, 0], [n, 1, 1, 1]).dataSync());',
            'const logits = tf.tidy(() => (model.predict(tf.zeros([n, 28, 28, 1])) as tf.Tensor).slice([0, r, c, 0], [n, 1, 1, 1]).dataSync());',
          ],
          says: /the network ran once, on the blank image/,
        },
        {
          // One pass per row: the row's logits read before any of its pixels is drawn.
          replace: [
            `    for (let c = 0; c < 28; c++) {
      const logits = tf.tidy(() => (model.predict(images.toTensor()) as tf.Tensor).slice([0, r, c, 0], [n, 1, 1, 1]).dataSync());
      for (let i = 0; i < n; i++) images.set(rng.next() < 1 / (1 + Math.exp(-logits[i])) ? 1 : 0, i, r, c, 0);
    }`,
            `    {
      const row = tf.tidy(() => (model.predict(images.toTensor()) as tf.Tensor).slice([0, r, 0, 0], [n, 1, 28, 1]).dataSync());
      for (let c = 0; c < 28; c++) for (let i = 0; i < n; i++) images.set(rng.next() < 1 / (1 + Math.exp(-row[i * 28 + c])) ? 1 : 0, i, r, c, 0);
    }`,
          ],
          says: /a whole row was drawn from one pass of the network/,
        },
        {
          // The uniforms drawn image by image: each image's 784 uniforms in a row.
          replace: [
            'for (let i = 0; i < n; i++) images.set(rng.next() < 1 / (1 + Math.exp(-logits[i])) ? 1 : 0, i, r, c, 0);',
            'for (let i = 0; i < n; i++) images.set(uniforms[i * 784 + r * 28 + c] < 1 / (1 + Math.exp(-logits[i])) ? 1 : 0, i, r, c, 0);',
          ],
          also: [
            [
              'const images = tf.buffer([n, 28, 28, 1]);',
              'const images = tf.buffer([n, 28, 28, 1]);\n  const uniforms = Array.from({ length: n * 784 }, () => rng.next());',
            ],
          ],
          says: /the uniforms were drawn image by image/,
        },
      ],
    },
  },
};
