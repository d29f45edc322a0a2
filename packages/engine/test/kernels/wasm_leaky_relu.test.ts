/** The wasm leaky ReLU replacement (x · step(x, α)) and its gradient, against the definition written out here. */
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { onWasmKernelsOnly, wasmKernelCalls } from '../helpers';

const values = [-3.5, -1e-30, -0, 0, 1e-30, 0.7, 42, -Infinity, Infinity, NaN];
const f32 = Math.fround;
/** The definition in float32 arithmetic (as wasm computes): x for x > 0 (or not a number), α·x otherwise. */
const expectedValue = (x: number, alpha: number) => (f32(x) > 0 || Number.isNaN(x) ? f32(x) : f32(f32(alpha) * f32(x)));
/** Its derivative times dy: dy for x > 0, α·dy otherwise. */
const expectedGradient = (x: number, dy: number, alpha: number) => (f32(x) > 0 ? f32(dy) : f32(f32(alpha) * f32(dy)));

describe('wasm leaky ReLU', () => {
  onWasmKernelsOnly();

  for (const alpha of [0.2, 0.01, 0]) {
    it(`α = ${alpha}: values bit for bit (signed zeros, infinities, NaN included), through Step`, () => {
      let got: number[] = [];
      const calls = wasmKernelCalls('Step', () => {
        got = tf.tidy(() => Array.from(tf.leakyRelu(tf.tensor1d(values), alpha).dataSync()));
      });
      assert.strictEqual(calls, 1);
      got.forEach((g, i) =>
        assert.ok(
          Object.is(g, expectedValue(values[i], alpha)),
          `leakyRelu(${values[i]}) = ${g}, expected ${expectedValue(values[i], alpha)}`,
        ),
      );
    });

    it(`α = ${alpha}: the gradient is dy where x > 0 and α·dy elsewhere, through Step`, () => {
      const finite = values.filter(Number.isFinite);
      const dy = finite.map((_, i) => (i % 2 ? -1.5 : 2.25) * (i + 1));
      let got: number[] = [];
      const calls = wasmKernelCalls('Step', () => {
        got = tf.tidy(() => {
          const g = tf.grad((x: tf.Tensor) => tf.leakyRelu(x, alpha).mul(tf.tensor1d(dy)).sum());
          return Array.from(g(tf.tensor1d(finite)).dataSync());
        });
      });
      assert.strictEqual(calls, 2); // the forward pass and the gradient's slope
      got.forEach((g, i) => assert.strictEqual(g, expectedGradient(finite[i], dy[i], alpha), `at x = ${finite[i]}`));
    });
  }

  it('a layer of a discriminator: tf.layers.leakyReLU agrees with the cpu backend, value and gradient', async () => {
    const x = tf.randomNormal([4, 5, 5, 3], 0, 1, 'float32', 7);
    const dy = tf.randomNormal([4, 5, 5, 3], 0, 1, 'float32', 8);
    const layer = tf.layers.leakyReLU({ alpha: 0.2 });
    const run = () =>
      tf.tidy(() => {
        const value = layer.apply(x) as tf.Tensor;
        const gradient = tf.grad((v: tf.Tensor) => (layer.apply(v) as tf.Tensor).mul(dy).sum())(x);
        return { value: Array.from(value.dataSync()), gradient: Array.from(gradient.dataSync()) };
      });
    const onWasm = run();
    await tf.setBackend('cpu');
    const onCpu = run();
    await tf.setBackend('wasm');
    // The cpu backend multiplies by α in float64 before rounding, so the two may differ in the last bit.
    const close = (a: number[], b: number[]) =>
      a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) <= 1e-6 * Math.abs(b[i]), `${v} vs ${b[i]}`));
    close(onWasm.value, onCpu.value);
    close(onWasm.gradient, onCpu.gradient);
    tf.dispose([x, dy]);
  });

  it('a negative slope or int32 input keeps the stock kernel', () => {
    let got: number[] = [];
    const calls = wasmKernelCalls('Step', () => {
      got = tf.tidy(() => [
        ...tf.leakyRelu(tf.tensor1d([-2, 3]), -0.5).dataSync(),
        ...tf.leakyRelu(tf.tensor1d([-2, 3], 'int32'), 0.5).dataSync(),
      ]);
    });
    assert.strictEqual(calls, 0);
    assert.deepStrictEqual(got, [1, 3, -1, 3]);
  });

  it('leaves no intermediate tensors behind', () => {
    const x = tf.randomNormal([2, 3, 3, 4]);
    const before = tf.memory();
    tf.leakyRelu(x, 0.2).dispose();
    assert.strictEqual(tf.memory().numTensors, before.numTensors);
    assert.strictEqual(tf.memory().numBytes, before.numBytes);
    x.dispose();
  });
});
