/**
 * Two-dimensional toy data, for models whose density can be drawn as a picture (lab 6's flow, lab 7's diffusion).
 */
import * as tf from '@tensorflow/tfjs';
import { GenlabError } from '../errors';
import { Random } from '../random';

/** How `twoMoons` places its points: the half circles' centre (−0.5, −0.25) moves to the origin, then × 1.5. */
export const MOONS_SHIFT = [0.5, 0.25] as const;
export const MOONS_SCALE = 1.5;

/**
 * n points, [n, 2], on two interleaving half circles (scikit-learn's `make_moons`): the even-numbered points on the
 * upper moon (cos θ, sin θ), the odd-numbered on the lower one (1 − cos θ, ½ − sin θ), so that any slice holds both
 * moons; θ uniform in [0, π], each coordinate with
 * Gaussian noise of standard deviation `noise` (default 0.05) added; then centred and scaled (× 1.5) so that both
 * coordinates lie within about ±2.3, where a standard normal base density has its mass.
 */
export function twoMoons(n: number, options: { noise?: number; seed?: number } = {}): tf.Tensor2D {
  if (!Number.isInteger(n) || n < 1) throw new GenlabError(`twoMoons needs a whole number of points ≥ 1, got ${n}.`);
  const noise = options.noise ?? 0.05;
  if (!(noise >= 0)) throw new GenlabError(`twoMoons: noise is a standard deviation ≥ 0, got ${noise}.`);
  const rng = new Random(options.seed ?? 0);
  const points = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const theta = Math.PI * rng.next();
    const [x, y] = i % 2 === 0 ? [Math.cos(theta), Math.sin(theta)] : [1 - Math.cos(theta), 0.5 - Math.sin(theta)];
    points[2 * i] = (x + noise * rng.normal() - MOONS_SHIFT[0]) * MOONS_SCALE;
    points[2 * i + 1] = (y + noise * rng.normal() - MOONS_SHIFT[1]) * MOONS_SCALE;
  }
  return tf.tensor2d(points, [n, 2]);
}
