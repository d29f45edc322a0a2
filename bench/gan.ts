/**
 * GAN quality benchmark (lab 5): trains a GAN on MNIST for a time budget on the
 * active backend, judging 1,000 samples every `--every` steps with the lab's MNIST
 * classifier (mode coverage, mean confidence, Fréchet distance on its features next
 * to the real-vs-real figure), and reports when the targets were first met:
 * 10 of 10 digits and mean confidence ≥ 0.9. Writes bench/results/gan-<architecture>.json.
 *
 *   npm run bench:gan                                  # DCGAN (64/128 filters), 14 minutes
 *   node dist/bench/gan.js --architecture mlp --minutes 10
 *   node dist/bench/gan.js --filters 32,64 --every 100
 */
import { accuracy, classifier, gan, init, loadMnist, tf } from '../lib/index';
import { flag, numberFlag, runBench, writeResult } from './common';

const TARGET_MODES = 10;
const TARGET_CONFIDENCE = 0.9;

async function main(): Promise<void> {
  const info = await init();
  const architecture = flag('architecture', 'dcgan') as 'mlp' | 'dcgan';
  const filters = flag('filters', '64,128').split(',').map(Number) as [number, number];
  const batchSize = numberFlag('batch', architecture === 'dcgan' ? 64 : 128);
  const minutes = numberFlag('minutes', 14);
  const every = numberFlag('every', architecture === 'dcgan' ? 100 : 250);
  const { train, test } = loadMnist();
  const judgeStart = Date.now();
  const judge = await classifier.loadOrTrainMnistClassifier({ train, quiet: true });
  const judgeAccuracy = accuracy(test.labels, classifier.predictClasses(judge, test.images));
  console.log(
    `judge: the lab's CNN, ${(100 * judgeAccuracy).toFixed(2)}% on the test digits (${((Date.now() - judgeStart) / 1000).toFixed(0)} s to train or load)`,
  );
  const reference = test.images.slice(0, 1000);
  const realVsReal = gan.judgeSamples(judge, test.images.slice(1000, 1000), reference);
  console.log(
    `real vs real: Fréchet distance ${realVsReal.frechetDistance.toFixed(2)}, confidence ${realVsReal.meanConfidence.toFixed(3)}`,
  );

  const model = gan.createGan({ architecture, filters, seed: 1 });
  const optimizers = gan.createOptimizers(numberFlag('lr', 1e-3)); // the lab's recipe: Adam(1e-3, β₁ = 0.5) for both players
  const params = { generator: model.generator.countParams(), discriminator: model.discriminator.countParams() };
  console.log(
    `${architecture} GAN${architecture === 'dcgan' ? ` (filters ${filters})` : ''}: G ${params.generator}, D ${params.discriminator} parameters; batch ${batchSize}; ${minutes} minutes on ${info.backend}`,
  );
  const curve: { step: number; seconds: number; modes: number; confidence: number; frechet: number }[] = [];
  let reached: { step: number; seconds: number } | undefined;
  let trainingMs = 0;
  let step = 0;
  while (trainingMs < minutes * 60000) {
    const start = Date.now();
    await gan.trainGan(model, train.images, { steps: every, batchSize, optimizers, seed: 1000 + step, quiet: true });
    trainingMs += Date.now() - start;
    step += every;
    const samples = gan.sample(model, 1000, 555);
    const q = gan.judgeSamples(judge, samples, reference);
    samples.dispose();
    curve.push({
      step,
      seconds: trainingMs / 1000,
      modes: q.modesCovered,
      confidence: q.meanConfidence,
      frechet: q.frechetDistance,
    });
    console.log(
      `step ${step} · ${(trainingMs / 60000).toFixed(1)} min training (${(trainingMs / step).toFixed(0)} ms/step) · digits ${q.modesCovered}/10 · confidence ${q.meanConfidence.toFixed(3)} · Fréchet ${q.frechetDistance.toFixed(2)}`,
    );
    if (!reached && q.modesCovered >= TARGET_MODES && q.meanConfidence >= TARGET_CONFIDENCE)
      reached = { step, seconds: trainingMs / 1000 };
  }
  const last = curve[curve.length - 1];
  console.log(
    reached
      ? `target (${TARGET_MODES}/10 digits, confidence ≥ ${TARGET_CONFIDENCE}) first met at step ${reached.step}, after ${(reached.seconds / 60).toFixed(1)} min of training`
      : `target (${TARGET_MODES}/10 digits, confidence ≥ ${TARGET_CONFIDENCE}) not met in ${minutes} min; last: ${last.modes}/10 digits, confidence ${last.confidence.toFixed(3)}`,
  );
  const file = writeResult(`gan-${architecture}`, {
    backend: info.backend,
    architecture,
    filters: architecture === 'dcgan' ? filters : undefined,
    batchSize,
    params,
    msPerStep: trainingMs / step,
    judgeAccuracy,
    realVsReal: { frechet: realVsReal.frechetDistance, confidence: realVsReal.meanConfidence },
    curve,
    reached,
  });
  console.log(`results in ${file}`);
  tf.disposeVariables();
}

runBench(main);
