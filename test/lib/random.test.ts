import * as assert from 'assert';
import { Random } from '../../lib/random';
import { pick, profile } from '../../lib/run_size';
import { withEnv } from '../helpers';

describe('Random and profiles', () => {
  it('is reproducible for a seed and roughly uniform', () => {
    const a = new Random(42);
    const b = new Random(42);
    const xs = Array.from({ length: 10000 }, () => a.next());
    assert.deepStrictEqual(
      xs.slice(0, 5),
      Array.from({ length: 5 }, () => b.next()),
    );
    const mean = xs.reduce((s, v) => s + v, 0) / xs.length;
    // Uniform(0,1): mean 1/2, standard error sqrt(1/12/10000) ≈ 0.0029.
    assert.ok(Math.abs(mean - 0.5) < 0.015, `mean ${mean}`);
    assert.ok(xs.every((v) => v >= 0 && v < 1));
  });

  it('draws standard normals with mean 0 and variance 1', () => {
    const r = new Random(1);
    const xs = Array.from({ length: 20000 }, () => r.normal());
    const mean = xs.reduce((s, v) => s + v, 0) / xs.length;
    const variance = xs.reduce((s, v) => s + (v - mean) ** 2, 0) / xs.length;
    assert.ok(Math.abs(mean) < 0.04 && Math.abs(variance - 1) < 0.05, `mean ${mean}, variance ${variance}`);
  });

  it('makes permutations', () => {
    const p = Array.from(new Random(9).permutation(50));
    assert.deepStrictEqual(
      [...p].sort((a, b) => a - b),
      Array.from({ length: 50 }, (_, i) => i),
    );
    assert.notDeepStrictEqual(
      p,
      Array.from({ length: 50 }, (_, i) => i),
    );
  });

  it('reads the profile from GENLAB_PROFILE (default full) and picks values by it', async () => {
    await withEnv({ GENLAB_PROFILE: undefined }, () => assert.strictEqual(profile(), 'full'));
    await withEnv({ GENLAB_PROFILE: 'smoke' }, () => assert.strictEqual(pick({ full: 1000, smoke: 5 }), 5));
    await withEnv({ GENLAB_PROFILE: 'FULL' }, () => assert.strictEqual(pick({ full: 1000, smoke: 5 }), 1000));
  });
});
