import type { LabFairness } from './types';

/** Lab 2: the L2 loss, the conv encoder (any API, ReLU fused or as its own layer) and the fine-tuning classifier. */
export const LAB2: LabFairness = {
  lab: '02-autoencoders.ipynb',
  todos: {
    mse: {
      test: 'mse-check',
      correct: [
        `function mse(x: tf.Tensor, xHat: tf.Tensor): tf.Tensor {
  return x.sub(xHat).square().mean([1, 2, 3]);
}`,
        `function mse(x: tf.Tensor, xHat: tf.Tensor): tf.Tensor {
  return tf.squaredDifference(x, xHat).reshape([x.shape[0], -1]).mean(-1);
}`,
        `function mse(x: tf.Tensor, xHat: tf.Tensor): tf.Tensor {
  const pixels = x.size / x.shape[0];
  return tf.sum(tf.square(tf.sub(xHat, x)), [1, 2, 3]).div(pixels);
}`,
      ],
      mistakes: [
        { replace: ['.square().mean([1, 2, 3]);', '.square().sum([1, 2, 3]);'], says: /you summed the squared errors/ },
        {
          replace: ['.square().mean([1, 2, 3]);', '.abs().mean([1, 2, 3]);'],
          says: /you averaged \|x − x̂\|, not \(x − x̂\)²/,
        },
        { replace: ['.square().mean([1, 2, 3]);', '.mean([1, 2, 3]);'], says: /the differences are not squared/ },
        {
          replace: ['.square().mean([1, 2, 3]);', '.square().mean([1, 2, 3]).sqrt();'],
          says: /you took a square root \(that is the RMSE\)/,
        },
      ],
    },
    'conv-encoder': {
      test: 'conv-encoder-check',
      correct: [
        // Sequential, each ReLU a layer of its own.
        `function buildConvEncoder(bottleneck: number, seed: number): tf.LayersModel {
  const model = tf.sequential();
  const convs: [number, number][] = [[16, 2], [32, 2], [32, 1], [32, 1]];
  convs.forEach(([filters, strides], i) => {
    model.add(tf.layers.conv2d({ ...(i === 0 ? { inputShape: [28, 28, 1] } : {}), filters, kernelSize: 3, strides, padding: 'same', ...weights(seed + i) }));
    model.add(tf.layers.reLU());
  });
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: bottleneck, ...weights(seed + 4) }));
  return model;
}`,
        // Functional, with activation layers.
        `function buildConvEncoder(bottleneck: number, seed: number): tf.LayersModel {
  const input = tf.input({ shape: [28, 28, 1] });
  let h: tf.SymbolicTensor = input;
  [16, 32, 32, 32].forEach((filters, i) => {
    h = tf.layers.conv2d({ filters, kernelSize: [3, 3], strides: i < 2 ? [2, 2] : [1, 1], padding: 'same', ...weights(seed + i) }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.activation({ activation: 'relu' }).apply(h) as tf.SymbolicTensor;
  });
  const code = tf.layers.dense({ units: bottleneck, activation: 'linear', ...weights(seed + 4) }).apply(tf.layers.flatten().apply(h)) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: code });
}`,
        // Sequential with fused ReLUs, a reshape in place of flatten, default initialisers.
        `function buildConvEncoder(bottleneck: number, seed: number): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 16, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }),
      tf.layers.conv2d({ filters: 32, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu' }),
      tf.layers.conv2d({ filters: 32, kernelSize: 3, padding: 'same', activation: 'relu' }),
      tf.layers.conv2d({ filters: 32, kernelSize: 3, padding: 'same', activation: 'relu' }),
      tf.layers.reshape({ targetShape: [7 * 7 * 32] }),
      tf.layers.dense({ units: bottleneck }),
    ],
  });
}`,
      ],
      mistakes: [
        {
          replace: ["strides, padding: 'same',", "strides, padding: 'valid',"],
          says: /the images shrink at every layer: use padding: 'same'/,
        },
        {
          replace: ['[[16, 2], [32, 2], [32, 1], [32, 1]]', '[[16, 1], [32, 1], [32, 1], [32, 1]]'],
          says: /nothing is downsampled: the first two convs need strides: 2/,
        },
        { replace: ['    model.add(tf.layers.reLU());\n', ''], says: /ReLU after each of the four convs/ },
        {
          replace: [
            'model.add(tf.layers.dense({ units: bottleneck, ...weights(seed + 4) }));',
            "model.add(tf.layers.dense({ units: bottleneck, activation: 'relu', ...weights(seed + 4) }));",
          ],
          says: /none after the final dense layer/,
        },
        {
          replace: ['[[16, 2], [32, 2], [32, 1], [32, 1]]', '[[16, 2], [32, 2], [32, 1]]'],
          says: /found 3 Conv2D layers; the table has four/,
        },
      ],
    },
    'finetune-classifier': {
      test: 'finetune-classifier-check',
      correct: [
        `function createFineTuneClassifier(encoder: tf.LayersModel, classes: number): tf.LayersModel {
  return tf.sequential({ layers: [encoder, tf.layers.dense({ units: classes, ...weights(900) })] });
}`,
        `function createFineTuneClassifier(encoder: tf.LayersModel, classes: number): tf.LayersModel {
  const input = tf.input({ shape: encoder.inputs[0].shape.slice(1) as number[] });
  const logits = tf.layers.dense({ units: classes }).apply(encoder.apply(input)) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits });
}`,
        `function createFineTuneClassifier(encoder: tf.LayersModel, classes: number): tf.LayersModel {
  // Grow the encoder's own graph: its input, its code, a linear head.
  const head = tf.layers.dense({ units: classes, activation: 'linear', useBias: true });
  return tf.model({ inputs: encoder.inputs, outputs: head.apply(encoder.outputs[0]) as tf.SymbolicTensor });
}`,
      ],
      mistakes: [
        {
          replace: [
            'tf.layers.dense({ units: classes, ...weights(900) })',
            "tf.layers.dense({ units: classes, activation: 'softmax', ...weights(900) })",
          ],
          says: /leave out the softmax activation/,
        },
        {
          replace: [
            'layers: [encoder,',
            "layers: [autoencoder.createEncoder({ architecture: 'mlp', bottleneck: encoder.outputs[0].shape[1] as number, seed: 1 }),",
          ],
          says: /apply `encoder` itself instead of building a new one/,
        },
        {
          replace: ['layers: [encoder,', "layers: [encoder, tf.layers.dense({ units: 32, activation: 'relu' }),"],
          says: /parameter count: the encoder plus a linear head/,
        },
      ],
    },
  },
};
