/**
 * GAN quality benchmark (lab 5): trains a GAN on MNIST for a time budget on the
 * active backend, judging 1,000 samples every `--every` steps with the lab's MNIST
 * classifier (mode coverage, mean confidence, Fréchet distance on its features next
 * to the real-vs-real figure), and reports when the targets were first met:
 * 10 of 10 digits and mean confidence ≥ 0.9. Writes bench/results/gan-<architecture>.json.
 *
 * The DCGAN and the conditional DCGAN train by lab 5's recipes (DCGAN_RECIPE, CONDITIONAL_DCGAN_RECIPE: their
 * networks, batch size, learning rate and k), unless a flag says otherwise. `--architecture conditional` trains
 * the conditional DCGAN, asked for each digit in turn when judged, and also reports how often the judge reads the
 * digit asked for.
 *
 *   npm run bench:gan                                  # lab 5's DCGAN (32/64 filters), 14 minutes
 *   node dist/bench/gan.js --architecture mlp --minutes 10
 *   node dist/bench/gan.js --filters 32,64 --every 100
 *   node dist/bench/gan.js --architecture conditional --minutes 5 --every 100
 */
import {
  accuracy,
  classifier,
  conditionalGan,
  CONDITIONAL_DCGAN_RECIPE,
  DCGAN_RECIPE,
  gan,
  init,
  judgeSamples,
  loadMnist,
  loadPretrained,
  tf,
} from '../lib/index';
import type { SampleQuality } from '../lib/index';
import { flag, numberFlag, runBench, writeResult } from './common';
import type { FlagSpec } from '../lib/command_line';

const TARGET_MODES = 10;
const TARGET_CONFIDENCE = 0.9;

/** The flags this benchmark accepts; any other stops it with a sentence. */
const FLAGS: Record<string, FlagSpec> = {
  architecture: { kind: 'string', choices: ['mlp', 'dcgan', 'conditional'] },
  filters: { kind: 'string', value: 'F1,F2' },
  batch: { kind: 'number' },
  minutes: { kind: 'number' },
  every: { kind: 'number', value: 'STEPS' },
  lr: { kind: 'number' },
};

async function main(): Promise<void> {
  const info = await init();
  const architecture = flag('architecture', 'dcgan') as 'mlp' | 'dcgan' | 'conditional';
  if (!['mlp', 'dcgan', 'conditional'].includes(architecture))
    throw new Error(`--architecture is mlp, dcgan or conditional, got '${architecture}'.`);
  const conditional = architecture === 'conditional';
  const recipe = conditional ? CONDITIONAL_DCGAN_RECIPE : DCGAN_RECIPE;
  const filters = flag('filters', String(recipe.model.filters)).split(',').map(Number) as [number, number];
  const batchSize = numberFlag('batch', architecture === 'mlp' ? 128 : recipe.training.batchSize!);
  const minutes = numberFlag('minutes', 14);
  const every = numberFlag('every', architecture === 'mlp' ? 250 : 100);
  const { train, test } = loadMnist();
  const judgeStart = Date.now();
  const judge = await loadPretrained('mnist-judge');
  const judgeAccuracy = accuracy(test.labels, classifier.predictClasses(judge, test.images));
  console.log(
    `judge: the lab's CNN, ${(100 * judgeAccuracy).toFixed(2)}% on the test digits (${((Date.now() - judgeStart) / 1000).toFixed(0)} s to train or load)`,
  );
  const reference = test.images.slice(0, 1000);
  const realVsReal = judgeSamples(judge, test.images.slice(1000, 1000), reference);
  console.log(
    `real vs real: Fréchet distance ${realVsReal.frechetDistance.toFixed(2)}, confidence ${realVsReal.meanConfidence.toFixed(3)}`,
  );

  // One interface for both kinds of GAN: train some steps, judge 1,000 samples.
  const optimizers = gan.createOptimizers(numberFlag('lr', recipe.training.learningRate!)); // Adam(β₁ = 0.5) for both players
  const training = { ...recipe.training, batchSize, optimizers, quiet: true };
  const trained = conditional
    ? (() => {
        const model = conditionalGan.createConditionalGan({ ...recipe.model, filters });
        return {
          model,
          train: (steps: number, seed: number) =>
            conditionalGan.trainConditionalGan(model, train, { ...training, steps, seed }),
          judged: () => conditionalGan.evaluate(model, reference, { classifier: judge, samples: 1000, seed: 555 }),
        };
      })()
    : (() => {
        const model = gan.createGan({ ...DCGAN_RECIPE.model, architecture, filters });
        return {
          model,
          train: (steps: number, seed: number) => gan.trainGan(model, train.images, { ...training, steps, seed }),
          judged: () => gan.evaluate(model, reference, { classifier: judge, samples: 1000, seed: 555 }),
        };
      })();
  const { model } = trained;
  const params = { generator: model.generator.countParams(), discriminator: model.discriminator.countParams() };
  console.log(
    `${architecture} GAN${architecture !== 'mlp' ? ` (filters ${filters})` : ''}: G ${params.generator}, D ${params.discriminator} parameters; batch ${batchSize}; ${minutes} minutes on ${info.backend}`,
  );
  const curve: {
    step: number;
    seconds: number;
    modes: number;
    confidence: number;
    frechet: number;
    labelAgreement?: number;
  }[] = [];
  let reached: { step: number; seconds: number } | undefined;
  let trainingMs = 0;
  let step = 0;
  while (trainingMs < minutes * 60000) {
    const start = Date.now();
    await trained.train(every, 1000 + step);
    trainingMs += Date.now() - start;
    step += every;
    const q: SampleQuality & { labelAgreement?: number } = trained.judged();
    curve.push({
      step,
      seconds: trainingMs / 1000,
      modes: q.modesCovered,
      confidence: q.meanConfidence,
      frechet: q.frechetDistance,
      labelAgreement: q.labelAgreement,
    });
    console.log(
      `step ${step} · ${(trainingMs / 60000).toFixed(1)} min training (${(trainingMs / step).toFixed(0)} ms/step) · digits ${q.modesCovered}/10 · confidence ${q.meanConfidence.toFixed(3)} · Fréchet ${q.frechetDistance.toFixed(2)}${q.labelAgreement === undefined ? '' : ` · the digit asked for ${(100 * q.labelAgreement).toFixed(1)}%`}`,
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
    filters: architecture !== 'mlp' ? filters : undefined,
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

runBench('npm run bench:gan', FLAGS, main);
