/**
 * Names from before the naming rule (lib/index.ts: a model is a namespace, everything
 * else is flat), kept so that notebooks already handed out, and instructors' scripts,
 * keep working. Each is the same object as its new name, so the answer-key guard and
 * the grader's lockdown treat both alike. Editors strike them through (@deprecated);
 * nothing in this repository uses them any more. To be removed in genlab 0.3.
 */
import * as classifierModel from './models/classifier';
import * as autoencoderModel from './models/autoencoder';
import * as ganModel from './models/gan';
import * as pixelcnnModel from './models/pixelcnn';
import * as vaeModel from './models/vae';

/** @deprecated A namespace of what is flat now: `import { klNormal } from 'genlab'`. */
export * as losses from './losses';
/** @deprecated A namespace of what is flat now: `import { kmeans, fitPca } from 'genlab'`. */
export * as unsupervised from './unsupervised';

/** @deprecated Use `classifier.createClassifier`. */
export const createClassifier = classifierModel.createClassifier;
/** @deprecated Use `classifier.classifierFromEncoder`. */
export const classifierFromEncoder = classifierModel.classifierFromEncoder;
/** @deprecated Use `classifier.trainClassifier(model, { images, labels }, options)`. */
export const trainClassifier = classifierModel.trainClassifier;
/** @deprecated Use `classifier.predictClasses`. */
export const predictClasses = classifierModel.predictClasses;
/** @deprecated Use `classifier.penultimateFeatures`. */
export const penultimateFeatures = classifierModel.penultimateFeatures;
/** @deprecated Use `classifier.loadOrTrainMnistClassifier`. */
export const loadOrTrainMnistClassifier = classifierModel.loadOrTrainMnistClassifier;
/** @deprecated Use `autoencoder.createAutoencoder`. */
export const createAutoencoder = autoencoderModel.createAutoencoder;
/** @deprecated Use `vae.createVae`. */
export const createVae = vaeModel.createVae;
/** @deprecated Use `pixelcnn.createPixelCnn`. */
export const createPixelCnn = pixelcnnModel.createPixelCnn;
/** @deprecated Use `gan.createGan`. */
export const createGan = ganModel.createGan;
/** @deprecated Use `gan.createToyGan`. */
export const createToyGan = ganModel.createToyGan;

/** @deprecated Use `classifier.ClassifierArchitecture`. */
export type ClassifierArchitecture = classifierModel.ClassifierArchitecture;
/** @deprecated Use `classifier.ClassifierConfig`. */
export type ClassifierConfig = classifierModel.ClassifierConfig;
/** @deprecated Use `autoencoder.Autoencoder`. */
export type Autoencoder = autoencoderModel.Autoencoder;
/** @deprecated Use `autoencoder.AutoencoderConfig`. */
export type AutoencoderConfig = autoencoderModel.AutoencoderConfig;
/** @deprecated Use `gan.Gan`. */
export type Gan = ganModel.Gan;
/** @deprecated Use `gan.GanConfig`. */
export type GanConfig = ganModel.GanConfig;
/** @deprecated Use `vae.Vae`. */
export type Vae = vaeModel.Vae;
/** @deprecated Use `vae.VaeConfig`. */
export type VaeConfig = vaeModel.VaeConfig;
