/**
 * genlab: the library behind the generative-models labs.
 *
 * Notebooks import everything from here — `import { tf, init, loadMnist } from 'genlab'`
 * — so that there is one TensorFlow.js instance and the backend chosen by
 * `await init()` is the one every tensor uses.
 */
import * as tf from '@tensorflow/tfjs';
import { registerFileRouter } from './io';

registerFileRouter();

export { tf };
export { init, backendInfo, BACKEND_CHOICES } from './engine/backend';
export type { BackendChoice, BackendInfo, InitOptions } from './engine/backend';
export { GenlabError } from './errors';
export { profile, pick, isSmoke } from './run_size';
export type { ProfileName } from './run_size';
export { Random, nextSeed, globalSeed } from './random';
export { readIdx, parseIdx, encodeIdx } from './data/idx';
export type { IdxArray, IdxDtype } from './data/idx';
export { loadMnist, loadFashionMnist, mnistPackageDir } from './data/mnist';
export type { ImageDataset, LoadOptions, Split } from './data/mnist';
export { batches, binarize, binarizeStochastic } from './data/batches';
export type { Batch, BatchOptions } from './data/batches';
export { showImages, imageGridPng, liveImageGrid } from './viz/images';
export type { GridOptions } from './viz/images';
export { plot, lineChart, scatterChart, heatmap, animatedLineChart, chartHtml, tableHtml } from './viz/plotly';
export { showHtml, showMarkdown, showPng, inKernel } from './viz/display';
export { progress, formatDuration } from './viz/progress';
export type { Progress } from './viz/progress';
export { reportFigure } from './report';
export type { Figure } from './report';
export { fit, plotHistory, cosineSchedule, setLearningRate } from './train';
export type { FitOptions, History } from './train';
export * as losses from './losses';
export { softmaxCrossEntropy, mse, discriminatorLoss, minimaxGeneratorLoss, nonSaturatingGeneratorLoss, reparameterize, klNormal, bernoulliLogLikelihood, negativeElbo, iwaeBound, gaussianLogDensity, standardNormalLogDensity, stopGradient, bitsPerDim } from './losses';
export { accuracy, confusionMatrix, clusterPurity, modeCoverage, frechetDistance, frechetDistanceFromMoments } from './metrics';
export { createMask, MaskedConv2D, maskedConv2d } from './layers/masked_conv';
export type { MaskType, MaskedConv2DArgs } from './layers/masked_conv';
export * as pixelcnn from './models/pixelcnn';
export { createPixelCnn } from './models/pixelcnn';
export * as classifier from './models/classifier';
export { createClassifier, classifierFromEncoder, trainClassifier, predictClasses, penultimateFeatures, loadOrTrainMnistClassifier } from './models/classifier';
export type { ClassifierArchitecture, ClassifierConfig } from './models/classifier';
export * as autoencoder from './models/autoencoder';
export { createAutoencoder } from './models/autoencoder';
export type { Autoencoder, AutoencoderConfig } from './models/autoencoder';
export { kmeans, kmeansPlusPlus, squaredDistances, inertia } from './unsupervised/kmeans';
export type { KMeansOptions, KMeansResult } from './unsupervised/kmeans';
export { fitPca, reconstructPca } from './unsupervised/pca';
export { symmetricEigen } from './linalg';
export type { Pca, PcaOptions } from './unsupervised/pca';
export * as unsupervised from './unsupervised';
export { fitPixelBernoulli, pixelBernoulliLogLikelihood, samplePixelBernoulli } from './unsupervised/density';
export type { PixelBernoulli } from './unsupervised/density';
export * as gan from './models/gan';
export { createGan, createToyGan } from './models/gan';
export type { Gan, GanConfig } from './models/gan';
export * as vae from './models/vae';
export { createVae } from './models/vae';
export type { Vae, VaeConfig } from './models/vae';
export { expectClose, expectTrue, relativeError, CheckFailed } from './checks';
export type { Mistake } from './checks';
export { saveModel, loadModel, saveVariables, loadVariables, folderHandler } from './io';
