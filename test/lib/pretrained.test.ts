/**
 * The pretrained models that ship in pretrained/: every checkpoint loads, matches its
 * checksums, reaches its manifest's figure on a small held-out set, gives the same outputs on
 * the cpu backend, and can be trained further; damaged or missing files are refused in words.
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { init } from '../../lib/backend';
import '../../lib/index';
import {
  loadPretrained,
  measurePretrained,
  PRETRAINED_PARTS,
  pretrainedDir,
  pretrainedFiles,
  readManifest,
  sha256,
  type PretrainedName,
} from '../../lib/pretrained';
import * as diffusion from '../../lib/models/diffusion';
import * as flow from '../../lib/models/flow';
import * as vae from '../../lib/models/vae';
import { assertGenlabErrorAsync, tempDir } from '../helpers';

const manifest = readManifest();
const names = Object.keys(manifest.models) as PretrainedName[];

/** A small fixed input for each model's first network, and the output to compare across backends. */
function forward(name: PretrainedName, model: unknown): Float32Array {
  return tf
    .tidy(() => {
      const images = tf.tensor4d(
        Array.from({ length: 2 * 784 }, (_, i) => (Math.sin(i * 0.37) > 0.3 ? 1 : 0)),
        [2, 28, 28, 1],
      );
      switch (name) {
        case 'vae-mlp':
          return (model as vae.Vae).encoder.predict(images) as tf.Tensor;
        case 'dcgan': {
          const g = (model as { generator: tf.LayersModel }).generator;
          const z = tf.linspace(-1, 1, 2 * (g.inputs[0].shape[1] as number)).reshape([2, -1]);
          return g.predict(z) as tf.Tensor;
        }
        case 'conditional-dcgan': {
          const g = (model as { generator: tf.LayersModel }).generator;
          const z = tf.linspace(-1, 1, 2 * (g.inputs[0].shape[1] as number)).reshape([2, -1]);
          return g.predict([z, tf.oneHot([3, 8], 10).toFloat()]) as tf.Tensor;
        }
        case 'diffusion': {
          // The U-Net told two steps and two labels (the second "no label"), on the images put in [−1, 1].
          const network = (model as diffusion.Diffusion).network;
          return network.predict([
            diffusion.toChainRange(images),
            diffusion.timeFeatures([10, 700]),
            diffusion.labelRows([3, null], 10),
          ]) as tf.Tensor;
        }
        case 'flow':
          // −log p(y) of the images moved inside [0, 1): every coupling, ActNorm and the logit on the way.
          return flow.negativeLogDensity(model as flow.Flow, images.mul(0.9).add(0.05));
        default:
          return (model as tf.LayersModel).predict(images) as tf.Tensor;
      }
    })
    .dataSync() as Float32Array;
}

describe('pretrained models', function () {
  this.timeout(10 * 60 * 1000);
  before(() => init({ quiet: true }));

  it('the manifest lists every model the library can load, each file with its checksum, 25 MB in all at most', () => {
    assert.deepStrictEqual(names.sort(), Object.keys(PRETRAINED_PARTS).sort());
    let bytes = 0;
    for (const name of names) {
      const entry = manifest.models[name]!;
      assert.deepStrictEqual(Object.keys(entry.files).sort(), pretrainedFiles(name).sort());
      for (const file of Object.keys(entry.files)) bytes += fs.statSync(path.join(pretrainedDir(), file)).size;
      assert.match(entry.training.commit, /^[0-9a-f]{40}$/, `${name} was trained from uncommitted code`);
      assert.ok(entry.training.steps > 0 && entry.training.seconds > 0, name);
      assert.ok(Number.isFinite(entry.check.value) && entry.check.figure in entry.figures, name);
    }
    assert.ok(bytes <= 25 * 2 ** 20, `${(bytes / 2 ** 20).toFixed(1)} MB`);
  });

  for (const name of names) {
    it(`${name}: loads, and reaches its manifest's figure on ${manifest.models[name]!.check.images} held-out test images`, async () => {
      const { check } = manifest.models[name]!;
      const model = await loadPretrained(name);
      const figures = await measurePretrained(name, model, { images: check.images, seed: check.seed });
      const got = figures[check.figure];
      assert.ok(
        Math.abs(got - check.value) <= check.tolerance,
        `${check.figure}: ${got} here, ${check.value} in the manifest (tolerance ${check.tolerance})`,
      );
    });
  }

  it('gives the same outputs on the cpu backend as on the default one', async () => {
    const here = new Map<PretrainedName, Float32Array>();
    for (const name of names) here.set(name, forward(name, await loadPretrained(name)));
    const backend = tf.getBackend();
    try {
      await init({ backend: 'cpu', quiet: true });
      assert.strictEqual(tf.getBackend(), 'cpu');
      assert.notStrictEqual(backend, 'cpu');
      for (const name of names) {
        const onCpu = forward(name, await loadPretrained(name));
        const expected = here.get(name)!;
        const worst = onCpu.reduce(
          (m, v, i) => Math.max(m, Math.abs(v - expected[i]) / (1e-3 + Math.abs(expected[i]))),
          0,
        );
        assert.ok(worst < 1e-3, `${name}: relative difference ${worst} between cpu and ${backend}`);
      }
    } finally {
      await init({ quiet: true });
    }
  });

  it('can be trained further, and the shipped files stay as they were', async () => {
    const before = sha256(path.join(pretrainedDir(), 'vae-mlp', 'decoder', 'weights.bin'));
    const model = await loadPretrained('vae-mlp');
    const x = tf.tensor4d(
      Array.from({ length: 8 * 784 }, (_, i) => (i % 7 < 3 ? 1 : 0)),
      [8, 28, 28, 1],
    );
    const w0 = model.decoder.getWeights()[0].dataSync().slice();
    const optimizer = tf.train.adam(1e-3);
    const loss = () => vae.trainStep(model, optimizer, x, { seed: 1 }).loss;
    const first = loss().dataSync()[0];
    for (let i = 0; i < 4; i++) loss();
    const after = loss().dataSync()[0];
    assert.ok(after < first, `−ELBO on one batch went from ${first} to ${after}`);
    assert.notDeepStrictEqual(model.decoder.getWeights()[0].dataSync(), w0);
    assert.strictEqual(sha256(path.join(pretrainedDir(), 'vae-mlp', 'decoder', 'weights.bin')), before);
    // A second load starts again from the shipped weights.
    const again = await loadPretrained('vae-mlp');
    assert.deepStrictEqual(again.decoder.getWeights()[0].dataSync(), w0);
  });

  it('refuses a damaged file, a missing one, an unknown name and a missing manifest, each in a sentence', async () => {
    const copy = tempDir('genlab-pretrained-');
    fs.cpSync(pretrainedDir(), copy, { recursive: true });
    const weights = path.join(copy, 'mnist-judge', 'model', 'weights.bin');
    const bytes = fs.readFileSync(weights);
    bytes[100] ^= 1; // one bit
    fs.writeFileSync(weights, bytes);
    await assertGenlabErrorAsync(
      () => loadPretrained('mnist-judge', copy),
      /weights\.bin does not match its checksum in pretrained\/manifest\.json .*damaged or was changed\. Restore it with `git checkout pretrained\/`/,
    );
    fs.rmSync(path.join(copy, 'vae-mlp', 'decoder', 'model.json'));
    await assertGenlabErrorAsync(() => loadPretrained('vae-mlp', copy), /'vae-mlp' is missing .*decoder\/model\.json/);
    await assertGenlabErrorAsync(
      () => loadPretrained('gpt-4' as PretrainedName),
      /There is no pretrained model named 'gpt-4'; there are: 'vae-mlp', 'pixelcnn', 'dcgan', 'conditional-dcgan', 'mnist-judge', 'diffusion', 'flow'\./,
    );
    fs.rmSync(path.join(copy, 'manifest.json'));
    await assertGenlabErrorAsync(
      () => loadPretrained('pixelcnn', copy),
      /There is no .*manifest\.json: the pretrained models ship/,
    );
  });
});
