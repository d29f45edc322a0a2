/**
 * Gradients through comparisons: tf.where(x > c, …) and a gradient of a gradient through leaky ReLU and PReLU
 * (WGAN-GP's penalty), against derivatives worked out by hand, on the cpu and wasm backends.
 */
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { registerComparisonGradients } from '../src/comparison_gradients';
import { startWasm } from '../src/wasm';
import { relError } from './helpers';

const xs = [-1, 0.5, 2];
/** d/dx Σ where(x ⋈ 0.5, x², 3x) = 2x where the comparison holds, 3 elsewhere. */
const COMPARISONS: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor, number[]][] = [
  ['greater', tf.greater, [3, 3, 4]],
  ['less', tf.less, [-2, 3, 3]],
  ['lessEqual', tf.lessEqual, [-2, 1, 3]],
  ['equal', tf.equal, [3, 1, 3]],
  ['notEqual', tf.notEqual, [-2, 3, 4]],
  ['greaterEqual', tf.greaterEqual, [3, 1, 4]],
];

// A one-layer critic f(x) = Σᵢⱼ vⱼ·act((xW)ᵢⱼ), act(h) = h for h > 0 and α·h otherwise, whose input gradient is
// gᵢₖ = Σⱼ Wₖⱼ vⱼ sᵢⱼ with the slope sᵢⱼ = 1 or α. The penalty P = Σᵢₖ gᵢₖ² then has, since s is piecewise constant,
//   ∂P/∂vⱼ = Σᵢₖ 2 gᵢₖ Wₖⱼ sᵢⱼ,   ∂P/∂Wₖⱼ = Σᵢ 2 gᵢₖ vⱼ sᵢⱼ,   ∂P/∂α = Σᵢₖ 2 gᵢₖ Σ_{j: hᵢⱼ ≤ 0} Wₖⱼ vⱼ.
const X = [
  [0.5, -1.2, 0.3],
  [-0.7, 0.4, 1.1],
  [1.5, 0.2, -0.6],
  [-0.3, -0.8, -0.9],
];
const W = [
  [0.8, -0.5],
  [-0.3, 0.9],
  [0.6, 0.4],
];
const V = [1.3, -0.7];
const ALPHA = 0.2;

function byHand() {
  const n = X.length,
    d = W.length,
    m = V.length;
  const h = X.map((row) => V.map((_, j) => row.reduce((sum, x, k) => sum + x * W[k][j], 0)));
  const s = h.map((row) => row.map((hij) => (hij > 0 ? 1 : ALPHA)));
  const g = X.map((_, i) => W.map((_, k) => V.reduce((sum, vj, j) => sum + W[k][j] * vj * s[i][j], 0)));
  const dV = V.map((_, j) => {
    let sum = 0;
    for (let i = 0; i < n; i++) for (let k = 0; k < d; k++) sum += 2 * g[i][k] * W[k][j] * s[i][j];
    return sum;
  });
  const dW = W.map((_, k) => V.map((vj, j) => X.reduce((sum, _, i) => sum + 2 * g[i][k] * vj * s[i][j], 0)));
  let dAlpha = 0;
  for (let i = 0; i < n; i++)
    for (let k = 0; k < d; k++) for (let j = 0; j < m; j++) if (h[i][j] <= 0) dAlpha += 2 * g[i][k] * W[k][j] * V[j];
  const penalty = g.flat().reduce((sum, x) => sum + x * x, 0);
  // Every slope class is present, or the α derivative would test nothing.
  assert.ok(s.flat().includes(1) && s.flat().includes(ALPHA));
  return { penalty, dV, dW: dW.flat(), dAlpha };
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`gradients through comparisons (${backend})`, () => {
    let was: string | undefined;
    before(async () => {
      was = tf.getBackend() ?? undefined;
      registerComparisonGradients();
      if (backend === 'wasm') assert.ok(await startWasm(), 'the wasm backend did not start');
      else await tf.setBackend(backend);
    });
    after(async () => {
      if (was) await tf.setBackend(was);
    });

    for (const [name, compare, expected] of COMPARISONS) {
      it(`tf.grad through tf.where(${name}(x, c), …): the branch's derivative, and zero for c`, () => {
        const [dx, dc] = tf.tidy(() =>
          tf
            .grads((x: tf.Tensor, c: tf.Tensor) => tf.where(compare(x, c), x.square(), x.mul(3)).sum())([
              tf.tensor1d(xs),
              tf.scalar(0.5),
            ])
            .map((t) => Array.from(t.dataSync())),
        );
        assert.deepStrictEqual(dx, expected);
        assert.deepStrictEqual(dc, [0]);
      });
    }

    for (const activation of ['leakyRelu', 'prelu'] as const) {
      it(`a gradient of a gradient through ${activation} (WGAN-GP's penalty) matches its derivative by hand`, () => {
        const want = byHand();
        const got = tf.tidy(() => {
          const x = tf.tensor2d(X);
          const w = tf.tensor2d(W);
          const v = tf.tensor1d(V);
          // leaky ReLU's α is a constant; PReLU's is a weight, and its derivative comes through the same where().
          const weights = activation === 'prelu' ? [w, v, tf.scalar(ALPHA)] : [w, v];
          const penalty = (w: tf.Tensor, v: tf.Tensor, alpha?: tf.Tensor) => {
            const act = (h: tf.Tensor) => (alpha ? tf.prelu(h, alpha) : tf.leakyRelu(h, ALPHA));
            const inputGradient = tf.grad((x: tf.Tensor) => act(x.matMul(w)).mul(v).sum())(x);
            return inputGradient.square().sum();
          };
          const { value, grads } = tf.valueAndGrads(penalty)(weights);
          return { penalty: value.dataSync()[0], grads: grads.map((t) => Array.from(t.dataSync())) };
        });
        assert.ok(relError([got.penalty], [want.penalty]) < 1e-5, `penalty ${got.penalty}, by hand ${want.penalty}`);
        assert.ok(relError(got.grads[0], want.dW) < 1e-5, `∂P/∂W ${got.grads[0]}, by hand ${want.dW}`);
        assert.ok(relError(got.grads[1], want.dV) < 1e-5, `∂P/∂v ${got.grads[1]}, by hand ${want.dV}`);
        if (activation === 'prelu')
          assert.ok(relError(got.grads[2], [want.dAlpha]) < 1e-5, `∂P/∂α ${got.grads[2]}, by hand ${want.dAlpha}`);
      });
    }
  });
}
