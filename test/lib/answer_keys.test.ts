/**
 * The library's answer keys: each one, withheld, throws a WithheldError and is recorded,
 * by its own name and through the higher-level functions built on it; outside grading
 * every one of them works and reveals nothing of its implementation in its source text.
 */
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import {
  autoencoder,
  classifier,
  conditionalGan,
  diffusion,
  flow,
  gan,
  losses,
  MaskedConv2D,
  pixelcnn,
  unsupervised,
  vae,
} from '../../lib';
import { ANSWER_KEYS, AnswerKeyName, WITHHELD_SLOT, WithheldError } from '../../lib/answer_keys';
import { createMask } from '../../lib/layers/masked_conv';
import { Random } from '../../lib/random';

/** A small flow (one scale, two channels, no residual block) and one of its checkerboard couplings. */
const tinyFlow = () => flow.createFlow({ filters: 2, blocks: 0, scales: 1, seed: 1 });
const tinyCoupling = (): flow.Coupling => ({
  kind: 'checkerboard',
  mask: flow.checkerboardMask(2, 2, 1, 0),
  net: flow.couplingNet(1, 1, 2, new Random(1), [2, 2], 0),
});
const grey = () => tf.fill([1, 28, 28, 1], 0.5);
/** A small diffusion model (two channels, ten steps) and its schedule. */
const tinyDiffusion = () => diffusion.createDiffusion({ channels: [2, 2], embedding: 4, timesteps: 10, seed: 1 });
const tenSteps = () => diffusion.noiseSchedule(10);

/**
 * Runs `fn` as if a lab withholding `names` were being graded, and returns what was
 * recorded. (The grader's prelude makes the slot permanent; here it is removed after.)
 */
function whileWithheld(names: readonly string[], fn: () => void): Record<string, number> {
  const calls: Record<string, number> = {};
  const withholding = Object.freeze({
    lab: 'the test lab',
    names,
    record: (n: string) => void (calls[n] = (calls[n] ?? 0) + 1),
  });
  Object.defineProperty(globalThis, WITHHELD_SLOT, { value: withholding, configurable: true });
  try {
    fn();
  } finally {
    delete (globalThis as unknown as Record<symbol, unknown>)[WITHHELD_SLOT];
  }
  return calls;
}

/** Runs `route` while `name` is withheld: it must throw the WithheldError sentence and be recorded once. */
function assertWithheld(name: AnswerKeyName, how: string, route: () => unknown): void {
  let thrown: unknown;
  const calls = whileWithheld([name], () => {
    try {
      tf.tidy(() => void route());
    } catch (err) {
      thrown = err;
    }
  });
  assert.ok(thrown instanceof WithheldError, `${name} ${how}: expected a WithheldError, got ${String(thrown)}`);
  assert.strictEqual(
    thrown.message,
    `genlab's own \`${name}\` is withheld while the test lab is graded: the lab asks you to write ${name} yourself, so graded code (yours, and the library functions built on it) cannot use the library's copy. Write it with tf operations.`,
  );
  assert.doesNotMatch(String(thrown.stack), /\n\s+at /, 'a sentence, not a stack trace');
  assert.deepStrictEqual(calls, { [name]: 1 }, `${name} ${how}`);
}

const x4 = () => tf.tensor4d([1, 0, 1, 1], [2, 1, 2, 1]);
const image = () => tf.zeros([2, 28, 28, 1]);

/** For each answer key: its own entry point, and a higher-level library function that computes through it. */
const ROUTES: Record<AnswerKeyName, { direct: () => unknown; through?: [string, () => unknown] }> = {
  softmaxCrossEntropy: {
    direct: () => losses.softmaxCrossEntropy(tf.tensor1d([0], 'int32'), tf.tensor2d([[1, 2]])),
    through: ['its one-hot form', () => losses.softmaxCrossEntropy(tf.tensor2d([[0, 1]]), tf.tensor2d([[1, 2]]))],
  },
  mse: {
    direct: () => losses.mse(x4(), x4()),
    through: [
      'autoencoder.evaluateMse',
      () =>
        autoencoder.evaluateMse(
          autoencoder.createAutoencoder({ architecture: 'mlp', bottleneck: 2, seed: 1 }),
          image(),
        ),
    ],
  },
  reparameterize: {
    direct: () => losses.reparameterize(tf.zeros([1, 2]), tf.zeros([1, 2]), tf.ones([1, 2])),
    through: [
      'vae.elboTerms',
      () => vae.elboTerms(vae.createVae({ latentDim: 2, architecture: 'mlp', seed: 1 }), image(), tf.zeros([2, 2])),
    ],
  },
  klNormal: {
    direct: () => losses.klNormal(tf.zeros([1, 2]), tf.zeros([1, 2])),
    through: ['losses.negativeElbo', () => losses.negativeElbo(x4(), x4(), tf.zeros([2, 2]), tf.zeros([2, 2])).kl],
  },
  bernoulliLogLikelihood: {
    direct: () => losses.bernoulliLogLikelihood(x4(), x4()),
    through: [
      'pixelBernoulliLogLikelihood',
      () => unsupervised.pixelBernoulliLogLikelihood(unsupervised.fitPixelBernoulli(x4()), x4()),
    ],
  },
  negativeElbo: { direct: () => losses.negativeElbo(x4(), x4(), tf.zeros([2, 2]), tf.zeros([2, 2])) },
  discriminatorLoss: { direct: () => losses.discriminatorLoss(tf.ones([2, 1]), tf.zeros([2, 1])) },
  minimaxGeneratorLoss: { direct: () => losses.minimaxGeneratorLoss(tf.zeros([2, 1])) },
  nonSaturatingGeneratorLoss: { direct: () => losses.nonSaturatingGeneratorLoss(tf.zeros([2, 1])) },
  assignClusters: {
    direct: () => unsupervised.assignClusters(tf.tensor2d([[0], [5]]), tf.tensor2d([[0], [4]])),
    through: [
      'kmeans with its default steps',
      () => unsupervised.kmeans(tf.tensor2d([[0], [1], [9], [10]]), 2, { seed: 0 }),
    ],
  },
  updateCentroids: {
    direct: () => unsupervised.updateCentroids(tf.tensor2d([[0], [5]]), tf.tensor1d([0, 1], 'int32'), 2),
    through: [
      'kmeans with its own assignment step',
      () =>
        unsupervised.kmeans(tf.tensor2d([[0], [1], [9], [10]]), 2, {
          seed: 0,
          assign: (p, c) => unsupervised.squaredDistances(p, c).argMin(1),
        }),
    ],
  },
  projectPca: {
    direct: () =>
      unsupervised.projectPca(
        { mean: tf.zeros([2]), components: tf.tensor2d([[1, 0]]) } as unsupervised.Pca,
        tf.ones([3, 2]),
      ),
  },
  buildConvEncoder: {
    direct: () => autoencoder.createEncoder({ architecture: 'conv', bottleneck: 3, seed: 1 }),
    through: [
      'createAutoencoder (conv)',
      () => autoencoder.createAutoencoder({ architecture: 'conv', bottleneck: 3, seed: 1 }),
    ],
  },
  createFineTuneClassifier: {
    direct: () =>
      classifier.classifierFromEncoder(autoencoder.createEncoder({ architecture: 'mlp', bottleneck: 3, seed: 1 }), {
        classes: 4,
      }),
  },
  buildDiscriminator: {
    direct: () => gan.createDiscriminator({ architecture: 'mlp', seed: 1 }),
    through: ['gan.createGan', () => gan.createGan({ architecture: 'mlp', seed: 1 })],
  },
  ganTrainingStep: {
    direct: () => gan.generatorStep(gan.createToyGan({ seed: 1 }), tf.train.sgd(0.1), 4, 1),
    through: [
      'gan.trainStep',
      () =>
        gan.trainStep(gan.createToyGan({ seed: 1 }), gan.createOptimizers(), tf.ones([4, 1]), {
          seed: 1,
          rescale: false,
        }),
    ],
  },
  samplePixelCnn: {
    // Every row given already: the sampler returns at once (outside grading), or throws (withheld).
    direct: () =>
      pixelcnn.sample(
        tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 1, kernelSize: 1 })] }),
        1,
        1,
        { fromRow: 28, start: tf.zeros([1, 28, 28, 1]) as tf.Tensor4D },
      ),
    through: [
      'pixelcnn.complete',
      () =>
        pixelcnn.complete(
          tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 1, kernelSize: 1 })] }),
          tf.zeros([1, 28, 28, 1]) as tf.Tensor4D,
          28,
          1,
        ),
    ],
  },
  createMask: {
    direct: () => createMask(3, 1, 1, 'A'),
    through: ['a MaskedConv2D layer', () => new MaskedConv2D({ filters: 2, kernelSize: 3, maskType: 'A' })],
  },
  maskedConv: {
    direct: () => {
      const layer = new MaskedConv2D({ filters: 2, kernelSize: 3, maskType: 'B', seed: 1 });
      return layer.apply(tf.ones([1, 4, 4, 1]));
    },
  },
  couplingForward: {
    direct: () => flow.couplingForward(tinyCoupling(), tf.zeros([1, 2, 2, 1])),
    through: ['flow.evaluate', () => flow.evaluate(tinyFlow(), grey())],
  },
  couplingInverse: {
    direct: () => flow.couplingInverse(tinyCoupling(), tf.zeros([1, 2, 2, 1])),
    through: ['flow.sample', () => flow.sample(tinyFlow(), 1, 1)],
  },
  flowNegativeLogLikelihood: {
    direct: () => flow.flowNegativeLogLikelihood(tf.zeros([1, 2]), tf.zeros([1])),
    through: ['flow.negativeLogDensity', () => flow.negativeLogDensity(tinyFlow(), grey())],
  },
  dequantizedBitsPerDim: {
    direct: () => flow.dequantizedBitsPerDim(100),
    through: ['flow.evaluate', () => flow.evaluate(tinyFlow(), grey())],
  },
  qSample: {
    direct: () => diffusion.qSample(tf.zeros([1, 2]), [3], tf.ones([1, 2]), tenSteps()),
    through: ['diffusion.evaluate', () => diffusion.evaluate(tinyDiffusion(), grey())],
  },
  epsilonLoss: {
    direct: () =>
      diffusion.epsilonLoss((xt) => xt, tf.zeros([1, 2]), [3], tf.ones([1, 2]), diffusion.noising(tenSteps())),
    through: ['diffusion.evaluate', () => diffusion.evaluate(tinyDiffusion(), grey())],
  },
  ancestralStep: {
    direct: () => diffusion.ancestralStep(tf.zeros([1, 2]), 3, tf.ones([1, 2]), tf.ones([1, 2]), tenSteps()),
    through: ['diffusion.denoise', () => diffusion.denoise(tinyDiffusion(), grey(), { steps: 'ancestral' })],
  },
  ddimStep: {
    direct: () => diffusion.ddimStep(tf.zeros([1, 2]), 3, 1, tf.ones([1, 2]), tenSteps()),
    through: ['diffusion.denoise', () => diffusion.denoise(tinyDiffusion(), grey(), { steps: 5 })],
  },
};

describe('answer keys', () => {
  it('every answer key has its routes here', () => {
    assert.deepStrictEqual(Object.keys(ROUTES).sort(), Object.keys(ANSWER_KEYS).sort());
  });

  it('outside grading, every one of them runs', () => {
    tf.tidy(() => {
      for (const [name, r] of Object.entries(ROUTES)) {
        assert.doesNotThrow(r.direct, name);
        if (r.through) assert.doesNotThrow(r.through[1], `${name} through ${r.through[0]}`);
      }
    });
  });

  for (const [name, r] of Object.entries(ROUTES) as [AnswerKeyName, (typeof ROUTES)[AnswerKeyName]][]) {
    it(`withheld, ${name} throws a WithheldError and is recorded${r.through ? `, also through ${r.through[0]}` : ''}`, () => {
      const routes: [string, () => unknown][] = [['directly', r.direct], ...(r.through ? [r.through] : [])];
      for (const [how, route] of routes) assertWithheld(name, how, route);
    });
  }

  it("withheld, the conditional GAN's discriminator and training step are withheld with the unconditional ones", () => {
    const cgan = conditionalGan.createConditionalGan({ filters: [2, 2], noiseDim: 2, seed: 1 });
    const batch = {
      x: tf.zeros([2, 28, 28, 1]),
      y: tf.tensor1d([0, 1], 'int32'),
      epoch: 0,
      indices: new Int32Array(2),
    };
    const routes: [AnswerKeyName, () => unknown][] = [
      ['buildDiscriminator', () => conditionalGan.createConditionalGan({ filters: [2, 2], seed: 1 })],
      ['ganTrainingStep', () => conditionalGan.trainStep(cgan, gan.createOptimizers(), batch, { seed: 1 })],
    ];
    for (const [name, route] of routes) assertWithheld(name, 'through conditionalGan', route);
  });

  it('withholding one key leaves the others working', () => {
    const calls = whileWithheld(['klNormal'], () => {
      tf.tidy(() => {
        losses.bernoulliLogLikelihood(x4(), x4());
        losses.reparameterize(tf.zeros([1, 2]), tf.zeros([1, 2]), tf.ones([1, 2]));
      });
    });
    assert.deepStrictEqual(calls, {});
  });

  it("a key's source text is its guard's, and its name and arity are the implementation's", () => {
    const text = String(losses.klNormal);
    assert.doesNotMatch(text, /logvar|exp\(|square\(/, text);
    assert.strictEqual(losses.klNormal.name, 'klNormal');
    assert.strictEqual(losses.klNormal.length, 2);
    assert.strictEqual(losses.negativeElbo.length, 4); // beta has a default, as in the implementation
  });
});
