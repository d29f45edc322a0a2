/**
 * The judge of generated digits: a classifier trained on real MNIST (the course ships one,
 * `loadPretrained('mnist-judge')`) reads a batch of samples and says how good they are, in the measures every
 * generative model of the course reports the same way:
 *
 *   modesCovered     the digits at least 1% of the samples are read as (a collapsed model makes few);
 *   meanConfidence   the mean of the judge's top probability (high when the samples are clear digits);
 *   frechetDistance  the squared Fréchet distance, as in FID, between Gaussians fitted to the judge's penultimate
 *                    features of the samples and of real reference images (compare with two real sets: at 1,000
 *                    images it is biased upward);
 *   labelAgreement   for a model told which digit to draw, how often the judge reads that digit.
 *
 * Any model with samples in [0, 1] is judged here; none needs to import another model to be judged.
 */
import * as tf from '@tensorflow/tfjs';
import { frechetDistance, modeCoverage } from './metrics';
import { penultimateFeatures } from './models/classifier';

export interface SampleQuality {
  /** Digits that at least 1% of the samples are classified as (10 when no mode is missing). */
  modesCovered: number;
  /** How many samples the classifier gives each digit. */
  counts: number[];
  /** Mean of the classifier's top probability, max_k p(k | x): high when samples look like clear digits. */
  meanConfidence: number;
  /** Fréchet distance between the classifier's features of the samples and of the reference images (FID-style). */
  frechetDistance: number;
}

export interface ConditionalSampleQuality extends SampleQuality {
  /** The fraction of samples the judge classifies as the digit they were asked to be. */
  labelAgreement: number;
}

/** `judgeSamples`, and the class the judge reads in each sample (one pass of the judge serves both). */
export function judgeSamplesWithClasses(
  classifier: tf.LayersModel,
  samples: tf.Tensor,
  reference: tf.Tensor,
): { quality: SampleQuality; predicted: Int32Array } {
  const logits = classifier.predict(samples) as tf.Tensor;
  const predicted = tf.tidy(() => logits.argMax(1).dataSync()) as Int32Array;
  const confidence = tf.tidy(() => tf.softmax(logits).max(1).mean().dataSync()[0]);
  logits.dispose();
  const { covered, counts } = modeCoverage(predicted, classifier.outputs[0].shape[1] as number);
  const a = penultimateFeatures(classifier, samples);
  const b = penultimateFeatures(classifier, reference);
  const distance = frechetDistance(a, b);
  a.dispose();
  b.dispose();
  return {
    quality: { modesCovered: covered, counts, meanConfidence: confidence, frechetDistance: distance },
    predicted,
  };
}

/**
 * Judges generated digits with a trained MNIST classifier: mode coverage, mean confidence, and a Fréchet distance
 * on its penultimate features against real `reference` images (images in [0, 1]; compare with two real sets for
 * scale).
 */
export function judgeSamples(classifier: tf.LayersModel, samples: tf.Tensor, reference: tf.Tensor): SampleQuality {
  return judgeSamplesWithClasses(classifier, samples, reference).quality;
}

/** `judgeSamples` for samples each asked to be a digit (`labels`), and how often the judge reads that digit. */
export function judgeConditionalSamples(
  classifier: tf.LayersModel,
  samples: tf.Tensor,
  labels: ArrayLike<number>,
  reference: tf.Tensor,
): ConditionalSampleQuality {
  const { quality, predicted } = judgeSamplesWithClasses(classifier, samples, reference);
  let agree = 0;
  for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) agree++;
  return { ...quality, labelAgreement: agree / labels.length };
}
