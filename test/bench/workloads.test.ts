/**
 * The units of work `npm run bench` times (bench/workloads.ts): parameter counts
 * by hand (the PyTorch peer must match them), and one run of each on wasm that
 * changes the weights and leaves no tensors behind.
 */
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { init } from '../../lib/backend';
import { createWorkload, WorkloadName } from '../../bench/workloads';

// Trainable parameters, layer by layer (batch-norm moving statistics are not trainable).
const HAND_COUNTS: Record<Exclude<WorkloadName, 'pixelcnn-sample' | 'gemm'>, number> = {
  // G: dense 96·6272 (no bias) + BN 2·128 + up-conv 4·4·64·128 (no bias) + BN 2·64 + up-conv 4·4·1·64 + 1
  // D: conv 4·4·1·64 + 64 + conv 4·4·64·128 (no bias) + BN 2·128 + dense 6272 + 1
  dcgan: 96 * 6272 + 256 + 16 * 64 * 128 + 128 + 16 * 64 + 1 + (16 * 64 + 64) + 16 * 64 * 128 + 256 + 6272 + 1,
  // encoder: conv 9·32 + 32, conv 9·32·64 + 64, dense 3136·128 + 128, dense 128·64 + 64;
  // decoder: dense 32·128 + 128, dense 128·3136 + 3136, up-conv 9·64·64 + 64, up-conv 9·64·32 + 32, conv 9·32 + 1
  'conv-vae':
    320 +
    18496 +
    (3136 * 128 + 128) +
    (128 * 64 + 64) +
    (32 * 128 + 128) +
    (128 * 3136 + 3136) +
    (9 * 64 * 64 + 64) +
    (9 * 64 * 32 + 32) +
    289,
  // encoder: dense 784·512 + 512, 512·256 + 256, 256·64 + 64; decoder: dense 32·256 + 256, 256·512 + 512, 512·784 + 784
  'mlp-vae': 784 * 512 + 512 + 512 * 256 + 256 + 256 * 64 + 64 + 32 * 256 + 256 + 256 * 512 + 512 + 512 * 784 + 784,
  // 7·7·64 + 64, 5 × (9·64·64 + 64), 64·64 + 64, 64 + 1
  pixelcnn: 49 * 64 + 64 + 5 * (9 * 64 * 64 + 64) + 64 * 64 + 64 + 65,
  // 16 couplings, each: conv 3×3 in→48 + 48, a block (conv 3×3 48→48 + 48, conv 1×1 48→48 + 48), two heads
  // conv 3×3 48→out + out, then an ActNorm on its c channels (a bias and a log-scale each: 2c). Checkerboard on c
  // channels: in = out = c; channel coupling on c: in = out = c / 2. Scale 1: 3 checkerboard on 1 channel, 3 channel
  // couplings on 4; scale 2: 3 checkerboard on 2, 3 channel on 8; then 4 checkerboard on 4.
  flow: (() => {
    const coupling = (inputs: number, outputs: number, c: number) =>
      9 * inputs * 48 + 48 + (9 * 48 * 48 + 48) + (48 * 48 + 48) + 2 * (9 * 48 * outputs + outputs) + 2 * c;
    return (
      3 * coupling(1, 1, 1) +
      3 * coupling(2, 2, 4) +
      3 * coupling(2, 2, 2) +
      3 * coupling(4, 4, 8) +
      4 * coupling(4, 4, 4)
    );
  })(),
  // The embedding: dense 32·64 + 64 (the step), dense 11·64 + 64 (the label), dense 128·64 + 64, dense 64·64 + 64.
  // A block from c_in to c channels: conv 3×3 c_in→c + c, dense 64·c + c, conv 3×3 c→c + c, and a 1×1 conv
  // c_in→c + c where the channels change. The U-Net: conv 3×3 1→32 + 32; blocks 32→32, 32→64, 64→64 twice, then
  // (64 + 64)→64 and (64 + 32)→32 on the way up; conv 3×3 32→1 + 1.
  diffusion: (() => {
    const block = (cin: number, c: number) =>
      9 * cin * c + c + (64 * c + c) + (9 * c * c + c) + (cin === c ? 0 : cin * c + c);
    const embedding = 32 * 64 + 64 + (11 * 64 + 64) + (128 * 64 + 64) + (64 * 64 + 64);
    return (
      embedding +
      (9 * 32 + 32) +
      block(32, 32) +
      block(32, 64) +
      2 * block(64, 64) +
      block(128, 64) +
      block(96, 32) +
      (9 * 32 + 1)
    );
  })(),
};

/** Every variable alive, flattened into one vector (a copy). */
const allWeights = () =>
  tf.tidy(() => tf.concat(Object.values(tf.engine().state.registeredVariables).map((v) => v.flatten())));

describe('bench workloads', () => {
  before(() => init({ backend: 'wasm', quiet: true }));
  after(() => init({ quiet: true }));

  for (const [name, count] of Object.entries(HAND_COUNTS)) {
    it(`${name}: ${count} trainable parameters, counted by hand; one step trains and leaks nothing`, async () => {
      const workload = createWorkload(name as WorkloadName);
      assert.strictEqual(workload.trainableParams, count);
      await workload.run(); // the optimiser creates its slots on the first step
      const weightsBefore = allWeights();
      const before = tf.memory().numTensors;
      await workload.run();
      assert.strictEqual(tf.memory().numTensors, before, 'a step left tensors behind');
      const weightsAfter = allWeights();
      assert.ok(
        tf.tidy(() => weightsAfter.sub(weightsBefore).abs().max().dataSync()[0]) > 0,
        'the step changed no weight',
      );
      tf.dispose([weightsBefore, weightsAfter]);
      workload.dispose();
    });
  }
});
