/**
 * VAE quality benchmark (issue: Lab 2). Trains the lab's MLP VAE on dynamically
 * binarized MNIST for a time budget on the active backend (wasm here), evaluating the
 * test −ELBO on a fixed stochastic binarization of the 10,000 test images as it goes;
 * then reports the IWAE bounds (K = 1, 10, 100). Writes bench/results/vae.json.
 *
 *   npm run bench:vae                       # a 14-minute budget, the lab's full profile
 *   node dist/bench/vae.js --steps 2000 --batch 64 --lr 1e-3 --warmup 0
 */
import { binarizeStochastic, batches, cosineSchedule, init, loadMnist, setLearningRate, tf, vae } from '../lib/index';
import { numberFlag, runBench, writeResult } from './common';

const TARGET_NATS = 95;

async function main(): Promise<void> {
  const info = await init();
  const latentDim = numberFlag('latent', 32);
  const batchSize = numberFlag('batch', 128);
  const peakLearningRate = numberFlag('lr', 2e-3);
  const { train, test } = loadMnist();
  const testX = binarizeStochastic(test.images, 0) as tf.Tensor4D; // fixed, like the binarized-MNIST benchmarks
  const model = vae.createVae({ latentDim, architecture: 'mlp', seed: 1 });
  const optimizer = tf.train.adam(peakLearningRate);
  // A step budget, or a time budget turned into steps by timing the first 100.
  const stream = batches(train.images, undefined, { batchSize, seed: 1 });
  // KL warm-up: β rises linearly from 0 to 1 over the first `warmup` steps (Sønderby et al. 2016).
  const warmup = numberFlag('warmup', 2000);
  const beta = (i: number) => (warmup > 0 ? Math.min(1, i / warmup) : 1);
  const trainStep = (i: number) =>
    tf.tidy(() => vae.trainStep(model, optimizer, binarizeStochastic(stream.next().value.x, i + 1), { seed: 1_000_000 + i, beta: beta(i) }).loss.dataSync()[0]);
  let totalSteps = numberFlag('steps', 0);
  const warmupStart = Date.now();
  for (let i = 0; i < 20; i++) trainStep(i); // compilation and allocation happen here
  const probeStart = Date.now();
  for (let i = 20; i < 100; i++) trainStep(i);
  const probeMs = (Date.now() - probeStart) / 80;
  if (!totalSteps) totalSteps = Math.floor((numberFlag('minutes', 14) * 60000 - (Date.now() - warmupStart)) / probeMs) + 100;
  const learningRate = cosineSchedule(peakLearningRate, peakLearningRate / 20, totalSteps);
  const params = model.encoder.countParams() + model.decoder.countParams();
  console.log(`MLP VAE, latent ${latentDim}, ${params} parameters; batch ${batchSize}; ${totalSteps} steps (${probeMs.toFixed(1)} ms/step), Adam with a cosine learning rate ${peakLearningRate} → ${peakLearningRate / 20}`);

  const start = warmupStart;
  const curve: { step: number; seconds: number; testNegativeElbo: number }[] = [];
  let step = 100;
  let reachedAt: number | undefined;
  const evalEvery = 2000;
  while (step < totalSteps) {
    setLearningRate(optimizer, learningRate(step));
    const loss = trainStep(step);
    if (step % 500 === 0) console.log(`step ${step} · ${((Date.now() - start) / 1000).toFixed(0)}s · train −ELBO ${loss.toFixed(2)}`);
    step++;
    if (step % evalEvery === 0) {
      const seconds = (Date.now() - start) / 1000;
      const { negativeElbo } = vae.evaluate(model, testX, { seed: 7 });
      curve.push({ step, seconds, testNegativeElbo: negativeElbo });
      console.log(`  test −ELBO ${negativeElbo.toFixed(2)} nats at step ${step} (${seconds.toFixed(0)}s)`);
      if (reachedAt === undefined && negativeElbo <= TARGET_NATS) reachedAt = seconds;
    }
  }
  const trainSeconds = (Date.now() - start) / 1000;
  const final = vae.evaluate(model, testX, { seed: 7 });
  if (reachedAt === undefined && final.negativeElbo <= TARGET_NATS) reachedAt = trainSeconds;
  const iwae: Record<string, number> = {};
  for (const k of [1, 10, 100]) {
    const t0 = Date.now();
    iwae[`k${k}`] = vae.iwaeNegativeLogLikelihood(model, testX, k, { seed: 11 });
    console.log(`  IWAE K=${k}: −log p(x) ≤ ${iwae[`k${k}`].toFixed(2)} nats (${((Date.now() - t0) / 1000).toFixed(0)}s)`);
  }
  const result = {
    backend: info.line,
    model: { architecture: 'mlp', latentDim, params, batchSize, optimizer: `adam, cosine ${peakLearningRate} → ${peakLearningRate / 20}`, klWarmupSteps: warmup },
    steps: step,
    trainSeconds,
    msPerStep: (1000 * trainSeconds) / step,
    test: final,
    targetNats: TARGET_NATS,
    secondsToTarget: reachedAt ?? null,
    iwaeNegativeLogLikelihood: iwae,
    curve,
    anchors: { 'VAE (Burda et al. 2015)': 86.76, 'IWAE k=50': 84.78 },
  };
  writeResult('vae', result);
  console.log(
    `\nMLP VAE: test −ELBO ${final.negativeElbo.toFixed(2)} nats (${final.reconstruction.toFixed(2)} reconstruction + ${final.kl.toFixed(2)} KL) after ${step} steps in ${(trainSeconds / 60).toFixed(1)} min (${result.msPerStep.toFixed(1)} ms/step); ` +
      `≤ ${TARGET_NATS} nats ${reachedAt === undefined ? 'not reached' : `reached at ${(reachedAt / 60).toFixed(1)} min`}; IWAE K=1/10/100: ${iwae.k1.toFixed(2)} / ${iwae.k10.toFixed(2)} / ${iwae.k100.toFixed(2)} nats`,
  );
}

runBench(main);
