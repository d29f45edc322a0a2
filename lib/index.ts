/**
 * genlab: the library behind the generative-models labs.
 *
 * Notebooks import everything from here — `import { tf, init, loadMnist, vae } from 'genlab'`
 * — so that there is one TensorFlow.js instance and the backend chosen by
 * `await init()` is the one every tensor uses. The rooms of the library and the
 * arrows between them are drawn in lib/README.md.
 *
 * The naming rule: **a model is a namespace; everything else is a flat name.**
 * Each file of lib/models/ is exported as one namespace (`classifier`, `autoencoder`,
 * `vae`, `pixelcnn`, `gan`, `conditionalGan`, `flow`, `diffusion`), because the model files share their verbs by design —
 * each has a `createX`, a `trainStep`, a `trainX`, an `evaluate`, the generative
 * ones a `sample` (see lib/models/kit.ts) — so a flat `sample` could not say whose
 * it is. Everything the labs share (setup, data, losses, metrics, layers, the
 * classical unsupervised methods, training, plots, checks) has one meaning wherever
 * it is used, so it is flat: `klNormal`, `kmeans`, `showImages`.
 */
import * as tf from './tf';
import { registerFileRouter } from './io';
import { showCellErrorsAsSentences } from './viz/cell_error_sentences';

registerFileRouter();
// In a notebook, a cell that throws shows its error's sentence, not Node's trace (GENLAB_TRACEBACK=1 keeps it).
showCellErrorsAsSentences();

export { tf };

// Setup: the backend, run size, seeds, errors.
export { init, backendInfo, BACKEND_CHOICES } from './backend';
export type { BackendChoice, BackendInfo, InitOptions } from './backend';
export { GenlabError } from './errors';
export { profile, pick, isSmoke } from './run_size';
export type { ProfileName } from './run_size';
export { Random, nextSeed, globalSeed } from './random';

// Data.
export { readIdx, parseIdx, encodeIdx } from './data/idx';
export type { IdxArray, IdxDtype } from './data/idx';
export { loadMnist, loadFashionMnist, mnistPackageDir } from './data/mnist';
export type { ImageDataset, LoadOptions, Split } from './data/mnist';
export { batches, binarize, binarizeStochastic } from './data/batches';
export type { Batch, BatchOptions } from './data/batches';
export { twoMoons } from './data/toy';

// Plots and output.
export { showImages, imageGridPng, liveImageGrid } from './viz/images';
export type { GridOptions } from './viz/images';
export { plot, lineChart, scatterChart, heatmap, animatedLineChart, chartHtml, tableHtml } from './viz/plotly';
export { showHtml, showMarkdown, showPng, inKernel } from './viz/display';
export { progress, formatDuration } from './viz/progress';
export type { Progress } from './viz/progress';
export { reportFigure } from './report';
export type { Figure } from './report';

// Training.
export { fit, plotHistory, cosineSchedule, setLearningRate } from './train';
export type { FitOptions, History } from './train';
export {
  RECIPES,
  VAE_RECIPE,
  PIXELCNN_RECIPE,
  DCGAN_RECIPE,
  CONDITIONAL_DCGAN_RECIPE,
  FLOW_RECIPE,
  DIFFUSION_RECIPE,
} from './recipes';
export type { VaeRecipe, PixelCnnRecipe, GanRecipe, FlowRecipe, DiffusionRecipe } from './recipes';

// Losses, metrics, layers, linear algebra.
export {
  softmaxCrossEntropy,
  mse,
  discriminatorLoss,
  minimaxGeneratorLoss,
  nonSaturatingGeneratorLoss,
  reparameterize,
  klNormal,
  bernoulliLogLikelihood,
  negativeElbo,
  iwaeBound,
  gaussianLogDensity,
  standardNormalLogDensity,
  stopGradient,
  bitsPerDim,
} from './losses';
export type { ElboTerms } from './losses';
export {
  accuracy,
  confusionMatrix,
  clusterPurity,
  modeCoverage,
  frechetDistance,
  frechetDistanceFromMoments,
} from './metrics';
// The judge of generated digits, for every generative model (lib/judge.ts).
export { judgeSamples, judgeSamplesWithClasses, judgeConditionalSamples } from './judge';
export type { SampleQuality, ConditionalSampleQuality } from './judge';
export { createMask, MaskedConv2D, maskedConv2d } from './layers/masked_conv';
export type { MaskType, MaskedConv2DArgs } from './layers/masked_conv';
export { ActNorm } from './layers/act_norm';
export type { ActNormArgs } from './layers/act_norm';
export { symmetricEigen } from './linalg';

// The classical unsupervised methods of lab 1.
export {
  kmeans,
  kmeansPlusPlus,
  assignClusters,
  updateCentroids,
  squaredDistances,
  inertia,
} from './unsupervised/kmeans';
export type { KMeansOptions, KMeansResult } from './unsupervised/kmeans';
export { fitPca, projectPca, reconstructPca } from './unsupervised/pca';
export type { Pca, PcaOptions } from './unsupervised/pca';
export { fitPixelBernoulli, pixelBernoulliLogLikelihood, samplePixelBernoulli } from './unsupervised/density';
export type { PixelBernoulli } from './unsupervised/density';

// The models, one namespace each (the contract they share: lib/models/kit.ts, its type lib/models/contract.ts).
export * as classifier from './models/classifier';
export * as autoencoder from './models/autoencoder';
export * as vae from './models/vae';
export * as pixelcnn from './models/pixelcnn';
export * as gan from './models/gan';
export * as conditionalGan from './models/conditional_gan';
export * as flow from './models/flow';
export * as diffusion from './models/diffusion';
export { IMAGE_SHAPE, IMAGE_SIDE, IMAGE_PIXELS, runTrainingLoop, createWeightAverage } from './models/kit';
export type {
  GenerativeFamily,
  ModelFamily,
  Parts,
  Round,
  TrainingLoop,
  TrainOptions,
  WeightAverage,
} from './models/kit';

// Checks a lab runs on the student's work.
export { expectClose, expectTrue, relativeError, CheckFailed } from './checks';
export type { Mistake } from './checks';

// Saving and loading.
export { saveModel, loadModel, saveVariables, loadVariables, folderHandler } from './io';

// Pretrained models that ship with the course (pretrained/, checked against their SHA-256).
export {
  loadPretrained,
  pretrainedInfo,
  PRETRAINED_DIFFUSION_SAMPLING,
  type PretrainedEntry,
  type PretrainedName,
} from './pretrained';

export * from './aliases';
