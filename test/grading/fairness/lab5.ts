import type { LabFairness } from './types';

/**
 * Lab 5: the three losses, the discriminator (sequential or functional) and the training step (noise drawn in any
 * order the task allows, minimize or variableGrads, real and fake through D apart or together).
 */
export const LAB5: LabFairness = {
  lab: '05-gan.ipynb',
  todos: {
    'discriminator-loss': {
      test: 'discriminator-loss-check',
      correct: [
        `function discriminatorLoss(realLogits: tf.Tensor, fakeLogits: tf.Tensor): tf.Scalar {
  return tf.losses.sigmoidCrossEntropy(tf.onesLike(realLogits), realLogits).add(tf.losses.sigmoidCrossEntropy(tf.zerosLike(fakeLogits), fakeLogits)) as tf.Scalar;
}`,
        `function discriminatorLoss(realLogits: tf.Tensor, fakeLogits: tf.Tensor): tf.Scalar {
  // log(1 − σ(ℓ)) = log σ(−ℓ).
  return tf.logSigmoid(realLogits).mean().add(tf.logSigmoid(fakeLogits.neg()).mean()).neg() as tf.Scalar;
}`,
        `function discriminatorLoss(realLogits: tf.Tensor, fakeLogits: tf.Tensor): tf.Scalar {
  const real = tf.softplus(realLogits.neg()).sum().div(realLogits.size);
  const fake = tf.softplus(fakeLogits).sum().div(fakeLogits.size);
  return tf.add(real, fake) as tf.Scalar;
}`,
      ],
      mistakes: [
        {
          replace: ['.neg() as tf.Scalar;', ' as tf.Scalar;'],
          variant: 1,
          says: /the sign is flipped: the discriminator minimises/,
        },
        {
          replace: [
            'tf.logSigmoid(realLogits).mean().add(tf.logSigmoid(fakeLogits.neg()).mean())',
            'tf.logSigmoid(realLogits.neg()).mean().add(tf.logSigmoid(fakeLogits).mean())',
          ],
          variant: 1,
          says: /real and fake are swapped/,
        },
        {
          replace: [
            'const real = tf.softplus(realLogits.neg()).sum().div(realLogits.size);',
            'const real = tf.softplus(realLogits.neg()).sum();',
          ],
          variant: 2,
          says: /you summed over the real batch/,
        },
        {
          replace: ['return tf.add(real, fake) as tf.Scalar;', 'return real as tf.Scalar;'],
          variant: 2,
          says: /the fake term −E\[log\(1 − D\(G\(z\)\)\)\] is missing/,
        },
        {
          replace: [
            'return tf.add(real, fake) as tf.Scalar;',
            'return tf.softplus(tf.concat([realLogits.neg(), fakeLogits])).mean() as tf.Scalar;',
          ],
          variant: 2,
          says: /you took one mean over the real and fake examples together/,
        },
        {
          replace: [
            'return tf.logSigmoid(realLogits).mean().add(tf.logSigmoid(fakeLogits.neg()).mean()).neg() as tf.Scalar;',
            'return tf.sigmoid(realLogits).log().mean().add(tf.scalar(1).sub(tf.sigmoid(fakeLogits)).log().mean()).neg() as tf.Scalar;',
          ],
          variant: 1,
          says: /stable when the discriminator is completely fooled/,
        },
      ],
    },
    'minimax-generator-loss': {
      test: 'minimax-generator-loss-check',
      correct: [
        `function minimaxGeneratorLoss(fakeLogits: tf.Tensor): tf.Scalar {
  return tf.logSigmoid(fakeLogits.neg()).mean() as tf.Scalar;
}`,
        `function minimaxGeneratorLoss(fakeLogits: tf.Tensor): tf.Scalar {
  return tf.softplus(fakeLogits).mean().mul(-1) as tf.Scalar;
}`,
        `function minimaxGeneratorLoss(fakeLogits: tf.Tensor): tf.Scalar {
  return tf.neg(tf.losses.sigmoidCrossEntropy(tf.zerosLike(fakeLogits), fakeLogits)) as tf.Scalar;
}`,
      ],
      mistakes: [
        {
          replace: ['tf.logSigmoid(fakeLogits.neg()).mean()', 'tf.logSigmoid(fakeLogits.neg()).mean().neg()'],
          says: /the sign is flipped: the generator minimises/,
        },
        {
          replace: ['tf.logSigmoid(fakeLogits.neg()).mean()', 'tf.logSigmoid(fakeLogits).mean().neg()'],
          says: /that is the non-saturating loss/,
        },
        {
          replace: ['tf.logSigmoid(fakeLogits.neg()).mean()', 'tf.scalar(1).sub(tf.sigmoid(fakeLogits)).log().mean()'],
          says: /stable for a fake the discriminator accepts/,
        },
      ],
    },
    'non-saturating-generator-loss': {
      test: 'non-saturating-generator-loss-check',
      correct: [
        `function nonSaturatingGeneratorLoss(fakeLogits: tf.Tensor): tf.Scalar {
  return tf.logSigmoid(fakeLogits).mean().neg() as tf.Scalar;
}`,
        `function nonSaturatingGeneratorLoss(fakeLogits: tf.Tensor): tf.Scalar {
  return tf.losses.sigmoidCrossEntropy(tf.onesLike(fakeLogits), fakeLogits) as tf.Scalar;
}`,
        `function nonSaturatingGeneratorLoss(fakeLogits: tf.Tensor): tf.Scalar {
  return tf.softplus(tf.neg(fakeLogits)).sum().div(fakeLogits.size) as tf.Scalar;
}`,
      ],
      mistakes: [
        {
          replace: ['tf.logSigmoid(fakeLogits).mean().neg()', 'tf.logSigmoid(fakeLogits).mean()'],
          says: /the sign is flipped: the loss is −E\[log D\(G\(z\)\)\]/,
        },
        {
          replace: ['tf.logSigmoid(fakeLogits).mean().neg()', 'tf.logSigmoid(fakeLogits.neg()).mean()'],
          says: /that is the minimax loss/,
        },
        {
          replace: ['tf.logSigmoid(fakeLogits).mean().neg()', 'tf.sigmoid(fakeLogits).log().mean().neg()'],
          says: /stable for a fake the discriminator rejects/,
        },
      ],
    },
    'build-discriminator': {
      test: 'build-discriminator-check',
      correct: [
        `function buildDiscriminator(seed: number): tf.LayersModel {
  const input = tf.input({ shape: [28, 28, 1] });
  let h = tf.layers.flatten().apply(input) as tf.SymbolicTensor;
  for (let i = 0; i < 2; i++) {
    h = tf.layers.dense({ units: 256, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + i }) }).apply(h) as tf.SymbolicTensor;
    h = tf.layers.leakyReLU({ alpha: 0.01 }).apply(h) as tf.SymbolicTensor;
  }
  const logit = tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 2 }) }).apply(h) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logit });
}`,
        `function buildDiscriminator(seed: number): tf.LayersModel {
  const model = tf.sequential();
  model.add(tf.layers.reshape({ inputShape: [28, 28, 1], targetShape: [784] }));
  [256, 256, 1].forEach((units, i) => {
    model.add(tf.layers.dense({ units, useBias: true, biasInitializer: 'zeros', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + i }) }));
    if (units > 1) model.add(tf.layers.leakyReLU({ alpha: 1e-2 }));
  });
  return model;
}`,
        `function buildDiscriminator(seed: number): tf.LayersModel {
  const init = (i: number) => tf.initializers.glorotUniform({ seed: seed + i });
  return tf.sequential({
    layers: [
      tf.layers.flatten({ batchInputShape: [null, 28, 28, 1] }),
      tf.layers.dense({ units: 256, kernelInitializer: init(0), activation: 'linear' }),
      tf.layers.leakyReLU({ alpha: 0.01 }),
      tf.layers.dense({ units: 256, kernelInitializer: init(1), activation: 'linear' }),
      tf.layers.leakyReLU({ alpha: 0.01 }),
      tf.layers.dense({ units: 1, kernelInitializer: init(2), activation: 'linear' }),
    ],
  });
}`,
      ],
      mistakes: [
        {
          replace: ['tf.layers.dense({ units: 1,', 'tf.layers.dense({ units: 10,'],
          says: /the output layer has 10 units/,
        },
        {
          replace: ['for (let i = 0; i < 2; i++)', 'for (let i = 0; i < 1; i++)'],
          says: /one hidden layer is missing/,
        },
        {
          replace: ['seed: seed + 2 }) }).apply(h)', "seed: seed + 2 }), activation: 'sigmoid' }).apply(h)"],
          says: /drop the final sigmoid/,
        },
        {
          replace: ['tf.layers.leakyReLU({ alpha: 0.01 })', 'tf.layers.leakyReLU()'],
          says: /the LeakyReLU slope is 0\.3/,
        },
        { replace: ['tf.layers.leakyReLU({ alpha: 0.01 })', 'tf.layers.reLU()'], says: /that is ReLU \(slope 0\)/ },
        {
          replace: ['    h = tf.layers.leakyReLU({ alpha: 0.01 }).apply(h) as tf.SymbolicTensor;\n', ''],
          says: /no activation between the dense layers/,
        },
      ],
    },
    'gan-training-step': {
      test: 'gan-training-step-check',
      uses: ['discriminator-loss', 'non-saturating-generator-loss'],
      correct: [
        // As PyTorch's DCGAN tutorial: the generator's step reuses the last discriminator step's noise.
        `function ganTrainingStep(model: gan.Gan, optimizers: gan.GanOptimizers, nextReal: () => tf.Tensor, k: number,
  nextSeed: () => number): { discriminator: tf.Scalar; generator: tf.Scalar } {
  const dVariables = model.discriminator.trainableWeights.map((w) => w.read() as tf.Variable);
  const gVariables = model.generator.trainableWeights.map((w) => w.read() as tf.Variable);
  let dLoss: tf.Scalar | undefined;
  let z: tf.Tensor | undefined;
  for (let step = 0; step < k; step++) {
    const real = nextReal();
    z = gan.noiseFor(model, real.shape[0], nextSeed());
    const fake = model.generator.predict(z) as tf.Tensor;
    dLoss?.dispose();
    dLoss = optimizers.discriminator.minimize(
      () => discriminatorLoss(model.discriminator.apply(real) as tf.Tensor, model.discriminator.apply(fake) as tf.Tensor), true, dVariables)!;
  }
  const gLoss = optimizers.generator.minimize(
    () => nonSaturatingGeneratorLoss(model.discriminator.apply(model.generator.apply(z!)) as tf.Tensor), true, gVariables)!;
  return { discriminator: dLoss!, generator: gLoss };
}`,
        // The generator's noise drawn first; gradients by tf.variableGrads, applied by applyGradients.
        `function ganTrainingStep(model: gan.Gan, optimizers: gan.GanOptimizers, nextReal: () => tf.Tensor, k: number,
  nextSeed: () => number): { discriminator: tf.Scalar; generator: tf.Scalar } {
  const variablesOf = (m: tf.LayersModel) => m.trainableWeights.map((w) => w.read() as tf.Variable);
  let real = nextReal();
  const n = real.shape[0];
  const zGenerator = gan.noiseFor(model, n, nextSeed());
  let dLoss = tf.scalar(0);
  for (let step = 0; step < k; step++) {
    if (step > 0) real = nextReal();
    const fake = tf.tidy(() => model.generator.apply(gan.noiseFor(model, n, nextSeed()), { training: true }) as tf.Tensor);
    const { value, grads } = tf.variableGrads(
      () => discriminatorLoss(model.discriminator.apply(real, { training: true }) as tf.Tensor, model.discriminator.apply(fake, { training: true }) as tf.Tensor),
      variablesOf(model.discriminator));
    optimizers.discriminator.applyGradients(grads);
    tf.dispose(grads);
    dLoss.dispose();
    dLoss = value;
  }
  const { value: gLoss, grads } = tf.variableGrads(
    () => nonSaturatingGeneratorLoss(model.discriminator.apply(model.generator.apply(zGenerator, { training: true }), { training: true }) as tf.Tensor),
    variablesOf(model.generator));
  optimizers.generator.applyGradients(grads);
  tf.dispose(grads);
  return { discriminator: dLoss, generator: gLoss };
}`,
        // Real and fake through D as one batch, split afterwards.
        `function ganTrainingStep(model: gan.Gan, optimizers: gan.GanOptimizers, nextReal: () => tf.Tensor, k: number,
  nextSeed: () => number): { discriminator: tf.Scalar; generator: tf.Scalar } {
  const dVariables = model.discriminator.trainableWeights.map((w) => w.read() as tf.Variable);
  const gVariables = model.generator.trainableWeights.map((w) => w.read() as tf.Variable);
  const losses: tf.Scalar[] = [];
  let n = 0;
  for (let step = 0; step < k; step++) {
    const real = nextReal();
    n = real.shape[0];
    const fake = tf.tidy(() => model.generator.predict(gan.noiseFor(model, n, nextSeed())) as tf.Tensor);
    losses.push(optimizers.discriminator.minimize(() => {
      const logits = model.discriminator.apply(tf.concat([real, fake])) as tf.Tensor;
      return discriminatorLoss(logits.slice(0, n), logits.slice(n));
    }, true, dVariables)!);
  }
  const z = gan.noiseFor(model, n, nextSeed());
  const generator = optimizers.generator.minimize(() => nonSaturatingGeneratorLoss(model.discriminator.apply(model.generator.apply(z)) as tf.Tensor), true, gVariables)!;
  const discriminator = losses.pop()!;
  tf.dispose(losses);
  return { discriminator, generator };
}`,
      ],
      mistakes: [
        {
          replace: ['for (let step = 0; step < k; step++) {', 'for (let step = 0; step < 1; step++) {'],
          says: /one discriminator step was taken/,
        },
        {
          replace: [
            '  for (let step = 0; step < k; step++) {\n    const real = nextReal();',
            '  const real = nextReal();\n  for (let step = 0; step < k; step++) {',
          ],
          says: /the k discriminator steps reused one real batch/,
        },
        {
          // The generator's step moved inside the loop, after every discriminator step.
          replace: [
            `      () => discriminatorLoss(model.discriminator.apply(real) as tf.Tensor, model.discriminator.apply(fake) as tf.Tensor), true, dVariables)!;
  }
  const gLoss = optimizers.generator.minimize(
    () => nonSaturatingGeneratorLoss(model.discriminator.apply(model.generator.apply(z!)) as tf.Tensor), true, gVariables)!;`,
            `      () => discriminatorLoss(model.discriminator.apply(real) as tf.Tensor, model.discriminator.apply(fake) as tf.Tensor), true, dVariables)!;
    gLoss?.dispose();
    gLoss = optimizers.generator.minimize(
      () => nonSaturatingGeneratorLoss(model.discriminator.apply(model.generator.apply(z!)) as tf.Tensor), true, gVariables)!;
  }`,
          ],
          also: [
            ['let z: tf.Tensor | undefined;', 'let z: tf.Tensor | undefined;\n  let gLoss: tf.Scalar | undefined;'],
            [
              'return { discriminator: dLoss!, generator: gLoss };',
              'return { discriminator: dLoss!, generator: gLoss! };',
            ],
          ],
          says: /the generator stepped after every discriminator step/,
        },
        {
          // The fakes made inside D's minimize, which then updates every variable.
          replace: [
            '() => discriminatorLoss(model.discriminator.apply(real) as tf.Tensor, model.discriminator.apply(fake) as tf.Tensor), true, dVariables)!;',
            '() => discriminatorLoss(model.discriminator.apply(real) as tf.Tensor, model.discriminator.apply(model.generator.apply(z!)) as tf.Tensor), true)!;',
          ],
          says: /G's weights changed during D's step/,
        },
        {
          replace: ['true, gVariables)!;', 'true)!;'],
          says: /D's weights changed during G's step/,
        },
        {
          replace: ['true, gVariables)!;', 'true, dVariables)!;'],
          says: /G's weights did not change/,
        },
      ],
    },
  },
};
