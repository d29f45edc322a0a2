import type { LabFairness } from './types';

/** Lab 1: the cross-entropy, the Gram matrix, k-means' two steps and the PCA projection. */
export const LAB1: LabFairness = {
  lab: '01-supervised-vs-unsupervised.ipynb',
  todos: {
    'softmax-cross-entropy': {
      test: 'softmax-cross-entropy-check',
      correct: [
        `function softmaxCrossEntropy(labels: tf.Tensor, logits: tf.Tensor): tf.Tensor {
  const logProbabilities = tf.logSoftmax(logits);
  return tf.oneHot(labels.toInt(), logits.shape[1]!).toFloat().mul(logProbabilities).sum(1).neg();
}`,
        `function softmaxCrossEntropy(labels: tf.Tensor, logits: tf.Tensor): tf.Tensor {
  // Gather each row's true logit from the flattened logits.
  const [rows, classes] = logits.shape as [number, number];
  const index = tf.range(0, rows, 1, 'int32').mul(tf.scalar(classes, 'int32')).add(labels.toInt());
  return tf.logSumExp(logits, 1).sub(tf.gather(logits.reshape([-1]), index));
}`,
        `function softmaxCrossEntropy(labels: tf.Tensor, logits: tf.Tensor): tf.Tensor {
  const top = logits.max(1, true);
  const logNormaliser = logits.sub(top).exp().sum(1).log().add(top.reshape([-1]));
  const truth = tf.oneHot(labels, logits.shape[1]!);
  return logNormaliser.sub(tf.mul(logits, truth).sum(-1));
}`,
      ],
      mistakes: [
        {
          replace: ['.sum(1).neg();', '.sum(1);'],
          says: /softmaxCrossEntropy: the sign is flipped/,
        },
        {
          replace: [
            'return tf.oneHot(labels.toInt(), logits.shape[1]!).toFloat().mul(logProbabilities).sum(1).neg();',
            'return tf.logSumExp(logits, 1);',
          ],
          says: /the −ℓ_y term is missing/,
        },
        {
          replace: [
            'const logProbabilities = tf.logSoftmax(logits);',
            'const logProbabilities = logits.sub(logits.exp().sum(1, true).log());',
          ],
          says: /stable for huge logits: got .*use tf\.logSumExp/,
        },
      ],
    },
    'gram-matrix': {
      test: 'gram-matrix-check',
      correct: [
        `function gramMatrix(features: tf.Tensor4D): tf.Tensor3D {
  const [n, h, w, c] = features.shape;
  const f = features.reshape([n, h * w, c]);
  return tf.matMul(f.transpose([0, 2, 1]), f).div(h * w) as tf.Tensor3D;
}`,
        `function gramMatrix(features: tf.Tensor4D): tf.Tensor3D {
  // Outer products of each position's channel vector, averaged over the positions.
  const [n, h, w, c] = features.shape;
  const f = features.reshape([n, h * w, c]);
  return f.expandDims(3).mul(f.expandDims(2)).mean(1) as tf.Tensor3D;
}`,
        `function gramMatrix(features: tf.Tensor4D): tf.Tensor3D {
  const [, h, w, c] = features.shape;
  const perImage = tf.unstack(features).map((image) => {
    const f = image.reshape([h * w, c]);
    return tf.matMul(f, f, true, false).mul(1 / (h * w));
  });
  return tf.stack(perImage) as tf.Tensor3D;
}`,
        // tf.einsum, a kernel wasm lacks: genlab runs the cpu backend's for it, also under the grader's lockdown.
        `function gramMatrix(features: tf.Tensor4D): tf.Tensor3D {
  const [n, h, w, c] = features.shape;
  const f = features.reshape([n, h * w, c]);
  return tf.einsum('npc,npd->ncd', f, f).div(h * w) as tf.Tensor3D;
}`,
      ],
      mistakes: [
        { replace: ['.div(h * w) as tf.Tensor3D;', ' as tf.Tensor3D;'], says: /divide by the number of positions H·W/ },
        {
          replace: ['.div(h * w) as tf.Tensor3D;', '.div(h * w * c) as tf.Tensor3D;'],
          says: /divide by H·W \(here 2\), not by H·W·C/,
        },
        {
          replace: ['tf.matMul(f.transpose([0, 2, 1]), f)', 'tf.matMul(f, f.transpose([0, 2, 1]))'],
          says: /the Gram matrix is \[N, C, C\] and symmetric: got shape \[3,20,20\]/,
        },
      ],
    },
    'assign-clusters': {
      test: 'assign-clusters-check',
      correct: [
        `function assignClusters(x: tf.Tensor, centroids: tf.Tensor): tf.Tensor {
  return x.expandDims(1).sub(centroids.expandDims(0)).square().sum(2).argMin(1);
}`,
        `function assignClusters(x: tf.Tensor, centroids: tf.Tensor): tf.Tensor {
  // One column of distances per centroid (the norm, not its square: the nearest is the same).
  const distances = tf.unstack(centroids).map((c) => x.sub(c).norm('euclidean', 1));
  return tf.stack(distances, 1).argMin(1);
}`,
        `function assignClusters(x: tf.Tensor, centroids: tf.Tensor): tf.Tensor {
  const points = x.arraySync() as number[][], cs = centroids.arraySync() as number[][];
  const nearest = points.map((p) => {
    let best = 0, bestDistance = Infinity;
    cs.forEach((c, k) => {
      const d = c.reduce((s, v, j) => s + (p[j] - v) ** 2, 0);
      if (d < bestDistance) [best, bestDistance] = [k, d];
    });
    return best;
  });
  return tf.tensor1d(nearest, 'int32');
}`,
      ],
      mistakes: [
        { replace: ['.sum(2).argMin(1);', '.sum(2).argMax(1);'], says: /you chose the farthest centroid/ },
        {
          replace: [
            'return x.expandDims(1).sub(centroids.expandDims(0)).square().sum(2).argMin(1);',
            'return tf.matMul(x, centroids, false, true).mul(-2).add(x.square().sum(1, true)).argMin(1);',
          ],
          says: /a term of ‖x − μ‖² = ‖x‖² − 2x·μ \+ ‖μ‖² is missing/,
        },
        { replace: ['.sum(2).argMin(1);', '.sum(2).argMin(1).expandDims(1);'], says: /shape \[N\]/ },
      ],
    },
    'update-centroids': {
      test: 'update-centroids-check',
      correct: [
        `function updateCentroids(x: tf.Tensor, assignments: tf.Tensor, k: number, previous: tf.Tensor): tf.Tensor {
  const ids = assignments.toInt() as tf.Tensor1D;
  const sums = tf.unsortedSegmentSum(x, ids, k);
  const counts = tf.unsortedSegmentSum(tf.onesLike(ids), ids, k).toFloat().expandDims(1);
  const means = sums.div(counts.maximum(1));
  return tf.where(counts.greater(0).tile([1, x.shape[1]!]), means, previous);
}`,
        `function updateCentroids(x: tf.Tensor, assignments: tf.Tensor, k: number, previous: tf.Tensor): tf.Tensor {
  // One cluster at a time.
  const rows = tf.unstack(previous).map((old, j) => {
    const member = assignments.equal(j).toFloat().expandDims(1);
    const count = member.sum().dataSync()[0];
    return count > 0 ? x.mul(member).sum(0).div(count) : old;
  });
  return tf.stack(rows);
}`,
        `function updateCentroids(x: tf.Tensor, assignments: tf.Tensor, k: number, previous: tf.Tensor): tf.Tensor {
  const points = x.arraySync() as number[][], owner = Array.from(assignments.dataSync());
  const old = previous.arraySync() as number[][];
  const means = old.map((centroid, j) => {
    const members = points.filter((_, n) => owner[n] === j);
    if (members.length === 0) return centroid;
    return centroid.map((_, d) => members.reduce((s, p) => s + p[d], 0) / members.length);
  });
  return tf.tensor2d(means);
}`,
      ],
      mistakes: [
        {
          replace: ['const means = sums.div(counts.maximum(1));', 'const means = sums;'],
          says: /you returned the sums of each cluster's points/,
        },
        {
          replace: ['return tf.where(counts.greater(0).tile([1, x.shape[1]!]), means, previous);', 'return means;'],
          says: /the empty cluster 2 became 0: keep its previous centroid/,
        },
        {
          replace: [
            'return tf.where(counts.greater(0).tile([1, x.shape[1]!]), means, previous);',
            'return sums.div(counts);',
          ],
          says: /the empty cluster became NaN \(0 \/ 0\)/,
        },
      ],
    },
    'project-pca': {
      test: 'project-pca-check',
      correct: [
        `function projectPca(x: tf.Tensor, mean: tf.Tensor, components: tf.Tensor): tf.Tensor {
  return x.sub(mean).matMul(components.transpose());
}`,
        `function projectPca(x: tf.Tensor, mean: tf.Tensor, components: tf.Tensor): tf.Tensor {
  // Project, then remove the mean's projection: (x − x̄)Vᵀ = xVᵀ − x̄Vᵀ.
  return tf.matMul(x, components, false, true).sub(tf.matMul(mean.reshape([1, -1]), components, false, true));
}`,
        `function projectPca(x: tf.Tensor, mean: tf.Tensor, components: tf.Tensor): tf.Tensor {
  return tf.dot(tf.sub(x, mean), tf.transpose(components));
}`,
      ],
      mistakes: [
        {
          replace: ['return x.sub(mean).matMul(components.transpose());', 'return x.matMul(components.transpose());'],
          says: /you forgot to subtract the mean/,
        },
        {
          replace: ['matMul(components.transpose());', 'matMul(components);'],
          says: /you multiplied by V instead of Vᵀ/,
        },
      ],
    },
  },
};
