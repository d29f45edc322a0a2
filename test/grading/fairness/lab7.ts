import type { LabFairness } from './types';

/** The two types the loss's cell declares for the cells after it: every solution of that cell keeps them. */
const LOSS_TYPES = `type Denoiser = (xt: tf.Tensor, t: number[]) => tf.Tensor;
type Noising = (x0: tf.Tensor, t: number[], noise: tf.Tensor) => tf.Tensor;
`;

/**
 * Lab 7: the forward jump (ᾱ as a broadcast tensor, per example by slices, or gathered), the ε-loss (written out,
 * tf.losses, a sum over the size), the ancestral step (the ε form with t = 0 apart, DDPM's x̂_0 form whose variance
 * vanishes at t = 0 by itself, scalars as tensors) and the DDIM step (x̂_0 then the way back, powers, one
 * coefficient for x_t and one for ε̂).
 */
export const LAB7: LabFairness = {
  lab: '07-diffusion.ipynb',
  todos: {
    'q-sample': {
      test: 'q-sample-check',
      correct: [
        `function qSample(x0: tf.Tensor, t: number[], noise: tf.Tensor, schedule: diffusion.NoiseSchedule): tf.Tensor {
  const shape = [t.length, ...Array<number>(x0.rank - 1).fill(1)];
  const alphaBar = tf.tensor(t.map((s) => schedule.alphaBars[s]), shape);
  return tf.add(tf.mul(tf.sqrt(alphaBar), x0), tf.mul(tf.sqrt(tf.sub(1, alphaBar)), noise));
}`,
        // One example at a time, its factors plain numbers, joined again.
        `function qSample(x0: tf.Tensor, t: number[], noise: tf.Tensor, schedule: diffusion.NoiseSchedule): tf.Tensor {
  return tf.tidy(() =>
    tf.concat(
      t.map((s, i) => {
        const ab = schedule.alphaBars[s];
        return x0.slice(i, 1).mul(Math.sqrt(ab)).add(noise.slice(i, 1).mul(Math.sqrt(1 - ab)));
      }),
    ),
  );
}`,
        // ᾱ gathered from the whole schedule as a tensor, reshaped from x0's shape.
        `function qSample(x0: tf.Tensor, t: number[], noise: tf.Tensor, schedule: diffusion.NoiseSchedule): tf.Tensor {
  const alphaBars = tf.tensor1d(schedule.alphaBars as number[]);
  const picked = tf.gather(alphaBars, tf.tensor1d(t, 'int32'));
  const perExample = picked.reshape([-1].concat(x0.shape.slice(1).map(() => 1)));
  const noiseScale = tf.onesLike(perExample).sub(perExample).sqrt();
  return perExample.sqrt().mul(x0).add(noiseScale.mul(noise));
}`,
      ],
      mistakes: [
        { replace: ['schedule.alphaBars[s]', 'schedule.alphas[s]'], says: /you used α_t, one step's factor/ },
        {
          replace: ['tf.mul(tf.sqrt(alphaBar), x0)', 'tf.mul(alphaBar, x0)'],
          says: /the image is scaled by √ᾱ_t, not ᾱ_t/,
        },
        {
          replace: ['tf.mul(tf.sqrt(tf.sub(1, alphaBar)), noise)', 'tf.mul(tf.sub(1, alphaBar), noise)'],
          says: /the noise is scaled by √\(1 − ᾱ_t\), its standard deviation/,
        },
        {
          replace: ['tf.mul(tf.sqrt(alphaBar), x0)', 'tf.mul(alphaBar, x0)'],
          also: [['tf.mul(tf.sqrt(tf.sub(1, alphaBar)), noise)', 'tf.mul(tf.sub(1, alphaBar), noise)']],
          says: /both factors need a square root/,
        },
        {
          replace: [
            'tf.mul(tf.sqrt(alphaBar), x0), tf.mul(tf.sqrt(tf.sub(1, alphaBar)), noise)',
            'tf.mul(tf.sqrt(tf.sub(1, alphaBar)), x0), tf.mul(tf.sqrt(alphaBar), noise)',
          ],
          says: /the factors are swapped/,
        },
        { replace: ['schedule.alphaBars[s]', 'schedule.alphaBars[s - 1]'], says: /ᾱ is read one step early/ },
        { replace: ['schedule.alphaBars[s]', 'schedule.alphaBars[s + 1]'], says: /ᾱ is read one step late/ },
        {
          replace: ['schedule.alphaBars[s]', 'schedule.alphaBars[t[0]]'],
          says: /every example used the first example's step/,
        },
      ],
    },
    'epsilon-loss': {
      test: 'epsilon-loss-check',
      correct: [
        `${LOSS_TYPES}
function epsilonLoss(denoiser: Denoiser, x0: tf.Tensor, t: number[], noise: tf.Tensor, noised: Noising): tf.Scalar {
  const xt = noised(x0, t, noise);
  const predicted = denoiser(xt, t);
  return tf.mean(tf.square(tf.sub(predicted, noise))) as tf.Scalar;
}`,
        // TensorFlow.js's own mean squared error.
        `${LOSS_TYPES}
function epsilonLoss(denoiser: Denoiser, x0: tf.Tensor, t: number[], noise: tf.Tensor, noised: Noising): tf.Scalar {
  return tf.losses.meanSquaredError(noise, denoiser(noised(x0, t, noise), t)) as tf.Scalar;
}`,
        // The sum of squares over the number of elements, in a tidy.
        `${LOSS_TYPES}
function epsilonLoss(denoiser: Denoiser, x0: tf.Tensor, t: number[], noise: tf.Tensor, noised: Noising): tf.Scalar {
  return tf.tidy(() => {
    const error = noise.sub(denoiser(noised(x0, t, noise), t));
    return error.mul(error).sum().div(error.size) as tf.Scalar;
  });
}`,
      ],
      mistakes: [
        {
          replace: ['tf.sub(predicted, noise)', 'tf.sub(predicted, x0)'],
          says: /compared the network's output with x_0/,
        },
        { replace: ['denoiser(xt, t)', 'denoiser(x0, t)'], says: /the denoiser was given x_0/ },
        { replace: ['tf.mean(tf.square', 'tf.sum(tf.square'], says: /you summed the squared errors/ },
        {
          replace: [
            'tf.mean(tf.square(tf.sub(predicted, noise)))',
            'tf.mean(tf.sum(tf.square(tf.sub(predicted, noise)), -1))',
          ],
          says: /you summed over each example's coordinates/,
        },
        {
          replace: [
            'return tf.mean(tf.square(tf.sub(predicted, noise)))',
            'return tf.sqrt(tf.mean(tf.square(tf.sub(predicted, noise))))',
          ],
          says: /the root of the mean squared error/,
        },
        {
          replace: [
            'return tf.mean(tf.square(tf.sub(predicted, noise)))',
            'return tf.neg(tf.mean(tf.square(tf.sub(predicted, noise))))',
          ],
          says: /the sign is flipped: training minimises/,
        },
        {
          replace: [
            'const predicted = denoiser(xt, t);',
            'const raw = denoiser(xt, t);\n  const predicted = tf.tensor(raw.dataSync(), raw.shape);',
          ],
          says: /finds no path from the denoiser's weights to the loss/,
        },
      ],
    },
    'ancestral-step': {
      test: 'ancestral-step-check',
      correct: [
        `function ancestralStep(xt: tf.Tensor, t: number, epsilonHat: tf.Tensor, noise: tf.Tensor, schedule: diffusion.NoiseSchedule): tf.Tensor {
  const beta = schedule.betas[t];
  const alpha = schedule.alphas[t];
  const alphaBar = schedule.alphaBars[t];
  const mean = tf.div(tf.sub(xt, tf.mul(epsilonHat, beta / Math.sqrt(1 - alphaBar))), Math.sqrt(alpha));
  if (t === 0) return mean;
  const sigma = Math.sqrt((beta * (1 - schedule.alphaBars[t - 1])) / (1 - alphaBar));
  return tf.add(mean, tf.mul(noise, sigma));
}`,
        // DDPM's equation 7 from x̂_0: the posterior's variance is 0 at t = 0 by itself (ᾱ_{−1} = 1).
        `function ancestralStep(xt: tf.Tensor, t: number, epsilonHat: tf.Tensor, noise: tf.Tensor, schedule: diffusion.NoiseSchedule): tf.Tensor {
  const ab = schedule.alphaBars[t];
  const abPrev = t > 0 ? schedule.alphaBars[t - 1] : 1;
  const beta = schedule.betas[t];
  const x0 = xt.sub(epsilonHat.mul(Math.sqrt(1 - ab))).div(Math.sqrt(ab));
  const mean = x0.mul((Math.sqrt(abPrev) * beta) / (1 - ab)).add(xt.mul((Math.sqrt(schedule.alphas[t]) * (1 - abPrev)) / (1 - ab)));
  const variance = (beta * (1 - abPrev)) / (1 - ab);
  return mean.add(noise.mul(Math.sqrt(variance)));
}`,
        // The coefficients as scalar tensors, in a tidy; rsqrt for 1 / √α_t.
        `function ancestralStep(xt: tf.Tensor, t: number, epsilonHat: tf.Tensor, noise: tf.Tensor, schedule: diffusion.NoiseSchedule): tf.Tensor {
  return tf.tidy(() => {
    const coefficient = tf.scalar(schedule.betas[t]).div(tf.scalar(1 - schedule.alphaBars[t]).sqrt());
    const mean = xt.sub(epsilonHat.mul(coefficient)).mul(tf.scalar(schedule.alphas[t]).rsqrt());
    const sd = t > 0 ? Math.sqrt((schedule.betas[t] * (1 - schedule.alphaBars[t - 1])) / (1 - schedule.alphaBars[t])) : 0;
    return mean.add(noise.mul(sd));
  });
}`,
      ],
      mistakes: [
        {
          replace: [
            'const sigma = Math.sqrt((beta * (1 - schedule.alphaBars[t - 1])) / (1 - alphaBar));',
            'const sigma = Math.sqrt(beta);',
          ],
          says: /you used σ_t² = β_t/,
        },
        {
          replace: [
            'const sigma = Math.sqrt((beta * (1 - schedule.alphaBars[t - 1])) / (1 - alphaBar));',
            'const sigma = (beta * (1 - schedule.alphaBars[t - 1])) / (1 - alphaBar);',
          ],
          says: /the noise is scaled by σ_t = √β̃_t, the standard deviation/,
        },
        {
          replace: ['tf.sub(xt, tf.mul(epsilonHat', 'tf.add(xt, tf.mul(epsilonHat'],
          says: /the sign is flipped: the step removes/,
        },
        { replace: ['Math.sqrt(alpha))', 'Math.sqrt(alphaBar))'], says: /divide by √α_t, one step's factor/ },
        {
          replace: ['beta / Math.sqrt(1 - alphaBar)', 'beta / (1 - alphaBar)'],
          says: /the noise's coefficient is β_t \/ √\(1 − ᾱ_t\)/,
        },
        { replace: ['return tf.add(mean, tf.mul(noise, sigma));', 'return mean;'], says: /no noise was added/ },
        {
          replace: ['if (t === 0) return mean;', 'if (t === 0) return tf.add(mean, tf.mul(noise, Math.sqrt(beta)));'],
          says: /noise was added at the last step/,
        },
        { replace: ['  if (t === 0) return mean;\n', ''], says: /ancestralStep at t = 0 gave NaN/ },
      ],
    },
    'ddim-step': {
      test: 'ddim-step-check',
      correct: [
        `function ddimStep(xt: tf.Tensor, t: number, tPrev: number, epsilonHat: tf.Tensor, schedule: diffusion.NoiseSchedule, eta: number, noise: tf.Tensor): tf.Tensor {
  const a = schedule.alphaBars[t];
  const aPrev = tPrev >= 0 ? schedule.alphaBars[tPrev] : 1;
  const sigma = eta * Math.sqrt(((1 - aPrev) / (1 - a)) * (1 - a / aPrev));
  const predictedX0 = tf.div(tf.sub(xt, tf.mul(epsilonHat, Math.sqrt(1 - a))), Math.sqrt(a));
  const direction = tf.mul(epsilonHat, Math.sqrt(1 - aPrev - sigma ** 2));
  return tf.add(tf.add(tf.mul(predictedX0, Math.sqrt(aPrev)), direction), tf.mul(noise, sigma));
}`,
        // Powers, the variance kept as a variance, noise added only when there is some.
        `function ddimStep(xt: tf.Tensor, t: number, tPrev: number, epsilonHat: tf.Tensor, schedule: diffusion.NoiseSchedule, eta: number, noise: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const abT = schedule.alphaBars[t];
    const abS = tPrev === -1 ? 1 : schedule.alphaBars[tPrev];
    const x0 = xt.sub(epsilonHat.mul(Math.pow(1 - abT, 0.5))).mul(Math.pow(abT, -0.5));
    const variance = eta === 0 ? 0 : ((eta * eta * (1 - abS)) / (1 - abT)) * (1 - abT / abS);
    const out = x0.mul(Math.pow(abS, 0.5)).add(epsilonHat.mul(Math.pow(Math.max(0, 1 - abS - variance), 0.5)));
    return variance > 0 ? out.add(noise.mul(Math.sqrt(variance))) : out;
  });
}`,
        // One coefficient for x_t and one for ε̂, worked out on paper first.
        `function ddimStep(xt: tf.Tensor, t: number, tPrev: number, epsilonHat: tf.Tensor, schedule: diffusion.NoiseSchedule, eta: number, noise: tf.Tensor): tf.Tensor {
  const a = schedule.alphaBars[t];
  const b = tPrev < 0 ? 1 : schedule.alphaBars[tPrev];
  const s = ((eta * Math.sqrt(1 - b)) / Math.sqrt(1 - a)) * Math.sqrt(1 - a / b);
  const onX = Math.sqrt(b / a);
  const onEpsilon = Math.sqrt(Math.max(0, 1 - b - s * s)) - Math.sqrt((b * (1 - a)) / a);
  return xt.mul(onX).add(epsilonHat.mul(onEpsilon)).add(noise.mul(s));
}`,
      ],
      mistakes: [
        { replace: ['schedule.alphaBars[tPrev]', 'schedule.alphas[tPrev]'], says: /for the step you land on, not α_/ },
        {
          replace: [
            'tf.div(tf.sub(xt, tf.mul(epsilonHat, Math.sqrt(1 - a))), Math.sqrt(a))',
            'tf.div(tf.sub(xt, tf.mul(epsilonHat, Math.sqrt(1 - a))), a)',
          ],
          says: /x̂_0 divides by √ᾱ_t, not ᾱ_t/,
        },
        {
          replace: [
            'tf.add(tf.mul(predictedX0, Math.sqrt(aPrev)), direction)',
            'tf.sub(tf.mul(predictedX0, Math.sqrt(aPrev)), direction)',
          ],
          says: /the sign of the direction term is flipped/,
        },
        { replace: ['tf.mul(noise, sigma)', 'noise'], says: /with η = 0, σ = 0: no noise is added/ },
        {
          replace: ['tPrev >= 0 ? schedule.alphaBars[tPrev] : 1', 'schedule.alphaBars[Math.max(tPrev, 0)]'],
          says: /is the image, ᾱ_\{−1\} = 1/,
        },
        {
          replace: ['Math.sqrt(1 - aPrev - sigma ** 2)', 'Math.sqrt(1 - aPrev)'],
          says: /the direction term must leave room for the noise/,
        },
        {
          replace: [
            'return tf.add(tf.add(tf.mul(predictedX0, Math.sqrt(aPrev)), direction), tf.mul(noise, sigma));',
            'return tf.add(tf.mul(predictedX0, Math.sqrt(aPrev)), direction);',
          ],
          says: /with η > 0 the step adds σ z/,
        },
      ],
    },
  },
};
