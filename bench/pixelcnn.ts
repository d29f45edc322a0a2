/**
 * PixelCNN quality and speed (issue: Lab 3). Trains the lab's model (7×7 mask A,
 * 5 × 3×3 mask B, 32 channels) on dynamically binarized MNIST for a time budget on
 * the active backend, then reports the test NLL (nats per image and bits/dim) on
 * 2,000 test images and the time to sample 16 images with and without the cropped
 * sampler. Writes bench/results/pixelcnn.json.
 *
 *   npm run bench:pixelcnn                  # 14 minutes, the lab's full profile
 *   node dist/bench/pixelcnn.js --minutes 2 --filters 64
 */
import { batches, binarizeStochastic, bitsPerDim, init, loadMnist, pixelcnn, tf } from '../lib/index';
import { numberFlag, runBench, writeResult } from './common';

async function main(): Promise<void> {
  const info = await init();
  const filters = numberFlag('filters', 32);
  const layers = numberFlag('layers', 5);
  const batchSize = numberFlag('batch', 32);
  const minutes = numberFlag('minutes', 14);
  const { train, test } = loadMnist();
  const testX = binarizeStochastic(test.images.slice(0, 2000), 0) as tf.Tensor4D;
  const model = pixelcnn.createPixelCnn({ filters, layers, seed: 1 });
  const optimizer = tf.train.adam(1e-3);
  const stream = batches(train.images, undefined, { batchSize, seed: 1 });
  console.log(
    `PixelCNN ${filters} channels, ${layers} mask-B layers, ${model.countParams()} parameters; batch ${batchSize}; ${minutes} min`,
  );
  const start = Date.now();
  let step = 0;
  while ((Date.now() - start) / 60000 < minutes) {
    const nll = tf.tidy(() => {
      const x = binarizeStochastic(stream.next().value.x, step + 1);
      return optimizer.minimize(() => pixelcnn.logLikelihood(model, x).mean().neg() as tf.Scalar, true)!.dataSync()[0];
    });
    if (step % 100 === 0)
      console.log(`step ${step} · ${((Date.now() - start) / 1000).toFixed(0)}s · train NLL ${nll.toFixed(2)}`);
    step++;
  }
  const trainSeconds = (Date.now() - start) / 1000;
  const nll = pixelcnn.evaluate(model, testX, { batchSize: 100 }).negativeLogLikelihood;
  const timeSampling = async (cropRows: boolean) => {
    const t0 = Date.now();
    (await pixelcnn.sample(model, 16, 123, { cropRows })).dispose();
    return (Date.now() - t0) / 1000;
  };
  const sampleSeconds = await timeSampling(false);
  const croppedSampleSeconds = await timeSampling(true);
  const result = {
    backend: info.line,
    model: { filters, layers, params: model.countParams(), batchSize, optimizer: 'adam 1e-3' },
    steps: step,
    trainSeconds,
    msPerStep: (1000 * trainSeconds) / step,
    testNll: nll,
    bitsPerDim: bitsPerDim(nll, 784),
    targetNats: 90,
    sample16Seconds: sampleSeconds,
    sample16CroppedSeconds: croppedSampleSeconds,
    anchors: { 'PixelCNN (van den Oord et al. 2016)': 81.3 },
  };
  writeResult('pixelcnn', result);
  console.log(
    `\nPixelCNN (${model.countParams()} params): test NLL ${nll.toFixed(2)} nats = ${bitsPerDim(nll, 784).toFixed(4)} bits/dim after ${step} steps in ${(trainSeconds / 60).toFixed(1)} min (${result.msPerStep.toFixed(0)} ms/step); ` +
      `16 samples in ${sampleSeconds.toFixed(1)} s, ${croppedSampleSeconds.toFixed(1)} s with the cropped sampler (${(sampleSeconds / croppedSampleSeconds).toFixed(2)}×)`,
  );
}

runBench(main);
