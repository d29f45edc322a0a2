/**
 * Every figure a lab quotes from a measurement says the same as the measurement's record: a lab quoting a later
 * lab's result quotes what that lab states, and a lab's "measured" figures are the ones its recipe in
 * lib/recipes.ts records from `npm run bench:labs`. (Pretrained models' figures are read from
 * pretrained/manifest.json by the labs at run time, so they cannot drift.)
 */
import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { projectRoot } from '../../jupyter/environment';
import { readNotebook, sourceOf } from '../../jupyter/notebook';

const ROOT = projectRoot();
const text = (lab: string) =>
  readNotebook(path.join(ROOT, 'notebooks', lab))
    .cells.map(sourceOf)
    .join('\n');
const recipes = fs.readFileSync(path.join(ROOT, 'lib', 'recipes.ts'), 'utf8');

/** The number after `pattern` (a regular expression with one group around the number) in `source`. */
function figure(source: string, pattern: RegExp, where: string): number {
  const m = pattern.exec(source);
  assert.ok(m, `${where}: no figure matches ${pattern}`);
  return Number(m[1].replace(/,/g, ''));
}

describe('quoted figures match their measurements', () => {
  const lab1 = text('01-supervised-vs-unsupervised.ipynb');
  const lab3 = text('03-vae.ipynb');
  const lab4 = text('04-pixelcnn.ipynb');

  it("lab 1 quotes lab 3's −ELBO and lab 4's NLL as those labs state them", () => {
    assert.strictEqual(
      figure(lab1, /VAE\\?'s −ELBO ≈ ([\d.]+) nats \(lab 3/, 'lab 1'),
      figure(lab3, /reach a test \$-\$ELBO of about ([\d.]+) nats/, 'lab 3'),
    );
    assert.strictEqual(
      figure(lab1, /PixelCNN\\?'s exact NLL ≈ ([\d.]+) \(lab 4\)/, 'lab 1'),
      figure(lab4, /reach a test NLL of about ([\d.]+) nats/, 'lab 4'),
    );
  });

  it('labs 3 and 4 state their full-profile figures as their recipes record them, and their mean to 0.1 as the figure to expect', () => {
    const vaeNative = figure(
      recipes,
      /([\d.]+) in [\d.]+ with the native kernels\s*\n?\s*\*?\s*\(`\[GENLAB_NATIVE=0\] npm run bench:labs -- --notebooks 03`\)/,
      'VAE_RECIPE',
    );
    const vaeWasm = figure(recipes, /steps: ([\d.]+) nats in [\d.]+ minutes with the wasm kernels alone/, 'VAE_RECIPE');
    assert.strictEqual(
      figure(lab3, /measured in the lab's own run: ([\d.]+) with the native kernels/, 'lab 3'),
      vaeNative,
    );
    assert.strictEqual(figure(lab3, /with the native kernels, ([\d.]+)\s/, 'lab 3'), vaeWasm);
    assert.strictEqual(
      figure(lab3, /ELBO of about ([\d.]+) nats/, 'lab 3'),
      Math.round(10 * ((vaeNative + vaeWasm) / 2)) / 10,
    );
    const pixelWasm = figure(recipes, /reaches ([\d.]+) in [\d.]+ minutes on wasm/, 'PIXELCNN_RECIPE');
    const pixelNative = figure(recipes, /alone and ([\d.]+) in [\d.]+ with the native kernels/, 'PIXELCNN_RECIPE');
    assert.strictEqual(figure(lab4, /measured: ([\d.]+) nats with the native kernels/, 'lab 4'), pixelNative);
    assert.strictEqual(figure(lab4, /with the native kernels, ([\d.]+) with wasm/, 'lab 4'), pixelWasm);
    assert.strictEqual(
      figure(lab4, /NLL of about ([\d.]+) nats/, 'lab 4'),
      Math.round(10 * ((pixelNative + pixelWasm) / 2)) / 10,
    );
  });

  it('lab 6 states its full-profile bits/dim as FLOW_RECIPE records it', () => {
    const lab6 = text('06-flows.ipynb');
    const recorded = figure(recipes, /Lab 6's full profile reaches ([\d.]+) bits\/dim/, 'FLOW_RECIPE');
    assert.strictEqual(
      figure(lab6, /the recipe above reached \*\*([\d.]+)\*\* in the lab's own full run/, 'lab 6'),
      recorded,
    );
    assert.strictEqual(figure(lab6, /\| the recipe: [^|]+\| 2,000 \| [^|]+\| \*\*([\d.]+)\*\* \|/, 'lab 6'), recorded);
  });

  it("lab 7 states its full-profile judge confidence, and the recipe's measured ε against v, as DIFFUSION_RECIPE records them", () => {
    const lab7 = text('07-diffusion.ipynb');
    const recorded = figure(
      recipes,
      /Lab 7's full profile reaches judge\s*\n?\s*\*?\s*confidence ([\d.]+)/,
      'DIFFUSION_RECIPE',
    );
    assert.strictEqual(figure(lab7, /the recipe reached judge confidence \*\*([\d.]+)\*\*/, 'lab 7'), recorded);
    assert.strictEqual(
      figure(lab7, /\| \*\*v \(the recipe\)\*\* \| linear \| 1,800 \| 1,000 \| 3 \| ([\d.]+) \|/, 'lab 7'),
      recorded,
    );
    const epsilonAt900 = figure(recipes, /ε against v: ([\d.]+) against [\d.]+ at w = 3/, 'DIFFUSION_RECIPE');
    const vAt900 = figure(recipes, /ε against v: [\d.]+ against ([\d.]+) at w = 3/, 'DIFFUSION_RECIPE');
    assert.strictEqual(figure(lab7, /with confidence ([\d.]+) against [\d.]+\./, 'lab 7'), epsilonAt900);
    assert.strictEqual(figure(lab7, /with confidence [\d.]+ against ([\d.]+)\./, 'lab 7'), vAt900);
  });
});
