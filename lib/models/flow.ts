/**
 * A normalizing flow for 28×28 8-bit images: RealNVP's affine couplings, checkerboard and channel masks,
 * squeezes and a multi-scale architecture (Dinh, Sohl-Dickstein & Bengio 2017, "Density estimation using
 * Real NVP").
 *
 * A flow is an invertible map f from data x to a code z = f(x) with a simple density, p(z) = N(0, I); by the
 * change of variables the data's density is exact:
 *
 *   log p(x) = log p(z) + log |det ∂f/∂x|,   z = f(x).
 *
 * Sampling runs the map backwards: z ~ N(0, I), x = f⁻¹(z), one pass. f is a chain of layers whose inverses and
 * log-determinants are cheap:
 *
 * - an affine coupling leaves the part of its input a mask b selects unchanged and scales and shifts the rest
 *   by functions of it: y = b⊙x + (1 − b)⊙(x⊙exp(s(b⊙x)) + t(b⊙x)). Its Jacobian is triangular, so
 *   log |det| = Σ (1 − b)⊙s, and x = b⊙y + (1 − b)⊙((y − t(b⊙y))⊙exp(−s(b⊙y))) inverts it exactly, whatever
 *   the networks s and t are. The mask is a checkerboard over the pixels, or half of the channels;
 * - a squeeze turns each 2 × 2 × c block into 1 × 1 × 4c (a permutation: log |det| = 0), so that the next
 *   couplings mix pixels that were neighbours;
 * - after each scale but the last, half the channels leave the flow as part of z (the multi-scale
 *   architecture): the later, deeper layers work on fewer dimensions.
 * - after each coupling an ActNorm (Glow's, lib/layers/act_norm.ts) scales and shifts each channel by learned
 *   amounts, set from the first training batch so that each starts at mean 0 and variance 1: the couplings' bounded
 *   scales then need not carry the data's overall scale (600 steps of lab 6's flow: 1.600 bits/dim with, 1.674
 *   without, on 500 test images at α = 0.01).
 *
 * Images: an 8-bit image x ∈ {0, …, 255}^D is dequantized, y = (x + u) / 256 with u ~ U[0, 1)^D, and moved to
 * the real line by a logit, w = logit(α + (1 − 2α) y). Since a continuous density over y bounds the discrete
 * likelihood (Theis, van den Oord & Bethge 2016),
 *
 *   −log P(x) ≤ E_u[−log p(y)] + D log 256,   bits/dim = (E_u[−log p(y)] + D log 256) / (D ln 2),
 *
 * which is what `evaluate` reports.
 */
import * as tf from '@tensorflow/tfjs';
import { answerKey } from '../answer_keys';
import { Batch } from '../data/batches';
import { GenlabError } from '../errors';
import { ActNorm } from '../layers/act_norm';
import { standardNormalLogDensity } from '../losses';
import { Random, rngFor } from '../random';
import { History, StepResult } from '../train';
import {
  checkImageBatch,
  GenerativeFamily,
  IMAGE_PIXELS,
  imagesOf,
  initializers,
  Parts,
  positiveInteger,
  runTrainingLoop,
  sumOverBatches,
  TrainOptions,
  unkept,
  WeightAverage,
} from './kit';

/* ---------- the layers: squeeze, masks, the affine coupling ---------- */

/** Squeeze: [N, H, W, C] → [N, H/2, W/2, 4C], each 2 × 2 block of pixels becoming one pixel's channels. */
export function squeeze(x: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  if (h % 2 || w % 2) throw new GenlabError(`squeeze needs an even height and width, got [${x.shape}].`);
  return tf.tidy(() =>
    x
      .reshape([n, h / 2, 2, w / 2, 2, c])
      .transpose([0, 1, 3, 2, 4, 5])
      .reshape([n, h / 2, w / 2, 4 * c]),
  );
}

/** The inverse of `squeeze`: [N, H, W, 4C] → [N, 2H, 2W, C]. */
export function unsqueeze(x: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c4] = x.shape;
  if (c4 % 4) throw new GenlabError(`unsqueeze needs channels in fours, got [${x.shape}].`);
  const c = c4 / 4;
  return tf.tidy(() =>
    x
      .reshape([n, h, w, 2, 2, c])
      .transpose([0, 1, 3, 2, 4, 5])
      .reshape([n, 2 * h, 2 * w, c]),
  );
}

/**
 * The checkerboard mask b over an h × w image with c channels, [1, h, w, c]: b = 1 (kept) where (row + column +
 * parity) is even, for every channel.
 */
export function checkerboardMask(h: number, w: number, c: number, parity: 0 | 1): tf.Tensor4D {
  const values = new Float32Array(h * w * c);
  for (let r = 0; r < h; r++)
    for (let col = 0; col < w; col++)
      values.fill((r + col + parity) % 2 === 0 ? 1 : 0, (r * w + col) * c, (r * w + col + 1) * c);
  return tf.tensor4d(values, [1, h, w, c]);
}

/**
 * One affine coupling. A checkerboard coupling keeps the pixels where its mask b is 1 (every channel) and changes
 * the others; a channel coupling keeps half the channels (the first, or with `flip` the second) and changes the
 * other half. The network maps the kept part to [s_raw, t] for the changed part; s = tanh(s_raw) keeps each
 * scale within (1/e, e).
 */
export type Coupling =
  | { kind: 'checkerboard'; mask: tf.Tensor4D; net: tf.LayersModel }
  | { kind: 'channel'; flip: boolean; net: tf.LayersModel };

/** Σ over every axis but the first: one number per example. */
const sumPerExample = (x: tf.Tensor): tf.Tensor1D => x.reshape([x.shape[0], -1]).sum(1) as tf.Tensor1D;

/** The two halves of the last axis, [kept, changed] for a channel coupling. */
function halves(x: tf.Tensor, flip: boolean): [tf.Tensor, tf.Tensor] {
  const c = x.shape[x.rank - 1];
  if (c % 2) throw new GenlabError(`a channel coupling splits the channels in halves: ${c} is odd.`);
  const [a, b] = tf.split(x, 2, -1);
  return flip ? [b, a] : [a, b];
}

/** [kept, changed] in the input's order again. */
const joinHalves = (kept: tf.Tensor, changed: tf.Tensor, flip: boolean) =>
  tf.concat(flip ? [changed, kept] : [kept, changed], -1);

/** s_raw and t, the two heads of a coupling's network, for the kept part. */
function heads(net: tf.LayersModel, kept: tf.Tensor): [tf.Tensor, tf.Tensor] {
  const [sRaw, t] = net.apply(kept) as tf.Tensor[];
  return [sRaw, t];
}

/** s and t of a checkerboard coupling for input x, 0 where b = 1: the network sees b⊙x. */
function checkerboardScaleAndShift(
  mask: tf.Tensor4D,
  net: tf.LayersModel,
  x: tf.Tensor,
): { s: tf.Tensor; t: tf.Tensor } {
  const [sRaw, t] = heads(net, x.mul(mask));
  const changed = tf.scalar(1).sub(mask);
  return { s: tf.tanh(sRaw).mul(changed), t: t.mul(changed) };
}

/**
 * The coupling forward, y = b⊙x + (1 − b)⊙(x⊙exp(s) + t), and log |det ∂y/∂x| = Σ s per example. An answer key
 * (lab 6 asks for it, for any mask b).
 */
export const couplingForward = answerKey(
  'couplingForward',
  function couplingForward(coupling: Coupling, x: tf.Tensor): { y: tf.Tensor; logDet: tf.Tensor1D } {
    return tf.tidy(() => {
      if (coupling.kind === 'checkerboard') {
        const { s, t } = checkerboardScaleAndShift(coupling.mask, coupling.net, x);
        // Where b = 1, s = t = 0, so x⊙exp(s) + t = x: one expression covers both parts.
        return { y: x.mul(tf.exp(s)).add(t), logDet: sumPerExample(s) };
      }
      const [kept, changed] = halves(x, coupling.flip);
      const [sRaw, t] = heads(coupling.net, kept);
      const s = tf.tanh(sRaw);
      return { y: joinHalves(kept, changed.mul(tf.exp(s)).add(t), coupling.flip), logDet: sumPerExample(s) };
    });
  },
);

/**
 * The coupling inverse: x = b⊙y + (1 − b)⊙((y − t)⊙exp(−s)), s and t from the kept part, which y and x share. An
 * answer key (lab 6).
 */
export const couplingInverse = answerKey(
  'couplingInverse',
  function couplingInverse(coupling: Coupling, y: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      if (coupling.kind === 'checkerboard') {
        const { s, t } = checkerboardScaleAndShift(coupling.mask, coupling.net, y);
        return y.sub(t).mul(tf.exp(s.neg()));
      }
      const [kept, changed] = halves(y, coupling.flip);
      const [sRaw, t] = heads(coupling.net, kept);
      return joinHalves(kept, changed.sub(t).mul(tf.exp(tf.tanh(sRaw).neg())), coupling.flip);
    });
  },
);

/**
 * A coupling's network, from `inputs` channels (features, for vectors) to two heads of `outputs` channels each, s_raw
 * and t: a 3 × 3 convolution in (dense, for vectors), `blocks` residual blocks (h ← h + conv1×1(relu(conv3×3(relu(h))))),
 * and a 3 × 3 convolution out for each head. The heads start at zero, so each coupling starts as the identity. (Two
 * heads, not one split in two: tfjs's wasm backend slices a tensor's last axis in JavaScript, a fifth of a step.)
 */
export function couplingNet(
  inputs: number,
  outputs: number,
  hidden: number,
  rng: Random,
  imageSize?: [number, number],
  blocks = 1,
): tf.LayersModel {
  const input = tf.input({ shape: imageSize ? [...imageSize, inputs] : [inputs] });
  const zero = { kernelInitializer: 'zeros' as const, biasInitializer: 'zeros' as const };
  const layer = (units: number, kernelSize: number, init: object) =>
    imageSize
      ? tf.layers.conv2d({ filters: units, kernelSize, padding: 'same', ...init })
      : tf.layers.dense({ units, ...init });
  const relu = () => tf.layers.activation({ activation: 'relu' });
  const on = (l: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) => l.apply(x) as tf.SymbolicTensor;
  let h = on(layer(hidden, 3, initializers(rng)), input);
  for (let b = 0; b < blocks; b++) {
    let r = on(layer(hidden, 3, { activation: 'relu', ...initializers(rng, 'relu') }), on(relu(), h));
    r = on(layer(hidden, 1, initializers(rng)), r);
    // No normalisation layer here: tfjs-layers 4.22's LayerNormalization made a training step ten times slower.
    h = on(tf.layers.add(), [h, r]);
  }
  const top = on(relu(), h);
  return tf.model({ inputs: input, outputs: [on(layer(outputs, 3, zero), top), on(layer(outputs, 3, zero), top)] });
}

/* ---------- the multi-scale image flow ---------- */

export interface FlowConfig {
  /** Hidden channels of each coupling's network (default 48). */
  filters?: number;
  /** Residual blocks in each coupling's network (default 1). */
  blocks?: number;
  /**
   * Scales (default 2): each has 3 checkerboard couplings, a squeeze and 3 channel couplings, after which half the
   * channels leave as part of z; a last block of 4 checkerboard couplings follows. 28 → 14 → 7 allows 1 or 2.
   */
  scales?: number;
  /**
   * α of the logit preprocessing, w = logit(α + (1 − 2α) y) (default 0.001). The likelihood is exact for any α; what α
   * changes is how hard it is to learn. MNIST is mostly black pixels, whose grey-level cell [0, 1/256) in y becomes
   * [logit α, logit(α + (1 − 2α)/256)] in w: 0.07 wide at RealNVP's α = 0.05, which the flow must stretch to about
   * the width of the Gaussian through couplings whose scale is bounded (e^{±1} each); at 0.001 it is 1.6 wide. On lab
   * 6's flow after 600 steps (500 test images): 1.893 bits/dim at α = 0.05, 1.600 at 0.01, 1.497 at 0.001, 1.491 at 1e-4.
   */
  alpha?: number;
  /** Seed for the weight initialisers. */
  seed?: number;
}

/** The layers of the flow, in order from data to code. */
type Step =
  | { kind: 'coupling'; coupling: Coupling }
  /** A per-channel affine map after each coupling (lib/layers/act_norm.ts), set from the first batch's statistics. */
  | { kind: 'actnorm'; norm: ActNorm }
  | { kind: 'squeeze' }
  /** Half the channels (the second half) leave the flow here as part of z. */
  | { kind: 'factor-out' };

export interface Flow {
  /**
   * Every coupling's network and every ActNorm, as one model (what is saved): for C couplings, inputs 0 … C − 1 and
   * outputs 2k, 2k + 1 are coupling k's network, input C + k and output 2C + k the ActNorm after it.
   */
  networks: tf.LayersModel;
  steps: Step[];
  alpha: number;
  config: Required<Omit<FlowConfig, 'seed'>>;
  /** Whether the ActNorms have been set from data (by the first training step, or by the training that saved them). */
  initialized: boolean;
}

const DEFAULTS = { filters: 48, blocks: 1, scales: 2, alpha: 0.001 };

/** How `plan` gets coupling `index`'s network and the ActNorm after it, for an h × w × c input. */
interface Makers {
  net: (inputs: number, outputs: number, imageSize: [number, number], index: number) => tf.LayersModel;
  norm: (shape: [number, number, number], index: number) => ActNorm;
}

/** The architecture as a list of steps: each coupling is followed by an ActNorm. */
function plan(config: Required<Omit<FlowConfig, 'seed'>>, make: Makers): Step[] {
  const steps: Step[] = [];
  let [h, w, c] = [28, 28, 1];
  let index = 0;
  const coupling = (coupling: Coupling) => {
    steps.push({ kind: 'coupling', coupling }, { kind: 'actnorm', norm: make.norm([h, w, c], index) });
    index++;
  };
  const checkerboard = (parity: 0 | 1) =>
    coupling({ kind: 'checkerboard', mask: checkerboardMask(h, w, c, parity), net: make.net(c, c, [h, w], index) });
  const channel = (flip: boolean) => coupling({ kind: 'channel', flip, net: make.net(c / 2, c / 2, [h, w], index) });
  for (let scale = 0; scale < config.scales; scale++) {
    for (let k = 0; k < 3; k++) checkerboard((k % 2) as 0 | 1);
    steps.push({ kind: 'squeeze' });
    [h, w, c] = [h / 2, w / 2, 4 * c];
    for (let k = 0; k < 3; k++) channel(k % 2 === 1);
    steps.push({ kind: 'factor-out' });
    c /= 2;
  }
  for (let k = 0; k < 4; k++) checkerboard((k % 2) as 0 | 1);
  return steps;
}

/** `value` if it is a whole number ≥ 0; otherwise a GenlabError naming the setting. */
function wholeNumber(value: number, what: string): number {
  if (!Number.isInteger(value) || value < 0) throw new GenlabError(`${what} must be a whole number ≥ 0, got ${value}.`);
  return value;
}

function resolved(config: FlowConfig): Required<Omit<FlowConfig, 'seed'>> {
  const scales = positiveInteger(config.scales ?? DEFAULTS.scales, 'scales');
  if (scales > 2)
    throw new GenlabError(`A 28 × 28 image halves twice at most (28 → 14 → 7): scales is 1 or 2, got ${scales}.`);
  const alpha = config.alpha ?? DEFAULTS.alpha;
  if (!(alpha > 0 && alpha < 0.5))
    throw new GenlabError(
      `alpha is in (0, 0.5), got ${alpha}${alpha === 0 ? ': at 0 a black pixel dequantized with u = 0 has logit(0) = −∞' : ''}.`,
    );
  return {
    filters: positiveInteger(config.filters ?? DEFAULTS.filters, 'filters'),
    blocks: wholeNumber(config.blocks ?? DEFAULTS.blocks, 'blocks'),
    scales,
    alpha,
  };
}

/**
 * The flow's networks and ActNorms joined into one model (layers shared), so that it saves and loads as one: see
 * `Flow.networks` for where each is.
 */
function joined(nets: tf.LayersModel[], norms: tf.SymbolicTensor[][]): tf.LayersModel {
  return tf.model({
    inputs: [...nets.map((n) => n.inputs[0]), ...norms.map(([input]) => input)],
    outputs: [...nets.flatMap((n) => n.outputs), ...norms.map(([, output]) => output)],
  });
}

/** A new multi-scale flow; `config.seed` fixes every initial weight. Its ActNorms are the identity until the first training step. */
export function createFlow(config: FlowConfig = {}): Flow {
  const full = resolved(config);
  const rng = rngFor(config.seed);
  const nets: tf.LayersModel[] = [];
  const norms: tf.SymbolicTensor[][] = [];
  const steps = plan(full, {
    net: (inputs, outputs, imageSize) => {
      const net = couplingNet(inputs, outputs, full.filters, rng, imageSize, full.blocks);
      nets.push(net);
      return net;
    },
    norm: (shape) => {
      const norm = new ActNorm();
      const input = tf.input({ shape });
      norms.push([input, norm.apply(input) as tf.SymbolicTensor]);
      return norm;
    },
  });
  return { networks: joined(nets, norms), steps, alpha: full.alpha, config: full, initialized: false };
}

/** Frees a flow's tensors: its networks' weights and its checkerboard masks (`networks.dispose()` leaves the masks). */
export function disposeFlow(flow: Flow): void {
  for (const step of flow.steps)
    if (step.kind === 'coupling' && step.coupling.kind === 'checkerboard') step.coupling.mask.dispose();
  flow.networks.dispose();
}

/** The flow again from its saved networks (trained: its ActNorms are set) and the config it was made with. */
export function flowFromNetworks(networks: tf.LayersModel, config: FlowConfig = {}): Flow {
  const full = resolved(config);
  // Half the inputs are the couplings' networks, half the ActNorms after them.
  const couplings = networks.inputs.length / 2;
  const mismatch = (count: number) =>
    new GenlabError(
      `These networks hold ${couplings} couplings; a flow with this config (${JSON.stringify(full)}) has ${count}: load it with the config it was trained with.`,
    );
  let count = 0;
  const steps = plan(full, {
    net: (_inputs, _outputs, _size, index) => {
      count++;
      if (index >= couplings) throw mismatch(count);
      return tf.model({ inputs: networks.inputs[index], outputs: networks.outputs.slice(2 * index, 2 * index + 2) });
    },
    norm: (_shape, index) => {
      const layer = networks.outputs[2 * couplings + index]?.sourceLayer;
      if (!(layer instanceof ActNorm))
        throw new GenlabError(
          `These networks have no ActNorm after coupling ${index}: they are not a flow of this lab's architecture (every coupling followed by an ActNorm).`,
        );
      return layer;
    },
  });
  if (count !== couplings) throw mismatch(count);
  // Trained networks have their ActNorms set; an untrained flow's (every one still the identity) are set by the
  // first training step, as a new flow's are.
  const initialized = steps.some((s) => s.kind === 'actnorm' && !s.norm.isIdentity());
  return { networks, steps, alpha: full.alpha, config: full, initialized };
}

/**
 * Sets every ActNorm from a batch of preprocessed data w (Glow's data-dependent initialisation): each, in order,
 * so that its output on this batch has mean 0 and variance 1 per channel, given the ones before it.
 */
export function initializeActNorms(flow: Flow, w: tf.Tensor): void {
  tf.tidy(() => {
    let h = w;
    for (const step of flow.steps) {
      if (step.kind === 'actnorm') step.norm.initializeFrom(h);
      h = forwardStep(step, h).h;
    }
  });
  flow.initialized = true;
}

/** The trainable variables of every coupling. */
const variablesOf = (flow: Flow) => flow.networks.trainableWeights.map((w) => w.read() as tf.Variable);

/**
 * The dequantized images y = (x + u) / 256, x = round(255 · images) ∈ {0, …, 255}, u ~ U[0, 1) drawn from `seed`.
 * `images` are in [0, 1] as `loadMnist` gives them (x / 255).
 */
export function dequantize(images: tf.Tensor, seed: number): tf.Tensor {
  return tf.tidy(() =>
    images
      .mul(255)
      .round()
      .add(tf.randomUniform(images.shape, 0, 1, 'float32', seed))
      .div(256),
  );
}

/**
 * The logit preprocessing w = logit(s), s = α + (1 − 2α) y, with log |dw/dy| summed per example:
 * Σ [log(1 − 2α) − log s − log(1 − s)].
 */
export function logitTransform(y: tf.Tensor, alpha: number): { w: tf.Tensor; logDet: tf.Tensor1D } {
  return tf.tidy(() => {
    const s = y.mul(1 - 2 * alpha).add(alpha);
    const logS = tf.log(s);
    const log1mS = tf.log(tf.scalar(1).sub(s));
    return {
      w: logS.sub(log1mS),
      logDet: sumPerExample(
        log1mS
          .add(logS)
          .neg()
          .add(Math.log(1 - 2 * alpha)),
      ),
    };
  });
}

/** One step of the flow forward: its output, its log |det| per example (if not 0), and what left the flow. */
function forwardStep(step: Step, h: tf.Tensor): { h: tf.Tensor; logDet?: tf.Tensor1D; leaving?: tf.Tensor } {
  switch (step.kind) {
    case 'squeeze':
      return { h: squeeze(h as tf.Tensor4D) };
    case 'factor-out': {
      const c = h.shape[3]!;
      const [kept, leaving] = tf.split(h, [c / 2, c / 2], 3);
      return { h: kept, leaving };
    }
    case 'actnorm': {
      const { y, logDet } = step.norm.forward(h);
      return { h: y, logDet };
    }
    case 'coupling': {
      const { y, logDet } = couplingForward(step.coupling, h);
      return { h: y, logDet };
    }
  }
}

/** The flow from preprocessed data w to its code: z (flattened, [N, D]) and Σ log |det| of the layers per example. */
export function forward(flow: Flow, w: tf.Tensor): { z: tf.Tensor2D; logDet: tf.Tensor1D } {
  return tf.tidy(() => {
    let h = w;
    let logDet: tf.Tensor = tf.zeros([w.shape[0]]);
    const out: tf.Tensor[] = [];
    for (const step of flow.steps) {
      const r = forwardStep(step, h);
      h = r.h;
      if (r.logDet) logDet = logDet.add(r.logDet);
      if (r.leaving) out.push(r.leaving.reshape([h.shape[0], -1]));
    }
    out.push(h.reshape([h.shape[0], -1]));
    return { z: tf.concat(out, 1) as tf.Tensor2D, logDet: logDet as tf.Tensor1D };
  });
}

/** The flow backwards: from codes z [N, D] to preprocessed data w [N, 28, 28, 1]. */
export function inverse(flow: Flow, z: tf.Tensor2D): tf.Tensor4D {
  return tf.tidy(() => {
    // The shapes along the way, to cut z into the parts that left at each factor-out.
    const shapes: number[][] = [];
    let shape = [28, 28, 1];
    for (const step of flow.steps) {
      if (step.kind === 'squeeze') shape = [shape[0] / 2, shape[1] / 2, shape[2] * 4];
      else if (step.kind === 'factor-out') {
        shape = [shape[0], shape[1], shape[2] / 2];
        shapes.push(shape);
      }
    }
    const size = (s: number[]) => s[0] * s[1] * s[2];
    const n = z.shape[0];
    const parts = tf.split(z, [...shapes.map(size), size(shape)], 1);
    let h: tf.Tensor = parts[parts.length - 1].reshape([n, ...shape]);
    let leaving = shapes.length - 1;
    for (let i = flow.steps.length - 1; i >= 0; i--) {
      const step = flow.steps[i];
      if (step.kind === 'squeeze') h = unsqueeze(h as tf.Tensor4D);
      else if (step.kind === 'factor-out') {
        h = tf.concat([h, parts[leaving].reshape([n, ...shapes[leaving]])], 3);
        leaving--;
      } else if (step.kind === 'actnorm') h = step.norm.inverse(h);
      else h = couplingInverse(step.coupling, h);
    }
    return h as tf.Tensor4D;
  });
}

/**
 * A flow's −log p(x) per example from its code z = f(x) and Σ log |det ∂f/∂x|: the change of variables with a
 * standard normal base density, −[log N(z; 0, I) + log |det|]. An answer key (lab 6).
 */
export const flowNegativeLogLikelihood = answerKey(
  'flowNegativeLogLikelihood',
  function flowNegativeLogLikelihood(z: tf.Tensor, logDet: tf.Tensor): tf.Tensor1D {
    return tf.tidy(() => standardNormalLogDensity(z).add(logDet).neg() as tf.Tensor1D);
  },
);

/**
 * −log p(y) in nats for each dequantized image y in [0, 1)^D, [N, 28, 28, 1]:
 * −[log N(z; 0, I) + Σ log |det| of the layers + log |dw/dy| of the preprocessing].
 */
export function negativeLogDensity(flow: Flow, y: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => {
    const pre = logitTransform(y, flow.alpha);
    const { z, logDet } = forward(flow, pre.w);
    return flowNegativeLogLikelihood(z, logDet.add(pre.logDet));
  });
}

/**
 * Bits per dimension of 8-bit images from −log p(y) (nats per image) of their dequantized copies y = (x + u) / 256:
 * (−log p(y) + D log 256) / (D ln 2). An answer key (lab 6).
 */
export const dequantizedBitsPerDim = answerKey(
  'dequantizedBitsPerDim',
  function dequantizedBitsPerDim(nllNats: number, dims: number = IMAGE_PIXELS): number {
    return nllNats / (dims * Math.LN2) + 8;
  },
);

/* ---------- the contract's verbs ---------- */

export interface FlowStepOptions {
  /** Seed of the dequantization noise u. */
  seed: number;
}

/** One gradient step: the batch's mean −log p(y) on freshly dequantized images, in nats and bits/dim. */
export function trainStep(
  flow: Flow,
  optimizer: tf.Optimizer,
  batch: Batch | tf.Tensor,
  options: FlowStepOptions,
): StepResult {
  const x = imagesOf(batch);
  checkImageBatch(x, 'flow.trainStep');
  const y = dequantize(x, options.seed);
  if (!flow.initialized) tf.tidy(() => initializeActNorms(flow, logitTransform(y, flow.alpha).w));
  const loss = optimizer.minimize(() => negativeLogDensity(flow, y).mean() as tf.Scalar, true, variablesOf(flow))!;
  y.dispose();
  const nll = unkept(loss);
  return { loss: nll, bitsPerDim: dequantizedBitsPerDim(nll.dataSync()[0]) };
}

export interface TrainFlowOptions extends TrainOptions {
  /**
   * Keep an exponential moving average of the networks' weights (the ActNorms' too) in `into`
   * (`createWeightAverage(flow.networks)`), w̄ ← β w̄ + (1 − β) w after every step: evaluate and sample from
   * `flowFromNetworks(into.model, config)`. Flows are often evaluated with such an average (Polyak averaging), which
   * smooths the last steps' noise.
   */
  average?: { into: WeightAverage; decay: number };
}

/** Trains the flow by maximum likelihood on dequantized images (Adam; `seed` fixes batches and noise). */
export function trainFlow(flow: Flow, images: tf.Tensor, options: TrainFlowOptions): Promise<History> {
  checkImageBatch(images, 'trainFlow');
  return runTrainingLoop({
    images,
    options,
    defaults: { batchSize: 64, learningRate: 1e-3, label: 'flow' },
    average: options.average && { of: flow.networks, ...options.average },
    step: (round) => trainStep(flow, round.optimizers.model, round.batch(), { seed: round.noiseSeed() }),
  });
}

export interface FlowEvaluation {
  /** E_u[−log p(y)] per image, nats (the continuous density of the dequantized images). */
  negativeLogLikelihood: number;
  /** The 8-bit images' bits per dimension, (E_u[−log p(y)] + D log 256) / (D ln 2): an upper bound. */
  bitsPerDim: number;
}

/** −log p and bits/dim over a dataset, in batches, with one draw of the dequantization noise from `seed`. */
export function evaluate(
  flow: Flow,
  x: tf.Tensor,
  options: { batchSize?: number; seed?: number } = {},
): FlowEvaluation {
  checkImageBatch(x, 'flow.evaluate');
  const seed = options.seed ?? 0;
  const [total] = sumOverBatches(x, options.batchSize ?? 100, (b, i) =>
    negativeLogDensity(flow, dequantize(b, seed + i)),
  );
  const nll = total / x.shape[0];
  return { negativeLogLikelihood: nll, bitsPerDim: dequantizedBitsPerDim(nll) };
}

/**
 * n images from the flow in one pass: z ~ N(0, T² I) from `seed`, x = f⁻¹(z), undone preprocessing, in [0, 1].
 * `temperature` T < 1 draws from the denser middle of the code space (Kingma & Dhariwal 2018): cleaner digits,
 * less variety.
 */
export function sample(flow: Flow, n: number, seed: number, options: { temperature?: number } = {}): tf.Tensor4D {
  positiveInteger(n, 'n');
  const temperature = options.temperature ?? 1;
  return tf.tidy(() => {
    const z = tf.randomNormal([n, IMAGE_PIXELS], 0, temperature, 'float32', seed) as tf.Tensor2D;
    return fromCode(flow, z);
  });
}

/** Images in [0, 1] from codes: x = f⁻¹(z), then y = (σ(w) − α) / (1 − 2α), clipped. */
export function fromCode(flow: Flow, z: tf.Tensor2D): tf.Tensor4D {
  return tf.tidy(
    () =>
      tf
        .sigmoid(inverse(flow, z))
        .sub(flow.alpha)
        .div(1 - 2 * flow.alpha)
        .clipByValue(0, 1) as tf.Tensor4D,
  );
}

/** Codes of images (dequantized with `seed`): z = f(w(y)), [N, 784], for interpolation in z. */
export function toCode(flow: Flow, images: tf.Tensor, seed = 0): tf.Tensor2D {
  checkImageBatch(images, 'flow.toCode');
  return tf.tidy(() => forward(flow, logitTransform(dequantize(images, seed), flow.alpha).w).z);
}

export const family = {
  name: 'flow',
  create: createFlow,
  trainStep,
  train: trainFlow,
  evaluate,
  sample,
  partNames: ['networks'],
  parts: (flow: Flow) => ({ networks: flow.networks }),
  fromParts: (parts: Parts, config: FlowConfig) => flowFromNetworks(parts.networks, config),
} satisfies GenerativeFamily<Flow, FlowConfig, tf.Tensor, TrainFlowOptions, FlowEvaluation>;
