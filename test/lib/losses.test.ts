/** Every loss in lib/losses.ts (the VAE's, softmax cross-entropy, MSE, the GAN's) against hand-computed values, closed forms, Monte Carlo and finite differences. */
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { init } from '../../lib/backend';
import { expectClose, CheckFailed, relativeError } from '../../lib/checks';
import {
  bernoulliLogLikelihood,
  discriminatorLoss,
  gaussianLogDensity,
  iwaeBound,
  klNormal,
  minimaxGeneratorLoss,
  mse,
  negativeElbo,
  nonSaturatingGeneratorLoss,
  reparameterize,
  softmaxCrossEntropy,
  standardNormalLogDensity,
} from '../../lib/losses';
import { Random } from '../../lib/random';
import { assertGenlabError, relError } from '../helpers';

describe('VAE losses', () => {
  before(() => init({ quiet: true }));

  it('klNormal matches hand-computed values, per example, summed over dimensions', () => {
    // Rows: N(0,1) → 0; μ = (1, 2), σ² = 1 → ½(1 + 4) = 2.5; μ = 0, σ² = (2, ½) → ½(2 − 1 − ln 2) + ½(½ − 1 + ln 2).
    const mu = tf.tensor2d([
      [0, 0],
      [1, 2],
      [0, 0],
    ]);
    const logvar = tf.tensor2d([
      [0, 0],
      [0, 0],
      [Math.log(2), Math.log(0.5)],
    ]);
    const expected = [0, 2.5, 0.5 * (2 - 1 - Math.log(2)) + 0.5 * (0.5 - 1 + Math.log(2))];
    const kl = klNormal(mu, logvar);
    assert.deepStrictEqual(kl.shape, [3]);
    assert.ok(relError(kl.dataSync(), expected) < 1e-6, `${kl.dataSync()} vs ${expected}`);
  });

  it('klNormal agrees with a Monte Carlo estimate E_q[log q(z) − log p(z)]', () => {
    const mu = tf.tensor2d([[0.5, -1, 0.2]]);
    const logvar = tf.tensor2d([[-0.5, 0.3, -1.2]]);
    const n = 200000;
    const rng = new Random(3);
    const muv = mu.dataSync(),
      lv = logvar.dataSync();
    let sum = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < 3; j++) {
        const s = Math.exp(0.5 * lv[j]);
        const z = muv[j] + s * rng.normal();
        // log q − log p for one dimension, in float64.
        sum += -0.5 * (lv[j] + (z - muv[j]) ** 2 / s ** 2) + 0.5 * z * z;
      }
    }
    const mc = sum / n;
    const closed = klNormal(mu, logvar).dataSync()[0];
    // Standard error of this estimator here is ≈ 0.003; allow 5σ.
    assert.ok(Math.abs(mc - closed) < 0.015, `Monte Carlo ${mc} vs closed form ${closed}`);
  });

  it('bernoulliLogLikelihood is Σ x log σ(ℓ) + (1 − x) log(1 − σ(ℓ)), stable for large logits', () => {
    const x = tf.tensor2d([
      [1, 0],
      [1, 1],
      [0, 1],
    ]);
    const logits = tf.tensor2d([
      [0, 0],
      [2, -1],
      [100, -100],
    ]);
    const sigmoid = (l: number) => 1 / (1 + Math.exp(-l));
    const expected = [
      2 * Math.log(0.5),
      Math.log(sigmoid(2)) + Math.log(sigmoid(-1)),
      -100 - 100, // log(1 − σ(100)) ≈ −100, log σ(−100) ≈ −100: finite, not −∞
    ];
    const got = bernoulliLogLikelihood(x, logits).dataSync();
    assert.ok(relError(got, expected) < 1e-6, `${got} vs ${expected}`);
  });

  it('reparameterize: z = μ + exp(½ log σ²)·ε, gradients reach μ and log σ² but not ε', () => {
    const mu = tf.tensor2d([[1, -2]]);
    const logvar = tf.tensor2d([[Math.log(4), 0]]);
    const eps = tf.tensor2d([[0.5, -1]]);
    assert.ok(relError(reparameterize(mu, logvar, eps).dataSync(), [1 + 2 * 0.5, -2 - 1]) < 1e-7);
    // d/dμ Σz = 1; d/dlogσ² Σz = ½ σ ε; d/dε = 0 (ε is a constant in the graph).
    const [dMu, dLogvar, dEps] = tf.grads((m: tf.Tensor, l: tf.Tensor, e: tf.Tensor) => reparameterize(m, l, e).sum())([
      mu,
      logvar,
      eps,
    ]);
    assert.deepStrictEqual(Array.from(dMu.dataSync()), [1, 1]);
    assert.ok(relError(dLogvar.dataSync(), [0.5 * 2 * 0.5, 0.5 * 1 * -1]) < 1e-6);
    assert.deepStrictEqual(Array.from(dEps.dataSync()), [0, 0]);
    // Finite differences on log σ².
    const f = (l: number) => reparameterize(tf.tensor2d([[0]]), tf.tensor2d([[l]]), tf.tensor2d([[0.7]])).dataSync()[0];
    const h = 1e-3;
    const numeric = (f(0.3 + h) - f(0.3 - h)) / (2 * h);
    assert.ok(Math.abs(numeric - 0.5 * Math.exp(0.15) * 0.7) < 1e-3, `numeric ${numeric}`);
    assertGenlabError(() => reparameterize(mu, tf.zeros([1, 3]), eps), /shapes must match.*\[1,2\] and \[1,3\]/);
  });

  it('negativeElbo = −log p(x|z) + β·KL per example', () => {
    const x = tf.tensor2d([[1, 0]]);
    const logits = tf.tensor2d([[0, 0]]);
    const mu = tf.tensor2d([[1, 2]]);
    const logvar = tf.zeros([1, 2]);
    const terms = negativeElbo(x, logits, mu, logvar, 0.5);
    const rec = -2 * Math.log(0.5);
    assert.ok(relError(terms.reconstruction.dataSync(), [rec]) < 1e-6);
    assert.ok(relError(terms.kl.dataSync(), [2.5]) < 1e-6);
    assert.ok(relError(terms.loss.dataSync(), [rec + 0.5 * 2.5]) < 1e-6);
  });

  it('Gaussian log-densities match the closed form', () => {
    const z = tf.tensor2d([[0.5, -1]]);
    const expectedStd = -0.5 * (2 * Math.log(2 * Math.PI) + 0.25 + 1);
    assert.ok(relError(standardNormalLogDensity(z).dataSync(), [expectedStd]) < 1e-6);
    // N(z; μ = (1, 0), σ² = (4, 1)).
    const expected = -0.5 * (Math.log(2 * Math.PI) + Math.log(4) + 0.25 / 4) - 0.5 * (Math.log(2 * Math.PI) + 1);
    assert.ok(
      relError(gaussianLogDensity(z, tf.tensor2d([[1, 0]]), tf.tensor2d([[Math.log(4), 0]])).dataSync(), [expected]) <
        1e-6,
    );
  });

  it('iwaeBound is log (1/K) Σ_k w_k, computed stably', () => {
    // Column 0: weights 1 and 3 → log 2. Column 1: equal log-weights −1000 → −1000 (naive exp underflows).
    const logW = tf.tensor2d([
      [0, -1000],
      [Math.log(3), -1000],
    ]);
    const got = iwaeBound(logW).dataSync();
    assert.ok(relError(got, [Math.log(2), -1000]) < 1e-6, `${got}`);
    assert.ok(
      relError(iwaeBound(tf.tensor2d([[-3, 7]])).dataSync(), [-3, 7]) < 1e-7,
      'K = 1 is the ELBO sample itself',
    );
    assertGenlabError(() => iwaeBound(tf.zeros([3]) as unknown as tf.Tensor2D), /\[K, N\]/);
  });
});

describe('notebook checks', () => {
  it('pass within tolerance, name a recognised mistake, and explain shape errors', () => {
    expectClose('kl', [1, 2], [1, 2 + 1e-7]);
    assert.throws(
      () => expectClose('kl', [-1, -2], [1, 2], { mistakes: [{ values: [-1, -2], says: 'the sign is flipped' }] }),
      (e: Error) =>
        e instanceof CheckFailed && /kl: the sign is flipped \(got \[-1, -2\], expected \[1, 2\]\)/.test(e.message),
    );
    assert.throws(
      () => expectClose('kl', tf.scalar(3), [1, 2], { shape: [2] }),
      /return one value per example, not their sum or mean/,
    );
    assert.throws(
      () => expectClose('kl', [1, 3], [1, 2]),
      /got \[1, 3\], expected \[1, 2\] \(relative error 2\.00e-1 > 0\.00001\)|relative error/,
    );
    assert.throws(() => expectClose('kl', [NaN, 2], [1, 2]), /relative error Infinity/);
  });

  it("measure an entry far below the answer's size against a tenth of that size, not against itself", () => {
    // A float32 rounding error of 3e-7 in an entry that should be 0, beside an entry of 3: by hand, 3e-7 / 0.3 = 1e-6.
    assert.ok(Math.abs(relativeError([3, 3e-7], [3, 0]) - 1e-6) < 1e-12);
    expectClose('projection', [3, 3e-7], [3, 0]);
    // Entries of the answer's own size keep the plain relative error: |2.2 − 2| / (2.2 + 2).
    assert.ok(Math.abs(relativeError([2.2, 3], [2, 3]) - 0.2 / 4.2) < 1e-12);
    // A mistake in the small entry still shows once it is of the answer's size.
    assert.throws(() => expectClose('projection', [3, 0.5], [3, 0]), /relative error/);
    // An answer that is all zeros is measured against the absolute floor, 1e-8: 1e-9 / 1e-8 = 0.1.
    assert.ok(Math.abs(relativeError([1e-9], [0]) - 0.1) < 1e-12);
  });
});

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

describe('softmax cross-entropy and MSE', () => {
  before(() => init({ quiet: true }));

  it('softmaxCrossEntropy matches −log softmax(ℓ)_y by hand, and is finite for huge logits', () => {
    // Row 1: two equal logits (and a negligible third) → ln 2. Row 2: log(e + e² + e³) − 3. Row 3: label 1 of (1000, 0, −1000) → 1000.
    const logits = tf.tensor2d([
      [0, 0, -50],
      [1, 2, 3],
      [1000, 0, -1000],
    ]);
    const expected = [Math.log(2 + Math.exp(-50)), Math.log(Math.E + Math.E ** 2 + Math.E ** 3) - 3, 1000];
    const byIndex = softmaxCrossEntropy(tf.tensor1d([0, 2, 1], 'int32'), logits);
    assert.deepStrictEqual(byIndex.shape, [3]);
    assert.ok(relError(byIndex.dataSync(), expected) < 1e-6, `${byIndex.dataSync()} vs ${expected}`);
    const byOneHot = softmaxCrossEntropy(
      tf.tensor2d([
        [1, 0, 0],
        [0, 0, 1],
        [0, 1, 0],
      ]),
      logits,
    );
    assert.ok(relError(byOneHot.dataSync(), expected) < 1e-6);
  });

  it('softmaxCrossEntropy with soft labels is −Σ_k y_k log softmax(ℓ)_k, and its gradient is softmax(ℓ) − y', () => {
    const logits = [0.5, -1, 2];
    const y = [0.2, 0.3, 0.5];
    const z = logits.reduce((s, l) => s + Math.exp(l), 0);
    const p = logits.map((l) => Math.exp(l) / z);
    const expected = -y.reduce((s, yk, k) => s + yk * Math.log(p[k]), 0);
    const value = softmaxCrossEntropy(tf.tensor2d([y]), tf.tensor2d([logits])).dataSync()[0];
    assert.ok(Math.abs(value - expected) < 1e-6, `${value} vs ${expected}`);
    const grad = tf.grad((l: tf.Tensor) => softmaxCrossEntropy(tf.tensor2d([y]), l).sum())(tf.tensor2d([logits]));
    assert.ok(
      relError(
        grad.dataSync(),
        p.map((pk, k) => pk - y[k]),
      ) < 1e-5,
    );
  });

  it('softmaxCrossEntropy says what is wrong with mismatched shapes', () => {
    assertGenlabError(
      () => softmaxCrossEntropy(tf.tensor1d([0, 1], 'int32'), tf.zeros([3, 10])),
      /2 labels for 3 rows of logits/,
    );
    assertGenlabError(
      () => softmaxCrossEntropy(tf.tensor1d([0], 'int32'), tf.zeros([10])),
      /expects logits shaped \[N, K\], got \[10\]/,
    );
  });

  it('mse averages squared differences per example', () => {
    // (0.5² + 0 + 1² + 0) / 4 = 0.3125 and (0 + 0 + 0 + 2²) / 4 = 1.
    const x = tf.tensor4d([0, 1, 1, 0, 1, 1, 1, 1], [2, 2, 2, 1]);
    const xHat = tf.tensor4d([0.5, 1, 0, 0, 1, 1, 1, -1], [2, 2, 2, 1]);
    assert.ok(relError(mse(x, xHat).dataSync(), [0.3125, 1]) < 1e-7);
    assertGenlabError(() => mse(x, tf.zeros([2, 4])), /the shapes must match, but got \[2,2,2,1\] and \[2,4\]/);
  });
});

describe('GAN losses on logits', () => {
  before(() => init({ quiet: true }));

  it('discriminatorLoss = −E[log D(x)] − E[log(1 − D(G(z)))], by hand and for huge logits', () => {
    assert.ok(Math.abs(discriminatorLoss(tf.tensor1d([0]), tf.tensor1d([0])).dataSync()[0] - 2 * Math.log(2)) < 1e-6);
    // Real logits (2, −1), fake logit 3: −½(log σ(2) + log σ(−1)) − log(1 − σ(3)).
    const expected = -0.5 * (Math.log(sigmoid(2)) + Math.log(sigmoid(-1))) - Math.log(1 - sigmoid(3));
    assert.ok(relError(discriminatorLoss(tf.tensor2d([[2], [-1]]), tf.tensor2d([[3]])).dataSync(), [expected]) < 1e-6);
    assert.ok(
      Math.abs(discriminatorLoss(tf.tensor1d([1000]), tf.tensor1d([-1000])).dataSync()[0]) < 1e-6,
      'a perfect discriminator has loss 0',
    );
    assert.ok(
      relError(discriminatorLoss(tf.tensor1d([-1000]), tf.tensor1d([1000])).dataSync(), [2000]) < 1e-6,
      'finite when fooled completely',
    );
  });

  it('the minimax generator loss is E[log(1 − D(G(z)))]; the non-saturating one is −E[log D(G(z))]', () => {
    const logits = [-2, 0.5, 4];
    const d = logits.map(sigmoid);
    const minimax = d.reduce((s, di) => s + Math.log(1 - di), 0) / 3;
    const nonSat = -d.reduce((s, di) => s + Math.log(di), 0) / 3;
    assert.ok(relError(minimaxGeneratorLoss(tf.tensor1d(logits)).dataSync(), [minimax]) < 1e-6);
    assert.ok(relError(nonSaturatingGeneratorLoss(tf.tensor1d(logits)).dataSync(), [nonSat]) < 1e-6);
    assert.ok(Math.abs(nonSaturatingGeneratorLoss(tf.tensor1d([-1000])).dataSync()[0] - 1000) < 1e-3);
  });

  it('where D rejects the fakes (ℓ = −10) the minimax gradient vanishes and the non-saturating one does not', () => {
    // d/dℓ [−softplus(ℓ)] = −σ(ℓ);  d/dℓ [softplus(−ℓ)] = −σ(−ℓ) = −(1 − σ(ℓ)).
    const at = tf.tensor1d([-10]);
    const gMinimax = tf
      .grad((l: tf.Tensor) => minimaxGeneratorLoss(l))(at)
      .dataSync()[0];
    const gNonSat = tf
      .grad((l: tf.Tensor) => nonSaturatingGeneratorLoss(l))(at)
      .dataSync()[0];
    assert.ok(relError([gMinimax], [-sigmoid(-10)]) < 1e-4 && Math.abs(gMinimax) < 1e-4, `${gMinimax}`);
    assert.ok(relError([gNonSat], [-(1 - sigmoid(-10))]) < 1e-6, `${gNonSat}`);
    // And the discriminator's gradient on a fake logit is σ(ℓ)/N_fake.
    const gD = tf
      .grad((l: tf.Tensor) => discriminatorLoss(tf.tensor1d([1]), l))(tf.tensor1d([0.3, -2]))
      .dataSync();
    assert.ok(relError(gD, [sigmoid(0.3) / 2, sigmoid(-2) / 2]) < 1e-6);
  });
});
