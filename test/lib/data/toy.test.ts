/** The two moons: every point on its arc when there is no noise, the noise's spread, seeds, and bad input. */
import * as assert from 'assert';
import { GenlabError } from '../../../lib/errors';
import { MOONS_SCALE, MOONS_SHIFT, twoMoons } from '../../../lib/data/toy';

/** A point back in make_moons' own coordinates. */
const unscaled = ([x, y]: number[]) => [x / MOONS_SCALE + MOONS_SHIFT[0], y / MOONS_SCALE + MOONS_SHIFT[1]];

describe('twoMoons', () => {
  it('without noise, the even-numbered points lie on the upper unit half circle and the odd-numbered on the lower one', () => {
    const points = twoMoons(101, { noise: 0, seed: 3 }).arraySync().map(unscaled);
    points.forEach(([x, y], i) => {
      // Upper: x² + y² = 1, y ≥ 0. Lower: (x − 1)² + (y − ½)² = 1, y ≤ ½.
      const [cx, cy, above] = i % 2 === 0 ? [0, 0, true] : [1, 0.5, false];
      assert.ok(Math.abs(Math.hypot(x - cx, y - cy) - 1) < 1e-5, `point ${i} (${x}, ${y}) is off its circle`);
      assert.ok(above ? y >= cy - 1e-6 : y <= cy + 1e-6, `point ${i} (${x}, ${y}) is on the wrong half`);
    });
  });

  it('adds Gaussian noise of the given standard deviation to each coordinate', () => {
    const n = 20000;
    const noisy = twoMoons(n, { noise: 0.1, seed: 5 }).arraySync().map(unscaled);
    // Each point's distance from its own circle: the noise's radial part, which for isotropic noise is N(0, σ²).
    const distances = noisy.map(([x, y], i) => Math.hypot(x - (i % 2 ? 1 : 0), y - (i % 2 ? 0.5 : 0)) - 1);
    const spread = Math.sqrt(distances.reduce((s, d) => s + d * d, 0) / n);
    assert.ok(Math.abs(spread - 0.1) < 0.005, `radial spread ${spread}`);
  });

  it('is fixed by its seed and changes with it', () => {
    assert.deepStrictEqual(twoMoons(8, { seed: 1 }).arraySync(), twoMoons(8, { seed: 1 }).arraySync());
    assert.notDeepStrictEqual(twoMoons(8, { seed: 1 }).arraySync(), twoMoons(8, { seed: 2 }).arraySync());
  });

  it('refuses a count or a noise that makes no sense, in a sentence', () => {
    assert.throws(
      () => twoMoons(0),
      (e: Error) => e instanceof GenlabError && /whole number of points/.test(e.message),
    );
    assert.throws(() => twoMoons(2.5), GenlabError);
    assert.throws(() => twoMoons(10, { noise: -1 }), /noise is a standard deviation/);
  });
});
