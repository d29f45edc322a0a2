/**
 * VAE quality benchmark (lab 3). Trains the lab's model by the lab's recipe (`VAE_RECIPE`, the same data
 * the notebook reads: Adam 2e-3 → 1e-4 on a cosine, batches of 128, KL warm-up, each batch binarized
 * afresh) on the active backend, evaluating the test −ELBO on a fixed stochastic binarization of the
 * 10,000 test images every 2,000 steps; then reports the IWAE bounds (K = 1, 10, 100). Writes
 * bench/results/vae.json.
 *
 *   npm run bench:vae                       # the recipe's full run (15,000 steps), as students run it
 *   node dist/bench/vae.js --steps 2000 --batch 64 --lr 1e-3   # the recipe with some settings changed
 */
import { binarizeStochastic, init, loadMnist, tf, vae, VAE_RECIPE } from '../lib/index';
import { numberFlag, runBench, writeResult } from './common';
import type { FlagSpec } from '../lib/command_line';

const TARGET_NATS = 95;
const EVALUATE_EVERY = 2000;

/** The flags this benchmark accepts; any other stops it with a sentence. */
const FLAGS: Record<string, FlagSpec> = {
  steps: { kind: 'number' },
  batch: { kind: 'number' },
  lr: { kind: 'number' },
};

async function main(): Promise<void> {
  const info = await init();
  const recipe = VAE_RECIPE;
  const training = {
    ...recipe.training,
    batchSize: numberFlag('batch', recipe.training.batchSize!),
    learningRate: numberFlag('lr', recipe.training.learningRate!),
  };
  const steps = numberFlag('steps', recipe.steps.full);
  const { train, test } = loadMnist();
  const testX = binarizeStochastic(test.images, 0) as tf.Tensor4D; // fixed, like the binarized-MNIST benchmarks
  const model = vae.createVae(recipe.model);
  const params = model.encoder.countParams() + model.decoder.countParams();
  console.log(
    `${recipe.lab}: ${model.architecture} VAE, latent ${model.latentDim}, ${params} parameters; ${steps} steps of ${training.batchSize}; ${JSON.stringify(training)}`,
  );

  const curve: { step: number; seconds: number; testNegativeElbo: number }[] = [];
  let reachedAt: number | undefined;
  const start = Date.now();
  let evalSeconds = 0;
  const history = await vae.trainVae(model, train.images, {
    ...training,
    steps,
    label: 'MLP VAE',
    onStep: (i) => {
      if ((i + 1) % EVALUATE_EVERY !== 0) return;
      const t0 = Date.now();
      const { negativeElbo } = vae.evaluate(model, testX, recipe.evaluation);
      evalSeconds += (Date.now() - t0) / 1000;
      const seconds = (Date.now() - start) / 1000 - evalSeconds;
      curve.push({ step: i + 1, seconds, testNegativeElbo: negativeElbo });
      console.log(
        `  test −ELBO ${negativeElbo.toFixed(2)} nats at step ${i + 1} (${seconds.toFixed(0)} s of training)`,
      );
      if (reachedAt === undefined && negativeElbo <= TARGET_NATS) reachedAt = seconds;
    },
  });
  const trainSeconds = (Date.now() - start) / 1000 - evalSeconds;
  const final = vae.evaluate(model, testX, recipe.evaluation);
  if (reachedAt === undefined && final.negativeElbo <= TARGET_NATS) reachedAt = trainSeconds;
  const iwae: Record<string, number> = {};
  for (const k of [1, 10, 100]) {
    const t0 = Date.now();
    iwae[`k${k}`] = vae.iwaeNegativeLogLikelihood(model, testX, k, { seed: 11 });
    console.log(
      `  IWAE K=${k}: −log p(x) ≤ ${iwae[`k${k}`].toFixed(2)} nats (${((Date.now() - t0) / 1000).toFixed(0)}s)`,
    );
  }
  const result = {
    backend: info.line,
    recipe: { ...recipe, training },
    model: { architecture: model.architecture, latentDim: model.latentDim, params },
    steps,
    trainSeconds,
    msPerStep: (1000 * trainSeconds) / steps,
    finalTrainLoss: history.values.loss[history.values.loss.length - 1],
    test: final,
    targetNats: TARGET_NATS,
    secondsToTarget: reachedAt ?? null,
    iwaeNegativeLogLikelihood: iwae,
    curve,
    anchors: { 'VAE (Burda et al. 2015)': 86.76, 'IWAE k=50': 84.78 },
  };
  writeResult('vae', result);
  console.log(
    `\nMLP VAE: test −ELBO ${final.negativeElbo.toFixed(2)} nats (${final.reconstruction.toFixed(2)} reconstruction + ${final.kl.toFixed(2)} KL) after ${steps} steps in ${(trainSeconds / 60).toFixed(1)} min (${result.msPerStep.toFixed(1)} ms/step); ` +
      `≤ ${TARGET_NATS} nats ${reachedAt === undefined ? 'not reached' : `reached at ${(reachedAt / 60).toFixed(1)} min`}; IWAE K=1/10/100: ${iwae.k1.toFixed(2)} / ${iwae.k10.toFixed(2)} / ${iwae.k100.toFixed(2)} nats`,
  );
}

runBench('npm run bench:vae', FLAGS, main);
