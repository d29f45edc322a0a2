/**
 * Faster gradients of average pooling and nearest-neighbour upsampling for the wasm backend, where their windows
 * tile the image (a U-Net's 2 × 2 pool down and 2 × 2 upsampling up).
 *
 * Then each is a block copy: the gradient of a k × l average pool spreads each dy over its k × l block, divided by
 * k·l; the gradient of a k × l nearest-neighbour upsampling sums each k × l block of dy. wasm 4.22 runs both as
 * general index loops (AvgPoolGrad: 14 ms for [64, 28, 28, 32]; ResizeNearestNeighborGrad: 27 ms for
 * [64, 28, 28, 64]), a sixth of a diffusion training step. Here they are loops over the heap in place, one pass over
 * dy each. Overlapping or padded pools, resizes by a fraction and align-corners resizes keep the stock kernels.
 */
import * as tf from '@tensorflow/tfjs';
import { KernelArgs, replaceWasmKernel, stockWasmKernel, TensorInfo, WasmBackend } from './wasm_compose';
import { heapView } from './wasm_heap';

/**
 * dx[n, i, j, c] = scale · dy[n, ⌊i / k⌋, ⌊j / l⌋, c] for i < k·outH, j < l·outW; 0 outside (the rows and columns a
 * valid pool left over).
 */
function spreadBlocks(
  dy: Float32Array,
  dx: Float32Array,
  [n, inH, inW, c]: number[],
  [outH, outW]: number[],
  [k, l]: number[],
  scale: number,
): void {
  if (outH * k < inH || outW * l < inW) dx.fill(0);
  for (let b = 0; b < n; b++)
    for (let oi = 0; oi < outH; oi++)
      for (let oj = 0; oj < outW; oj++) {
        const src = ((b * outH + oi) * outW + oj) * c;
        for (let di = 0; di < k; di++)
          for (let dj = 0; dj < l; dj++) {
            const dst = ((b * inH + oi * k + di) * inW + oj * l + dj) * c;
            for (let ch = 0; ch < c; ch++) dx[dst + ch] = dy[src + ch] * scale;
          }
      }
}

/** The pool's windows where they tile the image (no overlap, no padding): [k, l] and the output's [oh, ow]. */
export function tilingWindows(
  shape: number[],
  attrs: {
    filterSize: number | [number, number];
    strides: number | [number, number];
    pad: unknown;
    dimRoundingMode?: unknown;
  },
): { k: number; l: number; oh: number; ow: number } | undefined {
  if (shape.length !== 4) return undefined;
  const info = tf.backend_util.computePool2DInfo(
    shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad as 'valid',
    attrs.dimRoundingMode as 'floor' | undefined,
  );
  const p = info.padInfo;
  const [k, l] = [info.filterHeight, info.filterWidth];
  if (k !== info.strideHeight || l !== info.strideWidth || p.top || p.left || p.bottom || p.right) return undefined;
  return { k, l, oh: info.outHeight, ow: info.outWidth };
}

/**
 * [k, l] where an image of [h, w] is resized to [k·h, l·w] without align-corners: pixel (i, j) is then copied to the
 * block from (k·i, l·j), with or without half-pixel centres (the stock kernels' sources, ⌊y · h / (k·h)⌋).
 */
export function wholeNumberUpsampling(
  inShape: number[],
  outShape: number[],
  alignCorners: boolean,
): [number, number] | undefined {
  const [h, w] = inShape.slice(1, 3);
  const [oh, ow] = outShape.slice(1, 3);
  if (alignCorners || inShape.length !== 4 || h === 0 || w === 0 || oh % h !== 0 || ow % w !== 0) return undefined;
  return [oh / h, ow / w];
}

function avgPoolGrad(args: KernelArgs): TensorInfo {
  const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
  const t = dy.dtype === 'float32' ? tilingWindows(input.shape, args.attrs as never) : undefined;
  if (!t) return stockWasmKernel('AvgPoolGrad')!.kernelFunc(args as never) as TensorInfo;
  const backend = args.backend as WasmBackend;
  const dx = backend.makeOutput(input.shape, 'float32');
  spreadBlocks(
    heapView(backend, dy) as Float32Array,
    heapView(backend, dx) as Float32Array,
    input.shape,
    [t.oh, t.ow],
    [t.k, t.l],
    1 / (t.k * t.l),
  );
  return dx;
}

/** dx[n, i, j, c] = Σ over the k × l block of dy that (i, j) was copied to. */
function sumBlocks(dy: Float32Array, dx: Float32Array, [n, inH, inW, c]: number[], [k, l]: number[]): void {
  const outW = inW * l;
  dx.fill(0);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < inH; i++)
      for (let j = 0; j < inW; j++) {
        const dst = ((b * inH + i) * inW + j) * c;
        for (let di = 0; di < k; di++)
          for (let dj = 0; dj < l; dj++) {
            const src = ((b * inH * k + i * k + di) * outW + j * l + dj) * c;
            for (let ch = 0; ch < c; ch++) dx[dst + ch] += dy[src + ch];
          }
      }
}

function resizeNearestNeighborGrad(args: KernelArgs): TensorInfo {
  const { images, dy } = args.inputs as { images: TensorInfo; dy: TensorInfo };
  const { alignCorners } = args.attrs as unknown as tf.ResizeNearestNeighborGradAttrs;
  const blocks = dy.dtype === 'float32' ? wholeNumberUpsampling(images.shape, dy.shape, alignCorners) : undefined;
  if (!blocks) return stockWasmKernel('ResizeNearestNeighborGrad')!.kernelFunc(args as never) as TensorInfo;
  const backend = args.backend as WasmBackend;
  const dx = backend.makeOutput(images.shape, 'float32');
  sumBlocks(heapView(backend, dy) as Float32Array, heapView(backend, dx) as Float32Array, images.shape, blocks);
  return dx;
}

/** Replaces wasm's AvgPoolGrad and ResizeNearestNeighborGrad with block loops where the windows tile (once). */
export function registerWasmBlockGrads(): void {
  replaceWasmKernel('AvgPoolGrad', avgPoolGrad);
  replaceWasmKernel('ResizeNearestNeighborGrad', resizeNearestNeighborGrad);
}
