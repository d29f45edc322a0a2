import type { LabFairness } from './types';

/**
 * Lab 6: the affine coupling forward and backward (the mask applied to s and t or to their effect, tf.where-free or
 * broadcast first, any sum over the non-batch axes), the flow's −log p (genlab's standard normal or written out) and
 * bits per dimension (D from the size or the shape; nats converted before or after the 8 bits).
 */
export const LAB6: LabFairness = {
  lab: '06-flows.ipynb',
  todos: {
    'coupling-forward': {
      test: 'coupling-forward-check',
      correct: [
        `function couplingForward(x: tf.Tensor, mask: tf.Tensor, net: (kept: tf.Tensor) => tf.Tensor[]): { y: tf.Tensor; logDet: tf.Tensor } {
  const inverseMask = tf.sub(1, mask);
  const [s, t] = net(x.mul(mask));
  const y = tf.add(tf.mul(mask, x), tf.mul(inverseMask, tf.add(tf.mul(x, tf.exp(s)), t)));
  const logDet = tf.sum(tf.mul(inverseMask, s).reshape([x.shape[0], -1]), 1);
  return { y, logDet };
}`,
        // s and t masked first, so that one expression covers both parts; the sum over every non-batch axis by list.
        `function couplingForward(x: tf.Tensor, mask: tf.Tensor, net: (kept: tf.Tensor) => tf.Tensor[]): { y: tf.Tensor; logDet: tf.Tensor } {
  const change = tf.onesLike(mask).sub(mask);
  const [rawS, rawT] = net(x.mul(mask));
  const s = rawS.mul(change);
  const t = rawT.mul(change);
  const axes = Array.from({ length: x.rank - 1 }, (_, i) => i + 1);
  return { y: x.mul(s.exp()).add(t), logDet: s.sum(axes) };
}`,
        // The mask broadcast to the batch first, inside tf.tidy.
        `function couplingForward(x: tf.Tensor, mask: tf.Tensor, net: (kept: tf.Tensor) => tf.Tensor[]): { y: tf.Tensor; logDet: tf.Tensor } {
  return tf.tidy(() => {
    const b = tf.broadcastTo(mask, x.shape);
    const notB = tf.scalar(1).sub(b);
    const outputs = net(tf.mul(x, b));
    const scaled = x.mul(tf.exp(outputs[0].mul(notB))).add(outputs[1].mul(notB));
    const logDet = outputs[0].mul(notB).reshape([x.shape[0], -1]).sum(-1);
    return { y: scaled, logDet };
  });
}`,
      ],
      mistakes: [
        {
          replace: [
            'tf.add(tf.mul(mask, x), tf.mul(inverseMask, tf.add(tf.mul(x, tf.exp(s)), t)))',
            'tf.add(tf.mul(x, tf.exp(s)), t)',
          ],
          says: /the kept coordinate changed/,
        },
        { replace: ['tf.mul(x, tf.exp(s))', 'tf.mul(x, tf.exp(tf.neg(s)))'], says: /you scaled by exp\(−s\)/ },
        {
          replace: ['tf.add(tf.mul(x, tf.exp(s)), t)', 'tf.mul(tf.add(x, t), tf.exp(s))'],
          says: /you shifted before scaling/,
        },
        { replace: ['net(x.mul(mask))', 'net(x)'], says: /the network saw x itself/ },
        { replace: ['tf.mul(x, tf.exp(s))', 'tf.mul(x, s)'], says: /you multiplied x by s; the scale is exp\(s\)/ },
        {
          replace: ['const logDet = tf.sum(', 'const logDet = tf.neg(tf.sum('],
          also: [['), 1);', '), 1));']],
          says: /the sign is flipped: scaling by exp\(s\)/,
        },
        {
          replace: ['tf.mul(inverseMask, s).reshape', 's.reshape'],
          says: /you summed s over the kept coordinates too/,
        },
        { replace: ['const logDet = tf.sum(', 'const logDet = tf.mean('], says: /you averaged s over the dimensions/ },
        {
          replace: ['tf.mul(inverseMask, s).reshape', 'tf.mul(inverseMask, tf.exp(s)).reshape'],
          says: /log \|det\| is Σ s, not Σ exp\(s\)/,
        },
        {
          replace: [
            'tf.sum(tf.mul(inverseMask, s).reshape([x.shape[0], -1]), 1)',
            'tf.sum(tf.mul(inverseMask, s), -1)',
          ],
          says: /log \|det\| has shape \[2,2,2\]; sum over every axis but the batch/,
        },
        {
          replace: ['const [s, t] = net(x.mul(mask));', 'const [s0, t0] = net(x.mul(mask));'],
          also: [
            [
              'const y = ',
              'const s = tf.tensor(s0.dataSync(), s0.shape);\n  const t = tf.tensor(t0.dataSync(), t0.shape);\n  const y = ',
            ],
          ],
          says: /TensorFlow\.js finds no path from the network's weights to y and log \|det\|/,
        },
        {
          // Only s's path cut: a gradient still arrives, through t, but not the right one.
          replace: ['const [s, t] = net(x.mul(mask));', 'const [s0, t] = net(x.mul(mask));'],
          also: [['const y = ', 'const s = tf.tensor(s0.dataSync(), s0.shape);\n  const y = ']],
          says: /couplingForward: the gradient that reaches the network/,
        },
      ],
    },
    'coupling-inverse': {
      test: 'coupling-inverse-check',
      correct: [
        `function couplingInverse(y: tf.Tensor, mask: tf.Tensor, net: (kept: tf.Tensor) => tf.Tensor[]): tf.Tensor {
  const [s, t] = net(y.mul(mask));
  const undone = tf.mul(tf.sub(y, t), tf.exp(tf.neg(s)));
  return tf.add(tf.mul(mask, y), tf.mul(tf.sub(1, mask), undone));
}`,
        `function couplingInverse(y: tf.Tensor, mask: tf.Tensor, net: (kept: tf.Tensor) => tf.Tensor[]): tf.Tensor {
  const change = tf.onesLike(mask).sub(mask);
  const [s, t] = net(y.mul(mask)).map((v) => v.mul(change));
  return y.sub(t).div(s.exp());
}`,
        `function couplingInverse(y: tf.Tensor, mask: tf.Tensor, net: (kept: tf.Tensor) => tf.Tensor[]): tf.Tensor {
  return tf.tidy(() => {
    const b = tf.broadcastTo(mask, y.shape);
    const [s, t] = net(b.mul(y));
    const x = y.sub(t).mul(s.neg().exp());
    return tf.where(b.greater(0.5), y, x);
  });
}`,
      ],
      mistakes: [
        { replace: ['tf.exp(tf.neg(s))', 'tf.exp(s)'], says: /you multiplied by exp\(s\); the inverse divides by it/ },
        {
          replace: ['tf.mul(tf.sub(y, t), tf.exp(tf.neg(s)))', 'tf.sub(tf.mul(y, tf.exp(tf.neg(s))), t)'],
          says: /undo the shift before the scale/,
        },
        {
          replace: ['return tf.add(tf.mul(mask, y), tf.mul(tf.sub(1, mask), undone));', 'return undone;'],
          says: /the kept coordinate changed: the inverse, too, acts only where the mask is 0/,
        },
        { replace: ['net(y.mul(mask))', 'net(y)'], says: /the network saw y itself/ },
      ],
    },
    'flow-nll': {
      test: 'flow-nll-check',
      correct: [
        `function flowNegativeLogLikelihood(z: tf.Tensor, logDet: tf.Tensor): tf.Tensor {
  return standardNormalLogDensity(z).add(logDet).neg();
}`,
        // Written out: ½ Σ z² + (D/2) log 2π − log |det|.
        `function flowNegativeLogLikelihood(z: tf.Tensor, logDet: tf.Tensor): tf.Tensor {
  const d = z.size / z.shape[0];
  return z.square().reshape([z.shape[0], -1]).sum(1).mul(0.5).add(0.5 * d * Math.log(2 * Math.PI)).sub(logDet);
}`,
        `function flowNegativeLogLikelihood(z: tf.Tensor, logDet: tf.Tensor): tf.Tensor {
  const axes = Array.from({ length: z.rank - 1 }, (_, i) => i + 1);
  const logBase = tf.mul(-0.5, tf.sum(tf.add(tf.square(z), Math.log(2 * Math.PI)), axes));
  return tf.neg(tf.add(logBase, logDet));
}`,
      ],
      mistakes: [
        {
          replace: ['standardNormalLogDensity(z).add(logDet).neg()', 'standardNormalLogDensity(z).neg()'],
          says: /the log-determinant is missing/,
        },
        { replace: ['.add(logDet).neg()', '.sub(logDet).neg()'], says: /the log-determinant has the wrong sign/ },
        { replace: ['.add(logDet).neg()', '.add(logDet)'], says: /you returned log p\(x\); the loss is its negative/ },
        {
          replace: ['.add(logDet).neg()', '.add(logDet).neg().div(z.size / z.shape[0])'],
          says: /you averaged over the dimensions/,
        },
        {
          variant: 1,
          replace: ['.add(0.5 * d * Math.log(2 * Math.PI))', ''],
          says: /the constant \(D\/2\) log 2π is missing/,
        },
        {
          variant: 1,
          replace: ['0.5 * d * Math.log', '0.5 * Math.log'],
          says: /the constant is \(D\/2\) log 2π: ½ log 2π for each dimension/,
        },
        { variant: 1, replace: ['.sum(1).mul(0.5)', '.sum(1)'], says: /log N\(z; 0, I\) has ½ Σ z², not Σ z²/ },
      ],
    },
    'bits-per-dim': {
      test: 'bits-per-dim-check',
      correct: [
        `function dequantizedBitsPerDim(nll: tf.Tensor, images: tf.Tensor): tf.Tensor {
  const dims = images.size / images.shape[0];
  return nll.div(dims * Math.LN2).add(8);
}`,
        `function dequantizedBitsPerDim(nll: tf.Tensor, images: tf.Tensor): tf.Tensor {
  const [, h, w, c] = images.shape;
  return tf.add(tf.div(nll, h * w * c * Math.log(2)), 8);
}`,
        // The 8-bit likelihood's bound in nats first, then to bits per dimension.
        `function dequantizedBitsPerDim(nll: tf.Tensor, images: tf.Tensor): tf.Tensor {
  const dims = images.shape.slice(1).reduce((a, b) => a * b, 1);
  return nll.add(dims * Math.log(256)).div(dims * Math.LN2);
}`,
      ],
      mistakes: [
        {
          replace: ['nll.div(dims * Math.LN2).add(8)', 'nll.div(dims * Math.LN2)'],
          says: /the D log 256 term is missing/,
        },
        {
          replace: ['nll.div(dims * Math.LN2).add(8)', 'nll.div(dims).add(Math.log(256))'],
          says: /these are nats per dimension/,
        },
        {
          replace: ['nll.div(dims * Math.LN2).add(8)', 'nll.div(dims).add(8)'],
          says: /convert −log p\(y\) from nats to bits/,
        },
        {
          replace: ['images.size / images.shape[0]', 'images.size'],
          says: /D is the number of dimensions of one image/,
        },
        { replace: ['.add(8)', '.sub(8)'], says: /the sign of the 8 is flipped/ },
        { variant: 1, replace: ['h * w * c * Math.log(2)', 'h * w * Math.log(2)'], says: /D counts the channels too/ },
      ],
    },
  },
};
