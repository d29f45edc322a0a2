/**
 * A faster `Sum` for the wasm backend over leading axes.
 *
 * Every bias gradient sums dy [N, H, W, C] over N, H and W. tfjs-backend-wasm 4.22
 * reduces only innermost axes, so it first transposes the whole tensor to put C in
 * front: 15 ms for a [64, 28, 28, 64] gradient, of which the sum is a fraction.
 * Over leading axes the sum is a product with a row of ones — [1, N·H·W] · [N·H·W, C]
 * — which reads the tensor once, in place.
 */
import * as tf from '@tensorflow/tfjs';
import { compose, KernelArgs, replaceWasmKernel, stockWasmKernel, TensorInfo } from './wasm_compose';

function sum(args: KernelArgs): TensorInfo {
  const { x } = args.inputs as { x: TensorInfo };
  const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
  const axes = tf.util.parseAxisParam(axis, x.shape).sort((a, b) => a - b);
  const leading = axes.length > 0 && axes.length < x.shape.length && axes.every((a, i) => a === i);
  if (!leading || x.dtype !== 'float32') return stockWasmKernel('Sum')!.kernelFunc(args as never) as TensorInfo;
  const outer = x.shape.slice(0, axes.length).reduce((a, b) => a * b, 1);
  const kept = x.shape.slice(axes.length);
  const inner = kept.reduce((a, b) => a * b, 1);
  return compose(args.backend, (k) => {
    const ones = k.run('Fill', {}, { shape: [1, 1, outer], value: 1, dtype: 'float32' });
    const product = k.run('BatchMatMul', { a: ones, b: k.reshape(x, [1, outer, inner]) }, { transposeA: false, transposeB: false });
    return k.reshape(product, keepDims ? [...axes.map(() => 1), ...kept] : kept);
  });
}

/** Replaces wasm's Sum with one that reduces leading axes by a product with ones (once). */
export function registerWasmSum(): void {
  replaceWasmKernel('Sum', sum);
}
