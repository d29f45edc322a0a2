/**
 * k-means, PCA and the per-pixel Bernoulli density, against values computed
 * independently: hand examples, separable blobs, closed-form eigenpairs.
 */
import * as assert from 'assert';
import * as tf from '@tensorflow/tfjs';
import { init } from '../../lib/backend';
import { clusterPurity } from '../../lib/metrics';
import { Random } from '../../lib/random';
import { fitPixelBernoulli, pixelBernoulliLogLikelihood, samplePixelBernoulli } from '../../lib/unsupervised/density';
import {
  assignClusters,
  inertia,
  kmeans,
  kmeansPlusPlus,
  squaredDistances,
  updateCentroids,
} from '../../lib/unsupervised/kmeans';
import { symmetricEigen } from '../../lib/linalg';
import { fitPca, projectPca, reconstructPca } from '../../lib/unsupervised/pca';
import { assertGenlabError, maxAbsDiff, relError } from '../helpers';

/** A random d × d orthogonal matrix (rows orthonormal), by Gram–Schmidt in float64. */
function randomRotation(d: number, rng: Random): number[][] {
  const q: number[][] = [];
  while (q.length < d) {
    const v = Array.from({ length: d }, () => rng.normal());
    for (const u of q) {
      const dot = u.reduce((s, ui, i) => s + ui * v[i], 0);
      u.forEach((ui, i) => (v[i] -= dot * ui));
    }
    const norm = Math.hypot(...v);
    q.push(v.map((vi) => vi / norm));
  }
  return q;
}

/** Three well-separated Gaussian blobs in 5-D, 100 points each, with their labels and true centres. */
function blobs(seed: number) {
  const rng = new Random(seed);
  const centres = [
    [10, 0, 0, 0, 0],
    [0, 10, 0, 0, 0],
    [0, 0, 0, 0, 10],
  ];
  const points: number[][] = [];
  const labels: number[] = [];
  centres.forEach((c, label) => {
    for (let i = 0; i < 100; i++) {
      points.push(c.map((ci) => ci + 0.5 * rng.normal()));
      labels.push(label);
    }
  });
  return { x: tf.tensor2d(points), labels, centres, points };
}

describe('k-means', () => {
  before(() => init({ quiet: true }));

  it('the assignment and update steps on a 1-D example by hand', () => {
    const x = tf.tensor2d([[0], [1], [10], [11], [4]]);
    const c = tf.tensor2d([[0], [10]]);
    // Distances² to 0 and 10: 4 is 16 from 0 and 36 from 10 → cluster 0.
    assert.deepStrictEqual(Array.from(squaredDistances(x, c).dataSync()), [0, 100, 1, 81, 100, 0, 121, 1, 16, 36]);
    const a = assignClusters(x, c);
    assert.deepStrictEqual(Array.from(a.dataSync()), [0, 0, 1, 1, 0]);
    assert.ok(relError(updateCentroids(x, a, 2).dataSync(), [5 / 3, 10.5]) < 1e-7);
    assert.ok(
      relError(
        [inertia(x, tf.tensor2d([[5 / 3], [10.5]]), a)],
        [(5 / 3) ** 2 + (2 / 3) ** 2 + 0.25 + 0.25 + (7 / 3) ** 2],
      ) < 1e-6,
    );
  });

  it('a cluster that loses all its points keeps its previous centroid', () => {
    const x = tf.tensor2d([
      [0, 0],
      [1, 1],
    ]);
    const updated = updateCentroids(
      x,
      tf.tensor1d([0, 0], 'int32'),
      2,
      tf.tensor2d([
        [5, 5],
        [7, -7],
      ]),
    );
    assert.deepStrictEqual(Array.from(updated.dataSync()), [0.5, 0.5, 7, -7]);
  });

  it('recovers separable blobs exactly: purity 1, centres within noise, inertia never rises', () => {
    const { x, labels, centres } = blobs(1);
    const result = kmeans(x, 3, { seed: 7 });
    assert.ok(result.converged, 'converged');
    assert.strictEqual(clusterPurity(result.assignments, labels).purity, 1);
    const found = result.centroids.arraySync();
    for (const c of centres) {
      const nearest = Math.min(...found.map((f) => Math.hypot(...f.map((fi, i) => fi - c[i]))));
      assert.ok(nearest < 0.3, `a centroid within 0.3 of [${c}] (nearest ${nearest})`);
    }
    for (let i = 1; i < result.inertia.length; i++)
      assert.ok(result.inertia[i] <= result.inertia[i - 1] + 1e-3, `inertia ${result.inertia}`);
    // At convergence each centroid is the mean of its points (computed here in float64).
    const assigned = result.assignments.dataSync();
    const pts = x.arraySync();
    found.forEach((f, k) => {
      const members = pts.filter((_, n) => assigned[n] === k);
      const mean = f.map((_, d) => members.reduce((s, p) => s + p[d], 0) / members.length);
      assert.ok(maxAbsDiff(f, mean) < 1e-4);
    });
  });

  it('k-means++ puts one initial centroid in each far-apart blob, and the same seed repeats', () => {
    const { x, points } = blobs(2);
    const init1 = kmeansPlusPlus(x, 3, 11).arraySync();
    const blobOf = (p: number[]) => [p[0], p[1], p[4]].indexOf(Math.max(p[0], p[1], p[4]));
    assert.deepStrictEqual(new Set(init1.map(blobOf)).size, 3);
    assert.ok(
      init1.every((c) => points.some((p) => maxAbsDiff(p, c) < 1e-5)),
      'centroids are data points',
    );
    assert.deepStrictEqual(kmeansPlusPlus(x, 3, 11).arraySync(), init1);
    assertGenlabError(
      () => kmeansPlusPlus(x, 301),
      /k must be a whole number between 1 and the number of points \(300\), got 301/,
    );
  });

  it("runs a student's own steps when given, and frees their temporaries even when they do not", () => {
    const { x, labels } = blobs(3);
    let calls = 0;
    const before = tf.memory().numTensors;
    // Steps written without tf.tidy, as a student would: every intermediate would otherwise leak.
    const leakyAssign = (p: tf.Tensor, c: tf.Tensor) => (
      calls++,
      p
        .square()
        .sum(1, true)
        .sub(tf.matMul(p, c, false, true).mul(2))
        .add(c.square().sum(1).expandDims(0))
        .argMin(1)
    );
    const leakyUpdate = (p: tf.Tensor, a: tf.Tensor, k: number, previous?: tf.Tensor) =>
      updateCentroids(p, a, k, previous).add(tf.zeros([k, p.shape[1]!]));
    const result = kmeans(x, 3, { seed: 1, assign: leakyAssign, update: leakyUpdate });
    assert.ok(calls >= result.iterations && result.converged);
    assert.strictEqual(clusterPurity(result.assignments, labels).purity, 1);
    assert.strictEqual(tf.memory().numTensors, before + 2, 'only the centroids and assignments remain');
  });
});

describe('PCA', () => {
  before(() => init({ quiet: true }));

  it('symmetricEigen recovers a matrix built as Q diag(λ) Qᵀ', () => {
    const d = 12;
    const q = randomRotation(d, new Random(4));
    const lambda = Array.from({ length: d }, (_, i) => 20 - 1.5 * i);
    const a = new Float64Array(d * d);
    for (let i = 0; i < d; i++)
      for (let j = 0; j < d; j++) for (let k = 0; k < d; k++) a[i * d + j] += q[k][i] * lambda[k] * q[k][j];
    const { values, vectors } = symmetricEigen(a, d);
    assert.ok(relError(values, lambda) < 1e-10, `${values}`);
    for (let k = 0; k < d; k++) {
      const v = Array.from({ length: d }, (_, r) => vectors[r * d + k]);
      const dot = Math.abs(v.reduce((s, vi, i) => s + vi * q[k][i], 0));
      assert.ok(Math.abs(dot - 1) < 1e-10, `eigenvector ${k}: |⟨v, q⟩| = ${dot}`);
    }
  });

  it('on a 2-D Gaussian, finds the eigenvectors of the sample covariance (closed form)', () => {
    const rng = new Random(5);
    const angle = Math.PI / 6;
    const pts: number[][] = [];
    for (let i = 0; i < 4000; i++) {
      const [u, v] = [3 * rng.normal(), rng.normal()];
      pts.push([1 + Math.cos(angle) * u - Math.sin(angle) * v, -2 + Math.sin(angle) * u + Math.cos(angle) * v]);
    }
    // The sample covariance in float64 and its eigenpairs by the 2×2 formula.
    const n = pts.length;
    const m = [0, 1].map((j) => pts.reduce((s, p) => s + p[j], 0) / n);
    const cov = (i: number, j: number) => pts.reduce((s, p) => s + (p[i] - m[i]) * (p[j] - m[j]), 0) / (n - 1);
    const [a, b, c] = [cov(0, 0), cov(0, 1), cov(1, 1)];
    const l1 = (a + c) / 2 + Math.sqrt(((a - c) / 2) ** 2 + b * b);
    const l2 = (a + c) / 2 - Math.sqrt(((a - c) / 2) ** 2 + b * b);
    const v1 = [b, l1 - a].map((x, _, arr) => x / Math.hypot(...arr));
    const pca = fitPca(tf.tensor2d(pts), 2, { tolerance: 1e-6 });
    assert.ok(relError(pca.variances, [l1, l2]) < 1e-4, `${pca.variances} vs ${[l1, l2]}`);
    const got = pca.components.arraySync()[0];
    assert.ok(Math.abs(Math.abs(got[0] * v1[0] + got[1] * v1[1]) - 1) < 1e-6, `${got} vs ±${v1}`);
    // And close to the population's direction (cos 30°, sin 30°) and variances (9, 1).
    assert.ok(Math.abs(Math.abs(got[0] * Math.cos(angle) + got[1] * Math.sin(angle)) - 1) < 1e-3);
    assert.ok(Math.abs(pca.variances[0] - 9) < 0.6 && Math.abs(pca.variances[1] - 1) < 0.1);
    assert.ok(relError([pca.totalVariance], [a + c]) < 1e-5);
    assert.ok(relError(pca.mean.dataSync(), m) < 1e-5);
  });

  it('in 40-D, finds the top 5 of an exactly known covariance (points ±a_i q_i)', () => {
    const d = 40;
    const q = randomRotation(d, new Random(6));
    const a = Array.from({ length: d }, (_, i) => 10 / (1 + i));
    const pts: number[][] = [];
    for (let i = 0; i < d; i++) for (const s of [1, -1]) pts.push(q[i].map((qi) => s * a[i] * qi + 3));
    // Mean (3, …, 3); covariance Σ_i 2 a_i² q_i q_iᵀ / (N − 1): eigenvalues 2a_i²/(N−1), eigenvectors q_i.
    const n = pts.length;
    const lambda = a.map((ai) => (2 * ai * ai) / (n - 1));
    const pca = fitPca(tf.tensor2d(pts), 5, { tolerance: 1e-6, seed: 2 });
    assert.ok(relError(pca.variances, lambda.slice(0, 5)) < 1e-4, `${pca.variances} vs ${lambda.slice(0, 5)}`);
    assert.ok(relError([pca.totalVariance], [lambda.reduce((s, l) => s + l)]) < 1e-5);
    const comps = pca.components.arraySync();
    comps.forEach((v, k) => {
      const dot = Math.abs(v.reduce((s, vi, i) => s + vi * q[k][i], 0));
      assert.ok(Math.abs(dot - 1) < 1e-4, `component ${k}: |⟨v, q⟩| = ${dot}`);
    });
    // Each component's largest entry is positive (the sign convention).
    for (const v of comps) assert.ok(v.reduce((best, x) => (Math.abs(x) > Math.abs(best) ? x : best), 0) > 0);
  });

  it('projecting onto every component and back returns the data; k < D keeps the top directions', () => {
    const rng = new Random(8);
    const data = tf.tensor2d(Array.from({ length: 50 }, () => Array.from({ length: 6 }, () => rng.normal())));
    const full = fitPca(data, 6, { tolerance: 1e-7 });
    const codes = projectPca(full, data);
    assert.deepStrictEqual(codes.shape, [50, 6]);
    assert.ok(maxAbsDiff(reconstructPca(full, codes).dataSync(), data.dataSync()) < 1e-4);
    // The codes are uncorrelated, with variances λ_j.
    const z = codes.arraySync();
    for (let j = 0; j < 6; j++) {
      const variance = z.reduce((s, r) => s + r[j] * r[j], 0) / 49;
      assert.ok(
        Math.abs(variance - full.variances[j]) < 1e-3 * full.variances[0],
        `code ${j}: ${variance} vs ${full.variances[j]}`,
      );
    }
    assertGenlabError(() => fitPca(data, 7), /k must be a whole number between 1 and the dimension 6, got 7/);
    assertGenlabError(() => fitPca(tf.zeros([1, 6]), 2), /at least 2 examples/);
  });
});

describe('the per-pixel Bernoulli density', () => {
  before(() => init({ quiet: true }));

  it('fits p_i = (Σ x + 1)/(N + 2) and scores images by hand', () => {
    const x = tf.tensor4d([1, 0, 1, 1], [2, 1, 2, 1]);
    const model = fitPixelBernoulli(x);
    assert.ok(relError(model.probabilities.dataSync(), [3 / 4, 2 / 4]) < 1e-6);
    const ll = pixelBernoulliLogLikelihood(model, tf.tensor4d([1, 0, 0, 1], [2, 1, 2, 1])).dataSync();
    assert.ok(relError(ll, [Math.log(0.75) + Math.log(0.5), Math.log(0.25) + Math.log(0.5)]) < 1e-6);
    assertGenlabError(() => fitPixelBernoulli(tf.fill([2, 1, 2, 1], 0.5)), /binary images .* binarize them first/);
    assertGenlabError(
      () => pixelBernoulliLogLikelihood(model, tf.zeros([1, 2, 2, 1])),
      /images are \[1,2,2,1\] but the model is for images shaped \[1,2,1\]/,
    );
  });

  it("its samples have each pixel's probability", () => {
    const model = { probabilities: tf.tensor3d([0.1, 0.5, 0.9], [1, 3, 1]), logits: tf.zeros([1, 3, 1]) };
    const mean = samplePixelBernoulli(model, 20000, 4).mean(0).dataSync();
    // Standard error ≤ 0.0036; allow 5σ.
    assert.ok(maxAbsDiff(mean, [0.1, 0.5, 0.9]) < 0.018, `${mean}`);
  });
});
