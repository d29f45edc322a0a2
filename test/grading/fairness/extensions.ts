import type { LabFairness } from './types';

/**
 * The GAN extensions, part 1 (the least-squares losses) and part 2 (the gradient penalty, its graph intact to the
 * critic's weights, and the cycle loss). They are not graded; the suite grades copies in which each TODO's check
 * cell is a test.
 */
export const EXTENSIONS: LabFairness = {
  lab: '05-gan-extensions.ipynb',
  checksAsTests: true,
  todos: {
    'lsgan-losses': {
      test: 'lsgan-losses-check',
      correct: [
        `function lsDiscriminatorLoss(realScores: tf.Tensor, fakeScores: tf.Tensor): tf.Scalar {
  return tf.losses.meanSquaredError(tf.onesLike(realScores), realScores).add(tf.losses.meanSquaredError(tf.zerosLike(fakeScores), fakeScores)).div(2) as tf.Scalar;
}

function lsGeneratorLoss(fakeScores: tf.Tensor): tf.Scalar {
  return tf.losses.meanSquaredError(tf.onesLike(fakeScores), fakeScores).mul(0.5) as tf.Scalar;
}`,
        `function lsDiscriminatorLoss(realScores: tf.Tensor, fakeScores: tf.Tensor): tf.Scalar {
  return tf.squaredDifference(realScores, tf.scalar(1)).mean().mul(0.5).add(fakeScores.square().mean().mul(0.5)) as tf.Scalar;
}

function lsGeneratorLoss(fakeScores: tf.Tensor): tf.Scalar {
  return tf.squaredDifference(fakeScores, 1).mean().div(2) as tf.Scalar;
}`,
        `function lsDiscriminatorLoss(realScores: tf.Tensor, fakeScores: tf.Tensor): tf.Scalar {
  const real = realScores.sub(1).square().sum().div(2 * realScores.size);
  const fake = fakeScores.square().sum().div(2 * fakeScores.size);
  return tf.addN([real, fake]) as tf.Scalar;
}

function lsGeneratorLoss(fakeScores: tf.Tensor): tf.Scalar {
  return tf.sub(fakeScores, 1).square().sum().div(2 * fakeScores.size) as tf.Scalar;
}`,
      ],
      mistakes: [
        {
          replace: ['const real = realScores.sub(1).square()', 'const real = realScores.square()'],
          also: [['const fake = fakeScores.square()', 'const fake = fakeScores.sub(1).square()']],
          variant: 2,
          says: /lsDiscriminatorLoss: real and fake are swapped/,
        },
        {
          replace: ['.div(2 * realScores.size)', '.div(realScores.size)'],
          also: [['.div(2 * fakeScores.size);\n  return tf.addN', '.div(fakeScores.size);\n  return tf.addN']],
          variant: 2,
          says: /the ½ in front of each term is missing/,
        },
        { replace: ['.div(2 * realScores.size)', '.div(2)'], variant: 2, says: /you summed over the real batch/ },
        {
          replace: ['const real = realScores.sub(1).square()', 'const real = tf.sigmoid(realScores).sub(1).square()'],
          also: [['const fake = fakeScores.square()', 'const fake = tf.sigmoid(fakeScores).square()']],
          variant: 2,
          says: /the scores went through a sigmoid/,
        },
        {
          replace: ['return tf.sub(fakeScores, 1).square()', 'return fakeScores.square()'],
          variant: 2,
          says: /that pulls the fakes’ scores to 0/,
        },
        {
          replace: [
            '.square().sum().div(2 * fakeScores.size) as tf.Scalar;',
            '.square().sum().div(fakeScores.size) as tf.Scalar;',
          ],
          variant: 2,
          says: /lsGeneratorLoss: .*the ½ in front is missing/,
        },
      ],
    },
  },
};

export const EXTENSIONS_2: LabFairness = {
  lab: '05-gan-extensions-2.ipynb',
  checksAsTests: true,
  todos: {
    'wgan-penalty': {
      test: 'wgan-penalty-check',
      correct: [
        `function gradientPenalty(critic: (x: tf.Tensor) => tf.Tensor, real: tf.Tensor, fake: tf.Tensor, epsilon: tf.Tensor): tf.Scalar {
  const xHat = real.mul(epsilon).add(fake.mul(epsilon.neg().add(1)));
  const gradient = tf.grad((x: tf.Tensor) => critic(x).sum())(xHat);
  const norms = gradient.reshape([gradient.shape[0], -1]).norm('euclidean', 1);
  return norms.sub(1).square().mean() as tf.Scalar;
}`,
        `function gradientPenalty(critic: (x: tf.Tensor) => tf.Tensor, real: tf.Tensor, fake: tf.Tensor, epsilon: tf.Tensor): tf.Scalar {
  // x̂ = fake + ε (real − fake).
  const xHat = fake.add(epsilon.mul(real.sub(fake)));
  const [gradient] = tf.grads((x: tf.Tensor) => critic(x).sum())([xHat]);
  const norms = tf.sqrt(tf.sum(tf.square(gradient), [1, 2, 3]));
  return tf.mean(tf.squaredDifference(norms, tf.scalar(1))) as tf.Scalar;
}`,
        `function gradientPenalty(critic: (x: tf.Tensor) => tf.Tensor, real: tf.Tensor, fake: tf.Tensor, epsilon: tf.Tensor): tf.Scalar {
  const xHat = tf.add(tf.mul(epsilon, real), tf.mul(tf.sub(1, epsilon), fake));
  const { grad } = tf.valueAndGrad((x: tf.Tensor) => critic(x).sum() as tf.Scalar)(xHat);
  const squaredNorms = grad.square().reshape([grad.shape[0], -1]).sum(1);
  return squaredNorms.sqrt().sub(1).square().sum().div(grad.shape[0]) as tf.Scalar;
}`,
      ],
      mistakes: [
        {
          replace: [
            'const xHat = real.mul(epsilon).add(fake.mul(epsilon.neg().add(1)));',
            'const xHat = fake.mul(epsilon).add(real.mul(epsilon.neg().add(1)));',
          ],
          says: /ε weighs the fakes/,
        },
        {
          replace: [".norm('euclidean', 1);", '.square().sum(1);'],
          says: /that is the squared norm: take its square root/,
        },
        {
          replace: ['return norms.sub(1).square().mean()', 'return norms.sub(1).mean()'],
          says: /square each \(‖∇f\(x̂\)‖ − 1\) before the mean/,
        },
        {
          replace: [
            ".reshape([gradient.shape[0], -1]).norm('euclidean', 1);",
            ".reshape([1, -1]).norm('euclidean', 1);",
          ],
          says: /one norm for the whole batch/,
        },
        {
          // The norms read out with dataSync and rebuilt: the value is right, the graph to the critic is cut.
          replace: [
            ".norm('euclidean', 1);",
            ".norm('euclidean', 1);\n  const cut = tf.tensor1d(Array.from(norms.dataSync()));",
          ],
          also: [['return norms.sub(1).square().mean()', 'return cut.sub(1).square().mean()']],
          says: /no gradient reaches the critic's weights/,
        },
      ],
    },
    'cycle-loss': {
      test: 'cycle-loss-check',
      correct: [
        `function cycleConsistencyLoss(a: tf.Tensor, b: tf.Tensor, toB: (x: tf.Tensor) => tf.Tensor, toA: (x: tf.Tensor) => tf.Tensor): tf.Scalar {
  return tf.losses.absoluteDifference(a, toA(toB(a))).add(tf.losses.absoluteDifference(b, toB(toA(b)))) as tf.Scalar;
}`,
        `function cycleConsistencyLoss(a: tf.Tensor, b: tf.Tensor, toB: (x: tf.Tensor) => tf.Tensor, toA: (x: tf.Tensor) => tf.Tensor): tf.Scalar {
  const aBack = toA(toB(a)), bBack = toB(toA(b));
  return tf.mean(tf.abs(tf.sub(aBack, a))).add(tf.mean(tf.abs(tf.sub(bBack, b)))) as tf.Scalar;
}`,
        `function cycleConsistencyLoss(a: tf.Tensor, b: tf.Tensor, toB: (x: tf.Tensor) => tf.Tensor, toA: (x: tf.Tensor) => tf.Tensor): tf.Scalar {
  const l1 = (x: tf.Tensor, y: tf.Tensor) => x.sub(y).abs().sum().div(x.size);
  return tf.addN([l1(toA(toB(a)), a), l1(toB(toA(b)), b)]) as tf.Scalar;
}`,
      ],
      mistakes: [
        {
          replace: ['return tf.addN([l1(toA(toB(a)), a), l1(toB(toA(b)), b)])', 'return tf.addN([l1(toA(toB(a)), a)])'],
          variant: 2,
          says: /the second cycle is missing/,
        },
        {
          replace: ['return tf.addN([l1(toA(toB(a)), a), l1(toB(toA(b)), b)])', 'return tf.addN([l1(toB(toA(b)), b)])'],
          variant: 2,
          says: /the first cycle is missing/,
        },
        {
          replace: ['x.sub(y).abs().sum()', 'x.sub(y).square().sum()'],
          variant: 2,
          says: /that is the squared difference/,
        },
        {
          replace: ['x.sub(y).abs().sum().div(x.size)', 'x.sub(y).abs().sum()'],
          variant: 2,
          says: /you summed over the batch/,
        },
      ],
    },
  },
};
