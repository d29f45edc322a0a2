/**
 * The training loop for custom steps.
 *
 * `fit({ steps, step })` calls `step(i)` for i = 0..steps-1 inside `tf.tidy`, so
 * every tensor a step creates is freed; the step returns its loss terms (scalars
 * or numbers), which are recorded in a history that plots directly
 * (`plotHistory(history)`). Progress shows in place in a notebook and as a bar in
 * a terminal. The loop yields to the event loop between steps so the notebook's
 * live output is sent while training runs and an interrupt is honoured.
 */
import * as tf from '@tensorflow/tfjs';
import { GenlabError } from './errors';
import { lineChart } from './viz/plotly';
import { progress } from './viz/progress';

export type StepResult = Record<string, tf.Scalar | number>;

export interface FitOptions {
  steps: number;
  /** One training step (forward, backward, update); returns its loss terms. Must be synchronous. */
  step: (i: number) => StepResult;
  /** Called after a step with its values, outside the tidy scope (sample grids, checkpoints). */
  onStep?: (i: number, values: Record<string, number>) => void | Promise<void>;
  label?: string;
  /** Record the history every k steps (default 1). */
  recordEvery?: number;
  quiet?: boolean;
}

export interface History {
  /** Step numbers (1-based: the number of steps done) at which values were recorded. */
  step: number[];
  /** Each loss term's values, aligned with `step`. */
  values: Record<string, number[]>;
  seconds: number;
  stepsPerSecond: number;
}

/**
 * A cosine learning-rate schedule: η(t) = η_min + ½ (η_0 − η_min)(1 + cos(π t / T)),
 * from η_0 at step 0 to η_min at step T (and η_min after). Assign it to an
 * optimizer each step with `setLearningRate(optimizer, schedule(i))`.
 */
export function cosineSchedule(initial: number, final: number, totalSteps: number): (step: number) => number {
  if (!(totalSteps > 0)) throw new GenlabError(`cosineSchedule needs totalSteps > 0, got ${totalSteps}.`);
  return (step) =>
    final + 0.5 * (initial - final) * (1 + Math.cos(Math.PI * Math.min(1, Math.max(0, step / totalSteps))));
}

/**
 * Changes an optimizer's learning rate between steps. tfjs's Adam, RMSProp, Adagrad…
 * read their (protected) `learningRate` field on every update; SGD and Momentum keep
 * a cached copy that their own setter refreshes. This is the one place that knows.
 */
export function setLearningRate(optimizer: tf.Optimizer, value: number): void {
  const o = optimizer as unknown as { learningRate?: unknown; setLearningRate?: (v: number) => void };
  if (typeof o.learningRate !== 'number')
    throw new GenlabError(
      `setLearningRate: this optimizer (${optimizer.getClassName()}) has no numeric learning rate to change.`,
    );
  if (!(value > 0) || !Number.isFinite(value))
    throw new GenlabError(`setLearningRate: the learning rate must be a positive number, got ${value}.`);
  // SGD and Momentum cache −η as a tensor and have their own setter; the others read the field.
  if (typeof o.setLearningRate === 'function') o.setLearningRate(value);
  else o.learningRate = value;
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function fit(options: FitOptions): Promise<History> {
  const { steps } = options;
  if (!Number.isInteger(steps) || steps < 0)
    throw new GenlabError(`fit: steps must be a whole number ≥ 0, got ${steps}.`);
  const recordEvery = options.recordEvery ?? 1;
  const history: History = { step: [], values: {}, seconds: 0, stepsPerSecond: 0 };
  const bar = progress(steps, { label: options.label, quiet: options.quiet });
  const start = Date.now();
  let latest: Record<string, number> = {};
  for (let i = 0; i < steps; i++) {
    const result = tf.tidy(() => options.step(i));
    latest = {};
    for (const [name, value] of Object.entries(result)) {
      latest[name] = typeof value === 'number' ? value : value.dataSync()[0];
      if (typeof value !== 'number') value.dispose();
      if (!Number.isFinite(latest[name])) {
        bar.done(latest);
        throw new GenlabError(
          `fit: '${name}' became ${latest[name]} at step ${i + 1}: training diverged; lower the learning rate or check the loss for log(0).`,
        );
      }
    }
    if ((i + 1) % recordEvery === 0 || i === steps - 1) {
      history.step.push(i + 1);
      for (const [name, v] of Object.entries(latest)) (history.values[name] ??= []).push(v);
    }
    bar.update(i + 1, latest);
    if (options.onStep) await options.onStep(i, latest);
    await yieldToEventLoop();
  }
  history.seconds = (Date.now() - start) / 1000;
  history.stepsPerSecond = steps / Math.max(history.seconds, 1e-9);
  bar.done(latest);
  return history;
}

/**
 * Plots a history's loss terms against the step. `smooth` (0..1) applies an
 * exponential moving average, v̄_t = smooth·v̄_{t−1} + (1 − smooth)·v_t.
 */
export function plotHistory(
  history: History,
  options: { title?: string; smooth?: number; terms?: string[]; logY?: boolean } = {},
): void {
  const names = options.terms ?? Object.keys(history.values);
  const a = options.smooth ?? 0;
  const series: Record<string, number[]> = {};
  for (const name of names) {
    const raw = history.values[name];
    if (!raw)
      throw new GenlabError(
        `plotHistory: the history has no term '${name}'; it has ${Object.keys(history.values).join(', ')}.`,
      );
    let avg = raw[0];
    series[name] = raw.map((v) => (avg = a * avg + (1 - a) * v));
  }
  lineChart(series, { x: history.step, title: options.title, xLabel: 'step', logY: options.logY });
}
