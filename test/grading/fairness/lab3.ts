import type { LabFairness } from './types';

/** Lab 3: the reparameterization (ε's gradient kept or stopped), the KL, the Bernoulli likelihood and the −ELBO. */
export const LAB3: LabFairness = {
  lab: '03-vae.ipynb',
  todos: {
    reparameterize: {
      test: 'reparameterize-check',
      correct: [
        `function reparameterize(mu: tf.Tensor, logvar: tf.Tensor, eps: tf.Tensor): tf.Tensor {
  return mu.add(logvar.div(2).exp().mul(eps));
}`,
        `function reparameterize(mu: tf.Tensor, logvar: tf.Tensor, eps: tf.Tensor): tf.Tensor {
  return tf.add(mu, tf.mul(tf.sqrt(tf.exp(logvar)), eps));
}`,
        // As genlab's own does: ε's gradient stopped (nothing trains ε).
        `function reparameterize(mu: tf.Tensor, logvar: tf.Tensor, eps: tf.Tensor): tf.Tensor {
  const constant = tf.customGrad((e) => ({ value: (e as tf.Tensor).clone(), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) }));
  const sigma = logvar.mul(0.5).exp();
  return (constant(eps) as tf.Tensor).mul(sigma).add(mu);
}`,
      ],
      mistakes: [
        { replace: ['logvar.div(2).exp()', 'logvar.exp()'], says: /you multiplied ε by σ² \(exp\(logvar\)\)/ },
        { replace: ['logvar.div(2).exp()', 'logvar'], says: /you multiplied ε by logvar itself/ },
        { replace: ['logvar.div(2).exp()', 'logvar.mul(2).exp()'], says: /σ = exp\(½·logvar\), not exp\(2·logvar\)/ },
        {
          replace: [
            'logvar.div(2).exp()',
            'tf.tensor(Array.from(logvar.dataSync(), (v) => Math.exp(v / 2)), logvar.shape)',
          ],
          says: /TensorFlow\.js finds no path from μ or log σ² to z|no gradient reaches log σ²/,
        },
      ],
    },
    'kl-normal': {
      test: 'kl-normal-check',
      correct: [
        `function klNormal(mu: tf.Tensor, logvar: tf.Tensor): tf.Tensor {
  return mu.square().add(logvar.exp()).sub(logvar).sub(1).sum(1).mul(0.5);
}`,
        `function klNormal(mu: tf.Tensor, logvar: tf.Tensor): tf.Tensor {
  return tf.sum(tf.exp(logvar).add(tf.square(mu)).sub(1).sub(logvar), -1).div(2);
}`,
        `function klNormal(mu: tf.Tensor, logvar: tf.Tensor): tf.Tensor {
  // Each dimension's term, summed by a product with a column of ones.
  const terms = tf.scalar(1).add(logvar).sub(mu.square()).sub(logvar.exp());
  return terms.matMul(tf.ones([terms.shape[1]!, 1])).reshape([-1]).mul(-0.5);
}`,
      ],
      mistakes: [
        { replace: ['.sum(1).mul(0.5);', '.sum(1).mul(-0.5);'], says: /the sign is flipped: KL = −½ Σ/ },
        {
          replace: ['add(logvar.exp())', 'add(logvar.mul(0.5).exp())'],
          says: /you used σ = exp\(½ log σ²\) where σ² = exp\(log σ²\) belongs/,
        },
        { replace: ['.sum(1).mul(0.5);', '.mean(1).mul(0.5);'], says: /you averaged over the latent dimensions/ },
        {
          replace: ['.sub(logvar).sub(1).sum(1)', '.sub(logvar).sum(1)'],
          says: /the "1 \+" inside the sum is missing/,
        },
      ],
    },
    bernoulli: {
      test: 'bernoulli-check',
      correct: [
        `function bernoulliLogLikelihood(x: tf.Tensor, logits: tf.Tensor): tf.Tensor {
  return x.mul(logits).sub(tf.softplus(logits)).sum([1, 2, 3]);
}`,
        `function bernoulliLogLikelihood(x: tf.Tensor, logits: tf.Tensor): tf.Tensor {
  // TensorFlow.js's own stable sigmoid cross-entropy, per pixel, is −log p(x_i | z).
  return tf.losses.sigmoidCrossEntropy(x, logits, undefined, 0, tf.Reduction.NONE).sum([1, 2, 3]).neg();
}`,
        `function bernoulliLogLikelihood(x: tf.Tensor, logits: tf.Tensor): tf.Tensor {
  const perPixel = x.mul(tf.logSigmoid(logits)).add(tf.scalar(1).sub(x).mul(tf.logSigmoid(logits.neg())));
  return perPixel.reshape([x.shape[0], -1]).sum(1);
}`,
      ],
      mistakes: [
        { replace: ['.sum([1, 2, 3]);', '.sum([1, 2, 3]).neg();'], says: /you returned the negative log-likelihood/ },
        { replace: ['.sum([1, 2, 3]);', '.mean([1, 2, 3]);'], says: /you averaged over pixels/ },
        {
          replace: [
            'return x.mul(logits).sub(tf.softplus(logits)).sum([1, 2, 3]);',
            'return x.mul(tf.sigmoid(logits).log()).add(tf.scalar(1).sub(x).mul(tf.scalar(1).sub(tf.sigmoid(logits)).log())).sum([1, 2, 3]);',
          ],
          says: /stable for large logits: got .*compute x·ℓ − softplus\(ℓ\)/,
        },
      ],
    },
    'negative-elbo': {
      test: 'negative-elbo-check',
      uses: ['bernoulli', 'kl-normal'],
      correct: [
        `function negativeElbo(x: tf.Tensor, logits: tf.Tensor, mu: tf.Tensor, logvar: tf.Tensor, beta = 1): tf.Tensor {
  return klNormal(mu, logvar).mul(beta).sub(bernoulliLogLikelihood(x, logits));
}`,
        `function negativeElbo(x: tf.Tensor, logits: tf.Tensor, mu: tf.Tensor, logvar: tf.Tensor, beta = 1): tf.Tensor {
  // Written out: −Σ (x ℓ − softplus ℓ) + β · ½ Σ (μ² + σ² − 1 − log σ²).
  const reconstruction = tf.softplus(logits).sub(x.mul(logits)).reshape([x.shape[0], -1]).sum(1);
  const kl = mu.square().add(logvar.exp()).sub(1).sub(logvar).sum(-1).div(2);
  return reconstruction.add(kl.mul(beta));
}`,
        `function negativeElbo(x: tf.Tensor, logits: tf.Tensor, mu: tf.Tensor, logvar: tf.Tensor, beta = 1): tf.Tensor {
  return tf.sub(tf.mul(tf.scalar(beta), klNormal(mu, logvar)), bernoulliLogLikelihood(x, logits));
}`,
      ],
      mistakes: [
        {
          replace: [
            '.mul(beta).sub(bernoulliLogLikelihood(x, logits))',
            '.mul(beta).add(bernoulliLogLikelihood(x, logits))',
          ],
          says: /the reconstruction term has the wrong sign/,
        },
        {
          replace: ['klNormal(mu, logvar).mul(beta).sub(', 'klNormal(mu, logvar).mul(-beta).sub('],
          says: /the KL term has the wrong sign/,
        },
        {
          replace: [
            'return klNormal(mu, logvar).mul(beta).sub(bernoulliLogLikelihood(x, logits));',
            'return bernoulliLogLikelihood(x, logits).sub(klNormal(mu, logvar).mul(beta));',
          ],
          says: /you returned the ELBO/,
        },
        {
          replace: ['klNormal(mu, logvar).mul(beta)', 'klNormal(mu, logvar)'],
          says: /β is ignored: multiply the KL term by beta/,
        },
      ],
    },
  },
};
