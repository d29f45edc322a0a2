/**
 * Image grids: a batch of images as one PNG.
 */
import * as tf from '@tensorflow/tfjs';
import { GenlabError } from '../errors';
import { newLiveOutput, showPng } from './display';
import { encodePng } from './png';

export interface GridOptions {
  /** Images per row (default: ceil(sqrt(N))). */
  cols?: number;
  /** Integer upscaling, nearest neighbour (default 2: 28-pixel digits are tiny on screen). */
  scale?: number;
  /** Pixels between images, before scaling (default 1). */
  padding?: number;
  /** Intensity of the padding in [0, 1] (default 0.5). */
  padValue?: number;
  /** Value range of the input; values are clipped to it (default [0, 1]). */
  range?: [number, number];
}

function asBatch(images: tf.Tensor): { data: Float32Array; n: number; h: number; w: number; c: 1 | 3 } {
  const shape = images.shape;
  let n: number, h: number, w: number, c: number;
  if (shape.length === 4) [n, h, w, c] = shape;
  else if (shape.length === 3) [n, h, w, c] = [shape[0], shape[1], shape[2], 1];
  else if (shape.length === 2) [n, h, w, c] = [1, shape[0], shape[1], 1];
  else {
    throw new GenlabError(
      `showImages expects images shaped [N, H, W, C] (C = 1 or 3), [N, H, W] or [H, W], but got shape [${shape.join(', ')}]: reshape first, e.g. x.reshape([-1, 28, 28, 1]).`,
    );
  }
  if (c !== 1 && c !== 3) {
    throw new GenlabError(
      `showImages expects 1 (gray) or 3 (RGB) channels in the last dimension, but got shape [${shape.join(', ')}] with ${c}.`,
    );
  }
  if (n === 0) throw new GenlabError('showImages got an empty batch (0 images): there is nothing to show.');
  return { data: images.dataSync() as Float32Array, n, h, w, c: c as 1 | 3 };
}

/** Lays out a batch of images on a grid and encodes it as a PNG. */
export function imageGridPng(images: tf.Tensor, options: GridOptions = {}): Buffer {
  const { data, n, h, w, c } = asBatch(images);
  const cols = Math.max(1, Math.min(n, options.cols ?? Math.ceil(Math.sqrt(n))));
  const rows = Math.ceil(n / cols);
  const scale = options.scale ?? 2;
  const pad = options.padding ?? 1;
  const [lo, hi] = options.range ?? [0, 1];
  if (!(hi > lo)) throw new GenlabError(`range must be [low, high] with high > low, got [${lo}, ${hi}].`);
  if (!Number.isInteger(scale) || scale < 1) throw new GenlabError(`scale must be a whole number ≥ 1, got ${scale}.`);
  const gridW = (cols * (w + pad) + pad) * scale;
  const gridH = (rows * (h + pad) + pad) * scale;
  const toByte = (v: number) => Math.round(255 * Math.min(1, Math.max(0, (v - lo) / (hi - lo))));
  const pixels = new Uint8Array(gridW * gridH * c).fill(toByte(lo + (options.padValue ?? 0.5) * (hi - lo)));
  for (let i = 0; i < n; i++) {
    const top = (Math.floor(i / cols) * (h + pad) + pad) * scale;
    const left = ((i % cols) * (w + pad) + pad) * scale;
    for (let y = 0; y < h * scale; y++) {
      for (let x = 0; x < w * scale; x++) {
        const src = ((i * h + Math.floor(y / scale)) * w + Math.floor(x / scale)) * c;
        const dst = ((top + y) * gridW + left + x) * c;
        for (let k = 0; k < c; k++) pixels[dst + k] = toByte(data[src + k]);
      }
    }
  }
  return encodePng(pixels, gridW, gridH, c);
}

/** Shows a batch of images as one PNG grid in the notebook (a file outside a kernel). */
export function showImages(images: tf.Tensor, options: GridOptions = {}): void {
  showPng(imageGridPng(images, options), 'images');
}

/**
 * An image grid that redraws in place (one notebook output), for pictures that
 * change while code runs — e.g. samples filling in pixel by pixel. Outside a
 * notebook, only `done` shows the final grid (as a file).
 */
export function liveImageGrid(options: GridOptions = {}): {
  update(images: tf.Tensor): void;
  done(images: tf.Tensor): void;
} {
  const live = newLiveOutput();
  return {
    update: (images) => live?.png(imageGridPng(images, options)),
    done: (images) => (live ? live.png(imageGridPng(images, options)) : showImages(images, options)),
  };
}
