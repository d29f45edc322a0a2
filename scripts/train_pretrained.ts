/**
 * `npm run train:pretrained -- [name …] [--steps name=N …] [--measure-only]`: trains the course's
 * pretrained models (all of them, or those named), measures each on the whole MNIST test set and
 * on the small held-out check the tests repeat, and writes pretrained/<name>/ (tfjs layers format)
 * and its entry in pretrained/manifest.json (figures, seed, steps, commit, SHA-256 of every
 * file). Run it once, on a quiet machine: it takes a while (the default steps are each lab's
 * full profile or more), and the files it writes are committed. `--measure-only` trains nothing:
 * it measures the shipped files again and rewrites only their figures (after a change to a
 * measure, or when a run was cut short between saving and measuring).
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import {
  backendInfo,
  classifier,
  conditionalGan,
  CONDITIONAL_DCGAN_RECIPE,
  createWeightAverage,
  DCGAN_RECIPE,
  diffusion,
  DIFFUSION_RECIPE,
  flow,
  FLOW_RECIPE,
  gan,
  init,
  loadMnist,
  pixelcnn,
  PIXELCNN_RECIPE,
  saveModel,
  tf,
  vae,
  VAE_RECIPE,
  type PretrainedEntry,
  type PretrainedName,
} from '../lib';
import { parseCommandLine } from '../lib/command_line';
import { GenlabError } from '../lib/errors';
import {
  loadPretrained,
  measurePretrained,
  PRETRAINED_PARTS,
  pretrainedDir,
  pretrainedFiles,
  readManifest,
  sha256,
  type PretrainedManifest,
  type PretrainedModels,
} from '../lib/pretrained';

/** How each model is built and trained: the lab's own configuration, trained for `steps`. */
interface Plan {
  lab: string;
  description: string;
  steps: number;
  config: Record<string, unknown>;
  options: Record<string, unknown>;
  train: (
    steps: number,
    data: ReturnType<typeof loadMnist>,
  ) => Promise<{ model: unknown; parts: Record<string, tf.LayersModel> }>;
}

const PLANS: Record<PretrainedName, Plan> = {
  'mnist-judge': {
    lab: '05-gan',
    description:
      "The CNN that judges lab 5's samples (digits covered, confidence, Fréchet distance), as classifier.loadOrTrainMnistClassifier trains it.",
    steps: 1500,
    config: { architecture: 'cnn', seed: 1 },
    options: { batchSize: 64, learningRate: 1e-3 },
    async train(steps, { train }) {
      const model = classifier.createClassifier(this.config as classifier.ClassifierConfig);
      await classifier.trainClassifier(model, train, { steps, label: 'mnist-judge' });
      return { model, parts: { model } };
    },
  },
  'vae-mlp': {
    lab: '03-vae',
    description: "Lab 3's MLP VAE (VAE_RECIPE.model), trained with VAE_RECIPE.training.",
    steps: 20_000,
    config: { ...VAE_RECIPE.model },
    options: { ...VAE_RECIPE.training },
    async train(steps, { train }) {
      const model = vae.createVae(VAE_RECIPE.model);
      await vae.trainVae(model, train.images, { ...VAE_RECIPE.training, steps, label: 'vae-mlp' });
      return { model, parts: { encoder: model.encoder, decoder: model.decoder } };
    },
  },
  pixelcnn: {
    lab: '04-pixelcnn',
    description:
      "Lab 4's PixelCNN (PIXELCNN_RECIPE: a 7 × 7 mask-A layer, twelve residual 3 × 3 mask-B layers of 24 channels, two 1 × 1 layers), trained with the lab's learning rates (its cosine spread over the longer run) in batches of 32.",
    steps: 20_000,
    config: { ...PIXELCNN_RECIPE.model },
    // Batches of 32, not the lab's 16: the lab halves its batch to fit more steps into a class period, while a long
    // run gains more from more images per step.
    options: { ...PIXELCNN_RECIPE.training, batchSize: 32 },
    async train(steps, { train }) {
      const model = pixelcnn.createPixelCnn(PIXELCNN_RECIPE.model);
      await pixelcnn.trainPixelCnn(model, train.images, {
        ...PIXELCNN_RECIPE.training,
        batchSize: 32,
        steps,
        label: 'pixelcnn',
      });
      return { model, parts: { model } };
    },
  },
  dcgan: {
    lab: '05-gan',
    description:
      "Lab 5's DCGAN (filters [32, 64]) trained with the non-saturating loss, Adam(1e-3, β₁ = 0.5), batch 64; its generator is the exponential moving average of G's weights (β = 0.999), which `gan.sample` draws from.",
    steps: 3000,
    config: { ...DCGAN_RECIPE.model },
    options: { ...DCGAN_RECIPE.training, averageGenerator: 0.999 },
    async train(steps, { train }) {
      const model = gan.createGan(DCGAN_RECIPE.model);
      await gan.trainGan(model, train.images, {
        ...DCGAN_RECIPE.training,
        averageGenerator: 0.999,
        steps,
        label: 'dcgan',
      });
      const averaged = { ...model, generator: model.average!.model, average: undefined };
      return { model: averaged, parts: { generator: averaged.generator, discriminator: model.discriminator } };
    },
  },
  'conditional-dcgan': {
    lab: '05-gan',
    description:
      "Lab 5's conditional DCGAN (conditionalGan.createConditionalGan, filters [32, 64]: the DCGAN's networks told the digit, a projection discriminator) trained as the lab trains it, with the non-saturating loss, Adam(1e-3, β₁ = 0.5), batch 64, for longer.",
    steps: 4000,
    config: { ...CONDITIONAL_DCGAN_RECIPE.model },
    options: { ...CONDITIONAL_DCGAN_RECIPE.training },
    async train(steps, { train }) {
      const model = conditionalGan.createConditionalGan(CONDITIONAL_DCGAN_RECIPE.model);
      await conditionalGan.trainConditionalGan(model, train, {
        ...CONDITIONAL_DCGAN_RECIPE.training,
        steps,
        label: 'conditional-dcgan',
      });
      return { model, parts: { generator: model.generator, discriminator: model.discriminator } };
    },
  },
  diffusion: {
    lab: '07-diffusion',
    description:
      "Lab 7's U-Net (DIFFUSION_RECIPE.model: v-prediction on DDPM's linear schedule of 1,000 steps) trained as the lab trains it (Adam from 1e-3 along a cosine to 5e-5, batches of 64, a tenth of the labels dropped) for longer; its network is the exponential moving average of the weights (β = 0.999). Measured as PRETRAINED_DIFFUSION_SAMPLING samples: DDIM in 20 steps at guidance w = 1.5.",
    steps: 8000,
    config: { ...DIFFUSION_RECIPE.model },
    options: { ...DIFFUSION_RECIPE.training, batchSize: DIFFUSION_RECIPE.batchSize.full, averageDecay: 0.999 },
    async train(steps, { train }) {
      const model = diffusion.createDiffusion(DIFFUSION_RECIPE.model);
      const into = await createWeightAverage(model.network);
      await diffusion.trainDiffusion(model, train, {
        ...DIFFUSION_RECIPE.training,
        batchSize: DIFFUSION_RECIPE.batchSize.full,
        steps,
        average: { into, decay: 0.999 },
        label: 'diffusion',
      });
      const averaged = diffusion.diffusionFromNetwork(into.model, DIFFUSION_RECIPE.model);
      return { model: averaged, parts: { network: into.model } };
    },
  },
  flow: {
    lab: '06-flows',
    description:
      "Lab 6's flow (FLOW_RECIPE.model: RealNVP's multi-scale affine couplings, each followed by an ActNorm, on 8-bit digits dequantized afresh each step) trained as the lab trains it (Adam along a cosine, batches of 64) for longer; its networks are the exponential moving average of the weights (β = 0.999). Measured in bits/dim on the test images, dequantized with the measure's seed.",
    steps: 11000, // 80 minutes on 2 cores with the native kernels (8,000 took 55 and measured 1.212; the lab: 2,000)
    config: { ...FLOW_RECIPE.model },
    options: { ...FLOW_RECIPE.training, batchSize: FLOW_RECIPE.batchSize.full, averageDecay: 0.999 },
    async train(steps, { train }) {
      const model = flow.createFlow(FLOW_RECIPE.model);
      const into = await createWeightAverage(model.networks);
      await flow.trainFlow(model, train.images, {
        ...FLOW_RECIPE.training,
        batchSize: FLOW_RECIPE.batchSize.full,
        steps,
        average: { into, decay: 0.999 },
        label: 'flow',
      });
      const averaged = flow.flowFromNetworks(into.model, FLOW_RECIPE.model);
      return { model: averaged, parts: { networks: into.model } };
    },
  },
};

/** The held-out check every test repeats: the first 500 test images, seed 0. */
const CHECK = { images: 500, seed: 0 };
const TOLERANCE: Record<PretrainedName, number> = {
  'vae-mlp': 0.5,
  pixelcnn: 0.5,
  dcgan: 0.02,
  'conditional-dcgan': 0.02,
  'mnist-judge': 0.5,
  diffusion: 0.02,
  // bits/dim of one draw of the noise: the backends' float order moves it by about 1e-4.
  flow: 0.01,
};
const CHECK_FIGURE: Record<PretrainedName, string> = {
  'vae-mlp': 'test −ELBO (nats)',
  pixelcnn: 'test NLL (nats)',
  dcgan: 'mean judge confidence',
  'conditional-dcgan': 'mean judge confidence',
  'mnist-judge': 'test accuracy (%)',
  diffusion: 'mean judge confidence',
  flow: 'test bits/dim',
};

function commit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'lib', 'scripts'], { encoding: 'utf8' }).trim();
    return dirty ? `${head}+changes` : head;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

interface Request {
  names: PretrainedName[];
  steps: Partial<Record<PretrainedName, number>>;
  measureOnly: boolean;
}

function parseArgs(argv: string[]): Request {
  const known = Object.keys(PLANS) as PretrainedName[];
  const { flags, positionals } = parseCommandLine(
    'npm run train:pretrained',
    argv,
    { steps: { kind: 'list', value: 'name=N' }, 'measure-only': { kind: 'boolean' } },
    { max: known.length },
  );
  const measureOnly = flags['measure-only'] === true;
  if (measureOnly && flags.steps)
    throw new GenlabError('--measure-only trains nothing, so it takes no --steps: give one or the other.');
  const steps: Partial<Record<PretrainedName, number>> = {};
  for (const given of (flags.steps as string[] | undefined) ?? []) {
    const [name, n] = given.split('=');
    if (!known.includes(name as PretrainedName) || !(Number(n) > 0) || !Number.isInteger(Number(n)))
      throw new GenlabError(
        `--steps takes name=N (N a whole number of steps) with a name among ${known.join(', ')}, got '${given}'.`,
      );
    steps[name as PretrainedName] = Number(n);
  }
  for (const name of positionals)
    if (!known.includes(name as PretrainedName))
      throw new GenlabError(`unknown pretrained model '${name}'; there are: ${known.join(', ')}.`);
  // The judge first: the DCGAN's figures are the judge's.
  return { names: positionals.length ? known.filter((n) => positionals.includes(n)) : known, steps, measureOnly };
}

/** The figures of `name`'s saved files, as a student's loadPretrained will see them, written into its entry. */
async function measure(name: PretrainedName, entry: PretrainedEntry, dir: string): Promise<void> {
  const loaded = (await loadPretrained(name, dir)) as PretrainedModels[PretrainedName];
  entry.figures = await measurePretrained(name, loaded, { images: 10_000, seed: 0, dir });
  entry.check.value = (await measurePretrained(name, loaded, { ...CHECK, dir }))[CHECK_FIGURE[name]];
}

const describeFigures = (entry: PretrainedEntry) =>
  `${Object.entries(entry.figures)
    .map(([k, v]) => `${k} ${v.toFixed(3)}`)
    .join(', ')}; check ${entry.check.value.toFixed(3)}`;

async function main(): Promise<void> {
  const { names, steps: stepsOf, measureOnly } = parseArgs(process.argv.slice(2));
  await init();
  const dir = pretrainedDir();
  const manifestFile = path.join(dir, 'manifest.json');
  const manifest: PretrainedManifest = fs.existsSync(manifestFile) ? readManifest(dir) : { models: {} };
  if (measureOnly) {
    for (const name of names) {
      const entry = manifest.models[name];
      if (!entry)
        throw new GenlabError(
          `pretrained/manifest.json has no '${name}' to measure: train it with \`npm run train:pretrained -- ${name}\`.`,
        );
      await measure(name, entry, dir);
      fs.writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
      console.log(`${name}: measured again; ${describeFigures(entry)}`);
    }
    return;
  }
  const data = loadMnist();
  for (const name of names) {
    const plan = PLANS[name];
    const steps = stepsOf[name] ?? plan.steps;
    const started = Date.now();
    const { parts } = await plan.train(steps, data);
    const seconds = (Date.now() - started) / 1000;
    fs.rmSync(path.join(dir, name), { recursive: true, force: true });
    for (const part of PRETRAINED_PARTS[name]) await saveModel(parts[part], path.join(dir, name, part));
    const files = Object.fromEntries(pretrainedFiles(name).map((f) => [f, sha256(path.join(dir, f))]));
    const entry: PretrainedEntry = {
      lab: plan.lab,
      description: plan.description,
      config: plan.config,
      files,
      figures: {},
      check: {
        figure: CHECK_FIGURE[name],
        value: NaN,
        images: CHECK.images,
        seed: CHECK.seed,
        tolerance: TOLERANCE[name],
      },
      training: {
        steps,
        seed: Number(plan.config.seed),
        seconds: Math.round(seconds),
        backend: backendInfo()?.line ?? tf.getBackend(),
        commit: commit(),
        date: new Date().toISOString().slice(0, 10),
        command: `npm run train:pretrained -- ${name} --steps ${name}=${steps}`,
        options: plan.options,
      },
    };
    manifest.models[name] = entry;
    fs.writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
    await measure(name, entry, dir);
    fs.writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
    console.log(`${name}: ${steps} steps in ${seconds.toFixed(0)} s; ${describeFigures(entry)}`);
  }
  const bytes = fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .reduce((sum, e) => sum + fs.statSync(path.join(e.parentPath, e.name)).size, 0);
  console.log(`pretrained/: ${(bytes / 2 ** 20).toFixed(1)} MB in all (at most 25 MB)`);
}

main().catch((err) => {
  console.error(err instanceof GenlabError ? (err as Error).message : `train:pretrained: ${(err as Error).message}`);
  process.exit(1);
});
