/**
 * Answer keys: the library functions that a lab asks students to write themselves.
 *
 * genlab implements every loss and building block the labs teach, and the labs
 * then ask students to write some of them again (`klNormal`, `createMask`, …). While
 * such a lab is graded, genlab's own copy must not be the answer: the source
 * notebook lists the names it withholds (`metadata.genlab.withheld`), and the
 * grader's prelude installs that list before any student code runs. From then on
 * each withheld implementation throws a `WithheldError` however it is reached:
 * by name, through a namespace, a deep `require`, a fresh copy of the module, or a
 * higher-level library function built on it (`negativeElbo` computes `klNormal`,
 * so it throws too while `klNormal` is withheld). Every attempt is recorded for the
 * grader, which flags the submission for the instructor.
 *
 * Each implementation is wrapped once, where it is defined: `answerKey(name, fn)`
 * returns a function that checks the withheld list on every call and otherwise
 * runs `fn`. Its source text is the wrapper's, so `toString()` reveals nothing of
 * `fn`. Outside grading (a student's own notebook, the tests) nothing is withheld
 * and the wrapper costs one property lookup per call.
 */
import { GenlabError } from './errors';

/** Every answer key, by the name the labs give the student's function, and where genlab implements it. */
export const ANSWER_KEYS = {
  softmaxCrossEntropy: 'softmaxCrossEntropy (and classifier.trainClassifier, whose default loss it is)',
  mse: 'mse (and the autoencoder functions whose default loss it is)',
  reparameterize: 'reparameterize (and the vae functions that sample z)',
  klNormal: 'klNormal (and negativeElbo, the vae functions)',
  bernoulliLogLikelihood:
    'bernoulliLogLikelihood (and negativeElbo, the vae and pixelcnn likelihoods, the pixel Bernoulli density)',
  negativeElbo: 'negativeElbo (and the vae training and evaluation functions)',
  discriminatorLoss: 'discriminatorLoss (and gan.trainGan, whose default it is)',
  minimaxGeneratorLoss: 'minimaxGeneratorLoss',
  nonSaturatingGeneratorLoss: 'nonSaturatingGeneratorLoss (and gan.trainGan, whose default it is)',
  assignClusters: 'assignClusters (and kmeans, whose default step it is)',
  updateCentroids: 'updateCentroids (and kmeans, whose default step it is)',
  projectPca: 'projectPca',
  buildConvEncoder:
    "autoencoder.createEncoder({ architecture: 'conv' }) (and autoencoder.createAutoencoder's conv encoder)",
  createFineTuneClassifier: 'classifier.classifierFromEncoder',
  buildDiscriminator:
    'gan.createDiscriminator (and gan.createGan, which builds its discriminator with it, and conditionalGan.createConditionalGan)',
  ganTrainingStep:
    'gan.discriminatorStep, gan.generatorStep and gan.trainStep (and gan.trainGan, built on them), conditionalGan.trainStep (and conditionalGan.trainConditionalGan)',
  samplePixelCnn: 'pixelcnn.sample (and pixelcnn.complete, built on it)',
  createMask: 'createMask (and every MaskedConv2D layer, which builds its mask with it)',
  maskedConv: "MaskedConv2D's forward pass (and every PixelCNN built from it)",
  couplingForward: 'flow.couplingForward (and flow.forward, the flow functions that train, evaluate and encode)',
  couplingInverse: 'flow.couplingInverse (and flow.inverse, flow.sample and flow.fromCode)',
  flowNegativeLogLikelihood:
    'flow.flowNegativeLogLikelihood (and flow.negativeLogDensity, the flow training and evaluation)',
  dequantizedBitsPerDim: 'flow.dequantizedBitsPerDim (and flow.evaluate and flow.trainStep, which report bits/dim)',
  qSample: 'diffusion.qSample (and diffusion.noising, vLoss, the diffusion training and evaluation)',
  epsilonLoss: 'diffusion.epsilonLoss (and diffusion.evaluate, and the training of a model that predicts ε)',
  ancestralStep: "diffusion.ancestralStep (and diffusion.sample with steps: 'ancestral')",
  ddimStep: 'diffusion.ddimStep (and diffusion.sample, diffusion.judge)',
} as const;

export type AnswerKeyName = keyof typeof ANSWER_KEYS;

export function isAnswerKey(name: string): name is AnswerKeyName {
  return Object.prototype.hasOwnProperty.call(ANSWER_KEYS, name);
}

/**
 * Where the grader's prelude puts the withheld list: a non-writable, non-configurable
 * property of the global object under a registered symbol, so that every copy of this
 * module (a fresh `require` after clearing the cache included) reads the same list,
 * and student code can neither replace it nor remove it.
 */
export const WITHHELD_SLOT = Symbol.for('genlab.grading.withheld');

export interface Withholding {
  /** The lab being graded, for the message. */
  readonly lab: string;
  readonly names: readonly string[];
  /** Called with the name before a withheld implementation throws. */
  readonly record: (name: string) => void;
}

/** Thrown by a withheld implementation while a lab is graded. */
export class WithheldError extends GenlabError {
  constructor(name: string, lab: string) {
    super(
      `genlab's own \`${name}\` is withheld while ${lab} is graded: the lab asks you to write ${name} yourself, so graded code ` +
        `(yours, and the library functions built on it) cannot use the library's copy. Write it with tf operations.`,
    );
    this.name = 'WithheldError';
  }
}

function withholding(): Withholding | undefined {
  return (globalThis as unknown as Record<symbol, Withholding | undefined>)[WITHHELD_SLOT];
}

/** Wraps the library's implementation of an answer key; see the top of this file. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any function signature passes through unchanged
export function answerKey<F extends (...args: any[]) => any>(name: AnswerKeyName, implementation: F): F {
  const guarded = function (this: unknown, ...args: Parameters<F>): ReturnType<F> {
    const w = withholding();
    if (w && w.names.includes(name)) {
      w.record(name);
      throw new WithheldError(name, w.lab);
    }
    return implementation.apply(this, args) as ReturnType<F>;
  };
  Object.defineProperty(guarded, 'name', { value: name });
  Object.defineProperty(guarded, 'length', { value: implementation.length });
  return guarded as unknown as F;
}

/**
 * What the grader's redacted copy of the library (grading/redact.ts) has in place of a withheld
 * implementation: a function that records the attempt where the grader listens and throws. Its
 * body holds nothing of the answer, so no realm, module cache, closure or file can yield one.
 */
export function redacted(name: AnswerKeyName): () => never {
  return function () {
    const w = withholding();
    w?.record(name);
    throw new WithheldError(name, w?.lab ?? 'this lab');
  };
}
