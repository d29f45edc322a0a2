import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { init } from '../../lib/backend';
import '../../lib/index';
import { loadModel, loadVariables, saveModel, saveVariables } from '../../lib/io';
import { assertGenlabErrorAsync, tempDir } from '../helpers';

function smallModel(): tf.LayersModel {
  return tf.sequential({
    layers: [
      tf.layers.conv2d({
        inputShape: [6, 6, 1],
        filters: 3,
        kernelSize: 3,
        activation: 'relu',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
      }),
      tf.layers.flatten(),
      tf.layers.dense({ units: 2, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
}

describe('saving and loading to folders', () => {
  before(() => init({ quiet: true }));

  it('round-trips a layers model (same predictions), also through file:// URLs', async () => {
    const dir = tempDir();
    const model = smallModel();
    const x = tf.randomNormal([2, 6, 6, 1], 0, 1, 'float32', 3);
    const expected = (model.predict(x) as tf.Tensor).dataSync();
    await saveModel(model, dir);
    assert.deepStrictEqual(fs.readdirSync(dir).sort(), ['model.json', 'weights.bin']);
    // conv 3·3·1·3 + 3, dense 3·4·4·2 + 2 = 30 + 98 parameters of 4 bytes.
    assert.strictEqual(fs.statSync(path.join(dir, 'weights.bin')).size, (30 + 98) * 4);
    const loaded = await loadModel(dir);
    assert.deepStrictEqual(Array.from((loaded.predict(x) as tf.Tensor).dataSync()), Array.from(expected));

    const urlDir = tempDir();
    await model.save(`file://${urlDir}`);
    const viaUrl = await tf.loadLayersModel(`file://${urlDir}/model.json`);
    assert.deepStrictEqual(Array.from((viaUrl.predict(x) as tf.Tensor).dataSync()), Array.from(expected));
  });

  it('round-trips named variables, into existing ones', async () => {
    const dir = tempDir();
    const a = tf.variable(
      tf.tensor2d([
        [1, 2],
        [3, 4],
      ]),
    );
    const b = tf.variable(tf.tensor1d([5, 6, 7], 'int32'));
    await saveVariables({ a, b }, dir);
    const fresh = await loadVariables(dir);
    assert.deepStrictEqual(fresh.a.arraySync(), [
      [1, 2],
      [3, 4],
    ]);
    assert.strictEqual(fresh.b.dtype, 'int32');
    const target = { a: tf.variable(tf.zeros([2, 2])) };
    await loadVariables(dir, target);
    assert.deepStrictEqual(target.a.arraySync(), [
      [1, 2],
      [3, 4],
    ]);
    await assertGenlabErrorAsync(
      () => loadVariables(dir, { a: tf.variable(tf.zeros([3])) }),
      /has shape \[2,2\] but the variable to load it into has shape \[3\]/,
    );
    await assertGenlabErrorAsync(
      () => loadVariables(dir, { c: tf.variable(tf.zeros([3])) }),
      /no saved variable 'c'; it has a, b/,
    );
  });

  it('explains a missing, corrupt or truncated save', async () => {
    const dir = tempDir();
    await assertGenlabErrorAsync(() => loadModel(dir), /no saved model at/);
    await saveModel(smallModel(), dir);
    fs.truncateSync(path.join(dir, 'weights.bin'), 100);
    await assertGenlabErrorAsync(() => loadModel(dir), /weights .* are 100 bytes but the manifest describes 512/);
    fs.writeFileSync(path.join(dir, 'model.json'), '{"modelTop');
    await assertGenlabErrorAsync(() => loadModel(dir), /is not valid JSON/);
  });
});
