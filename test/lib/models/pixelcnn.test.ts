/** Masked convolutions and PixelCNN: masks by hand, causality by gradient, save/load, sampling. */
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { init } from '../../../lib/backend';
import { loadModel, saveModel } from '../../../lib/io';
import { createMask, MaskedConv2D } from '../../../lib/layers/masked_conv';
import { batches, binarizeStochastic } from '../../../lib/data/batches';
import { bitsPerDim } from '../../../lib/losses';
import { PIXELCNN_RECIPE } from '../../../lib/recipes';
import { cosineSchedule, fit, setLearningRate } from '../../../lib/train';
import * as pixelcnn from '../../../lib/models/pixelcnn';
import { assertGenlabError, maxAbsDiff, tempDir } from '../../helpers';

/** Masks written out by hand (rows top to bottom), for one channel pair. */
const HAND = {
  '3A': [
    [1, 1, 1],
    [1, 0, 0],
    [0, 0, 0],
  ],
  '3B': [
    [1, 1, 1],
    [1, 1, 0],
    [0, 0, 0],
  ],
  '5A': [
    [1, 1, 1, 1, 1],
    [1, 1, 1, 1, 1],
    [1, 1, 0, 0, 0],
    [0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0],
  ],
  '5B': [
    [1, 1, 1, 1, 1],
    [1, 1, 1, 1, 1],
    [1, 1, 1, 0, 0],
    [0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0],
  ],
  '7A': [
    [1, 1, 1, 1, 1, 1, 1],
    [1, 1, 1, 1, 1, 1, 1],
    [1, 1, 1, 1, 1, 1, 1],
    [1, 1, 1, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0],
  ],
  '7B': [
    [1, 1, 1, 1, 1, 1, 1],
    [1, 1, 1, 1, 1, 1, 1],
    [1, 1, 1, 1, 1, 1, 1],
    [1, 1, 1, 1, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0],
    [0, 0, 0, 0, 0, 0, 0],
  ],
} as const;

describe('masked convolutions', () => {
  before(() => init({ quiet: true }));

  for (const [key, expected] of Object.entries(HAND)) {
    for (const [inC, outC] of [
      [1, 1],
      [2, 3],
      [4, 1],
    ]) {
      it(`createMask(${key[0]}, ${inC}, ${outC}, '${key[1]}') matches the hand-written mask for every channel pair`, () => {
        const k = Number(key[0]);
        const mask = createMask(k, inC, outC, key[1] as 'A' | 'B').arraySync() as number[][][][];
        assert.deepStrictEqual(
          [mask.length, mask[0].length, mask[0][0].length, mask[0][0][0].length],
          [k, k, inC, outC],
        );
        for (let i = 0; i < inC; i++)
          for (let o = 0; o < outC; o++)
            assert.deepStrictEqual(
              mask.map((row) => row.map((tap) => tap[i][o])),
              expected,
            );
      });
    }
  }

  it('rejects even kernels and unknown mask types in a sentence', () => {
    assertGenlabError(() => createMask(4, 1, 1, 'A'), /odd whole number/);
    assertGenlabError(() => createMask(3, 1, 1, 'C' as 'A'), /'A' \(first layer\) or 'B'/);
  });

  it('MaskedConv2D computes conv2d with the masked kernel, and masked taps never matter', () => {
    const layer = new MaskedConv2D({ filters: 2, kernelSize: 3, maskType: 'A', seed: 3 });
    const x = tf.randomNormal([2, 6, 6, 1], 0, 1, 'float32', 4);
    const y = layer.apply(x) as tf.Tensor;
    const [kernel, bias] = layer.getWeights();
    const handMask = tf.tensor(HAND['3A'].flat()).reshape([3, 3, 1, 1]);
    const expected = tf.conv2d(x as tf.Tensor4D, kernel.mul(handMask) as tf.Tensor4D, 1, 'same').add(bias);
    assert.ok(maxAbsDiff(y.dataSync(), expected.dataSync()) < 1e-6);
    // Overwrite the hidden taps with huge values: the output does not change.
    layer.setWeights([kernel.add(tf.scalar(1).sub(handMask).mul(1e3)), bias]);
    assert.ok(maxAbsDiff((layer.apply(x) as tf.Tensor).dataSync(), y.dataSync()) < 1e-6);
    assert.deepStrictEqual(Array.from(layer.maskedKernel().slice([1, 1, 0, 0], [1, 1, 1, 2]).dataSync()), [0, 0]);
  });
});

describe('PixelCNN', () => {
  let model: tf.LayersModel;
  before(async () => {
    await init({ quiet: true });
    model = pixelcnn.createPixelCnn({ filters: 8, layers: 3, seed: 1 });
  });

  it('has the lecture’s parameter count for 64 channels: 7×7 A, 5 × 3×3 B, 1×1, 1×1 → 192,065', () => {
    // 7·7·1·64 + 64 + 5·(3·3·64·64 + 64) + (64·64 + 64) + (64 + 1)
    assert.strictEqual(
      pixelcnn.createPixelCnn({ seed: 1 }).countParams(),
      7 * 7 * 64 + 64 + 5 * (9 * 64 * 64 + 64) + (64 * 64 + 64) + 65,
    );
  });

  it('is causal: ∂ℓ_i/∂x is zero at pixel i and after it, for pixels across the image', () => {
    for (const pixel of [0, 1, 29, 100, 405, 783]) {
      assert.deepStrictEqual(pixelcnn.causalityViolations(model, pixel), [], `pixel ${pixel}`);
      const field = pixelcnn.receptiveField(model, pixel);
      if (pixel % 28 > 0) assert.ok(field[pixel - 1] > 0, `pixel ${pixel} sees its left neighbour`);
      if (pixel >= 28) assert.ok(field[pixel - 28] > 0, `pixel ${pixel} sees the pixel above`);
    }
  });

  it('the causality check catches an unmasked network and a mask-B first layer', () => {
    const input = tf.input({ shape: [28, 28, 1] });
    const unmasked = tf.model({
      inputs: input,
      outputs: tf.layers
        .conv2d({
          filters: 1,
          kernelSize: 3,
          padding: 'same',
          kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
        })
        .apply(input) as tf.SymbolicTensor,
    });
    assert.ok(pixelcnn.causalityViolations(unmasked, 100).includes(101), 'sees the pixel to its right');
    assert.ok(pixelcnn.causalityViolations(unmasked, 100).includes(128), 'sees the pixel below');
    const bFirst = tf.model({
      inputs: input,
      outputs: new MaskedConv2D({ filters: 1, kernelSize: 3, maskType: 'B', seed: 2 }).apply(
        input,
      ) as tf.SymbolicTensor,
    });
    assert.deepStrictEqual(
      pixelcnn.causalityViolations(bFirst, 100),
      [100],
      'mask B in the first layer sees x_i itself',
    );
  });

  it('logLikelihood is the sum of Bernoulli log-probabilities of its logits', () => {
    const x = tf.randomUniform([2, 28, 28, 1], 0, 1, 'float32', 5).round() as tf.Tensor4D;
    const logits = (model.apply(x) as tf.Tensor).dataSync();
    const xs = x.dataSync();
    const byHand = [0, 1].map((n) => {
      let s = 0;
      for (let i = 0; i < 784; i++) {
        const l = logits[n * 784 + i];
        s += xs[n * 784 + i] === 1 ? -Math.log1p(Math.exp(-l)) : -Math.log1p(Math.exp(l));
      }
      return s;
    });
    assert.ok(maxAbsDiff(pixelcnn.logLikelihood(model, x).dataSync(), byHand) < 1e-2);
    const evaluation = pixelcnn.evaluate(model, x, { batchSize: 1 });
    assert.ok(Math.abs(evaluation.negativeLogLikelihood + (byHand[0] + byHand[1]) / 2) < 1e-2);
    assert.ok(Math.abs(evaluation.bitsPerDim - evaluation.negativeLogLikelihood / 784 / Math.LN2) < 1e-9);
    assert.strictEqual(
      pixelcnn.negativeLogLikelihood(model, x, 1),
      evaluation.negativeLogLikelihood,
      'the lab-4 name gives the same number',
    );
    assertGenlabError(() => pixelcnn.logLikelihood(model, x.mul(0.5)), /expects binary images/, /binarize/);
  });

  it("trainPixelCnn with PIXELCNN_RECIPE.training takes the steps of lab 4's hand-written loop (its teaching cell)", async () => {
    const images = tf.randomUniform([64, 28, 28, 1], 0, 1, 'float32', 2);
    const small = () => pixelcnn.createPixelCnn({ filters: 4, layers: 1, seed: 6 });
    // Lab 4's cell "train", as the notebook writes it, for 3 steps.
    const hand = small();
    const { batchSize, learningRate, finalLearningRate, seed } = PIXELCNN_RECIPE.training;
    const steps = 3;
    const optimizer = tf.train.adam(learningRate);
    const schedule = cosineSchedule(learningRate, finalLearningRate, steps);
    const stream = batches(images, undefined, { batchSize, seed });
    const byHand = await fit({
      steps,
      quiet: true,
      step: (i) => {
        setLearningRate(optimizer, schedule(i));
        const x = binarizeStochastic(stream.next().value.x, i + 1);
        const nll = optimizer.minimize(() => pixelcnn.logLikelihood(hand, x).mean().neg() as tf.Scalar, true)!;
        return { loss: nll };
      },
    });
    const trained = small();
    const history = await pixelcnn.trainPixelCnn(trained, images, { ...PIXELCNN_RECIPE.training, steps, quiet: true });
    assert.deepStrictEqual(history.values, byHand.values);
    assert.deepStrictEqual(
      trained.getWeights().map((w) => Array.from(w.dataSync())),
      hand.getWeights().map((w) => Array.from(w.dataSync())),
    );
  });

  it('bitsPerDim converts nats per image: 81.3 nats on 784 pixels ≈ 0.1496 bits/dim', () => {
    assert.ok(Math.abs(bitsPerDim(81.3, 784) - 81.3 / 784 / Math.log(2)) < 1e-12);
    assert.strictEqual(bitsPerDim(81.3, 784).toFixed(4), '0.1496');
  });

  it('samples binary images reproducibly, row by row, and completes images keeping the given rows', async () => {
    const rows: number[] = [];
    const a = await pixelcnn.sample(model, 2, 7, { onRow: (r) => void rows.push(r) });
    const b = await pixelcnn.sample(model, 2, 7);
    assert.deepStrictEqual(
      rows,
      Array.from({ length: 28 }, (_, i) => i),
    );
    assert.deepStrictEqual(Array.from(a.dataSync()), Array.from(b.dataSync()));
    assert.ok(Array.from(a.dataSync()).every((v) => v === 0 || v === 1));
    const top = tf.ones([1, 28, 28, 1]) as tf.Tensor4D;
    const done = await pixelcnn.complete(model, top, 14, 3);
    assert.deepStrictEqual(Array.from(done.slice([0, 0, 0, 0], [1, 14, 28, 1]).dataSync()), new Array(14 * 28).fill(1));
  });

  it('save and load keep the masks (same predictions, still causal)', async () => {
    const dir = tempDir();
    await saveModel(model, dir);
    const loaded = await loadModel(dir);
    const x = tf.randomUniform([1, 28, 28, 1], 0, 1, 'float32', 9).round();
    assert.ok(maxAbsDiff((loaded.apply(x) as tf.Tensor).dataSync(), (model.apply(x) as tf.Tensor).dataSync()) < 1e-6);
    assert.ok(loaded.layers.some((l) => l instanceof MaskedConv2D && l.maskType === 'A'));
    assert.deepStrictEqual(pixelcnn.causalityViolations(loaded, 300), []);
  });
});

/**
 * How many rows above row 20 the logits of row 20 see: the highest row with a non-zero ∂ℓ/∂x, over three pixels of
 * that row (a dead ReLU can close one pixel's path, so more than one is asked).
 */
function rowsUpSeenFromRow20(model: tf.LayersModel, input: tf.Tensor4D): number {
  let highest = 28;
  for (const c of [3, 14, 25]) {
    const field = pixelcnn.receptiveField(model, 20 * 28 + c, input);
    for (let j = 0; j < 784; j++) if (field[j] !== 0) highest = Math.min(highest, Math.floor(j / 28));
  }
  return 20 - highest;
}

describe('PixelCNN sampling speed-up', () => {
  before(() => init({ quiet: true }));

  it('running the network on the receptive-field window around each pixel gives exactly the same samples', async () => {
    const model = pixelcnn.createPixelCnn({ filters: 8, layers: 2, seed: 4 });
    const full = await pixelcnn.sample(model, 3, 11, { cropRows: false });
    const cropped = await pixelcnn.sample(model, 3, 11, { cropRows: true });
    assert.deepStrictEqual(Array.from(cropped.dataSync()), Array.from(full.dataSync()));
  });

  it('the window is the receptive field: 3 rows up and columns aside for the 7×7 mask A, plus 1 per 3×3 layer, as the gradients show', () => {
    for (const layers of [2, 5]) {
      const model = pixelcnn.createPixelCnn({ filters: 8, layers, seed: 5 });
      const reach = pixelcnn.receptiveReach(model);
      assert.strictEqual(reach, 3 + layers);
      const input = tf.ones([1, 28, 28, 1]) as tf.Tensor4D; // all ones: every ReLU path is open at init
      assert.strictEqual(rowsUpSeenFromRow20(model, input), reach);
      // …and exactly `reach` columns to either side, for a pixel away from the edges.
      const field = pixelcnn.receptiveField(model, 20 * 28 + 14, input);
      const columns = [...field.keys()].filter((j) => field[j] !== 0).map((j) => j % 28);
      assert.deepStrictEqual([Math.min(...columns), Math.max(...columns)], [14 - reach!, 14 + reach!]);
      input.dispose();
      model.dispose();
    }
  });

  it('falls back to rows 0…r when a layer mixes rows in a way it cannot bound', () => {
    const input = tf.input({ shape: [null, 28, 1] });
    const h = tf.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same' }).apply(input) as tf.SymbolicTensor;
    const model = tf.model({
      inputs: input,
      outputs: tf.layers.conv2d({ filters: 1, kernelSize: 1 }).apply(h) as tf.SymbolicTensor,
    });
    assert.strictEqual(pixelcnn.receptiveReach(model), undefined);
    model.dispose();
  });
});

describe('PixelCNN blocks: residual and gated', () => {
  before(() => init({ quiet: true }));
  const F = 8;
  const L = 2;
  // By hand: 7×7 mask A (49F + F), then per layer one 3×3 conv (9F² + F), or two and a 1×1 for 'gated'
  // (2(9F² + F) + F² + F), then the 1×1 head (F² + F) and the logits (F + 1). Add, Multiply and the activations have none.
  const expected = {
    residual: 50 * F + L * (9 * F * F + F) + F * F + F + F + 1,
    gated: 50 * F + L * (2 * (9 * F * F + F) + F * F + F) + F * F + F + F + 1,
  };
  for (const block of ['residual', 'gated'] as const) {
    it(`'${block}': the parameters counted by hand, causal, reach 3 + layers, and the same after save and load`, async () => {
      const model = pixelcnn.createPixelCnn({ filters: F, layers: L, block, seed: 2 });
      assert.strictEqual(model.countParams(), expected[block]);
      const input = tf.ones([1, 28, 28, 1]) as tf.Tensor4D;
      for (const pixel of [0, 29, 405, 783])
        assert.deepStrictEqual(pixelcnn.causalityViolations(model, pixel, input), [], `pixel ${pixel}`);
      assert.strictEqual(pixelcnn.receptiveReach(model), 3 + L);
      // The longest path, through every block's masked convolution, as the gradients show.
      assert.strictEqual(rowsUpSeenFromRow20(model, input), 3 + L, 'rows up, from the gradients');
      const dir = tempDir();
      await saveModel(model, dir);
      const loaded = await loadModel(dir);
      const x = tf.randomUniform([2, 28, 28, 1], 0, 1, 'float32', 3).round();
      assert.ok(maxAbsDiff((loaded.apply(x) as tf.Tensor).dataSync(), (model.apply(x) as tf.Tensor).dataSync()) < 1e-6);
      const windowed = await pixelcnn.sample(loaded, 2, 5, { cropRows: true });
      const whole = await pixelcnn.sample(loaded, 2, 5, { cropRows: false });
      assert.deepStrictEqual(Array.from(windowed.dataSync()), Array.from(whole.dataSync()));
      tf.dispose([input, x, windowed, whole]);
      model.dispose();
      loaded.dispose();
    });
  }

  it('headFilters sets the width of the 1×1 layer before the logits: the parameters counted by hand', () => {
    const H = 5;
    const model = pixelcnn.createPixelCnn({ filters: F, layers: L, headFilters: H, seed: 2 });
    // 7×7 mask A (49F + F), L plain 3×3 layers (9F² + F each), the 1×1 head F → H (FH + H), the logits H → 1 (H + 1).
    assert.strictEqual(model.countParams(), 50 * F + L * (9 * F * F + F) + F * H + H + H + 1);
    model.dispose();
    assertGenlabError(
      () => pixelcnn.createPixelCnn({ filters: F, layers: L, headFilters: 0 }),
      /headFilters must be a whole number ≥ 1, got 0/,
    );
  });

  it('names the blocks it knows when given another', () => {
    assertGenlabError(
      () => pixelcnn.createPixelCnn({ filters: 4, layers: 1, block: 'dense' as never }),
      /block must be 'plain', 'residual' or 'gated', got 'dense'/,
    );
  });
});
