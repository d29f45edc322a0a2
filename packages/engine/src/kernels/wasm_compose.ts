/**
 * Composing wasm kernels out of other wasm kernels.
 *
 * A replacement kernel runs inside the engine's kernel dispatch, so it calls the
 * backend's kernel functions directly on TensorInfos rather than tf ops. A
 * `KernelComposer` runs them and frees every intermediate when done (wasm data is
 * reference-counted, so a Reshape that shares its input's buffer frees correctly).
 */
import * as tf from '@tensorflow/tfjs';

export type TensorInfo = tf.TensorInfo;
export type WasmBackend = tf.KernelBackend & {
  disposeData(dataId: object): boolean;
  readSync(dataId: object): tf.backend_util.BackendValues;
  makeOutput(
    shape: number[],
    dtype: tf.DataType,
    memoryOffset?: number,
    values?: tf.backend_util.BackendValues,
  ): TensorInfo;
};
export interface KernelArgs {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}

/** The attributes tfjs passes to Conv2DBackpropFilter and Conv2DBackpropInput (NHWC, no dilation). */
export interface ConvGradientAttrs {
  strides: [number, number] | number;
  pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
  dataFormat: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

export class KernelComposer {
  private readonly intermediates: TensorInfo[] = [];

  constructor(readonly backend: WasmBackend) {}

  /** Runs wasm kernel `name`; its output is freed by `finish` unless it is the result. */
  run(name: string, inputs: Record<string, TensorInfo>, attrs: object = {}): TensorInfo {
    const config = tf.getKernel(name, 'wasm');
    if (!config) throw new Error(`the wasm backend has no '${name}' kernel`);
    const out = config.kernelFunc({
      inputs,
      backend: this.backend,
      attrs: attrs as tf.NamedAttrMap,
    } as never) as TensorInfo;
    this.intermediates.push(out);
    return out;
  }

  /** A float32 tensor's values (a copy out of the wasm heap). */
  read(x: TensorInfo): Float32Array {
    return this.backend.readSync(x.dataId) as Float32Array;
  }

  /** A new float32 tensor holding `values`, freed by `finish` unless it is the result. */
  constant(values: Float32Array, shape: number[]): TensorInfo {
    const out = this.backend.makeOutput(shape, 'float32', undefined, values);
    this.intermediates.push(out);
    return out;
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  /**
   * Pads (positive amounts) or crops (negative amounts) each axis: `amounts[axis] = [before, after]`.
   */
  padOrCrop(x: TensorInfo, amounts: [number, number][]): TensorInfo {
    let out = x;
    if (amounts.some(([b, a]) => b < 0 || a < 0)) {
      const begin = amounts.map(([b]) => Math.max(0, -b));
      const size = out.shape.map((d, i) => d - begin[i] - Math.max(0, -amounts[i][1]));
      out = this.run('Slice', { x: out }, { begin, size });
    }
    if (amounts.some(([b, a]) => b > 0 || a > 0)) {
      out = this.run(
        'PadV2',
        { x: out },
        { paddings: amounts.map(([b, a]) => [Math.max(0, b), Math.max(0, a)]), constantValue: 0 },
      );
    }
    return out;
  }

  /** Frees every intermediate except `result`, and returns it. */
  finish(result: TensorInfo): TensorInfo {
    for (const t of this.intermediates) if (t !== result) this.backend.disposeData(t.dataId);
    return result;
  }

  /** Frees every intermediate (on error). */
  abandon(): void {
    for (const t of this.intermediates) this.backend.disposeData(t.dataId);
  }
}

const stock = new Map<string, tf.KernelConfig>();

/**
 * Replaces a wasm kernel with `kernelFunc` (once), keeping the stock one for
 * comparisons (bench/kernels.ts) and for delegation.
 */
export function replaceWasmKernel(name: string, kernelFunc: (args: KernelArgs) => TensorInfo): void {
  if (stock.has(name)) return;
  const config = tf.getKernel(name, 'wasm');
  if (!config) return;
  stock.set(name, config);
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel({ ...config, kernelFunc: kernelFunc as tf.KernelFunc });
}

/** The kernel tfjs-backend-wasm shipped under `name`, if the engine replaced it. */
export function stockWasmKernel(name: string): tf.KernelConfig | undefined {
  return stock.get(name);
}

/** Runs `f` with tfjs-backend-wasm's own kernel `name` registered in place of the engine's, then restores the engine's. */
export function withStockWasmKernel<T>(name: string, f: () => T): T {
  const engines = tf.getKernel(name, 'wasm')!;
  tf.unregisterKernel(name, 'wasm');
  tf.registerKernel(stockWasmKernel(name)!);
  try {
    return f();
  } finally {
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel(engines);
  }
}

/** Runs `body` with a composer, freeing intermediates whether it returns or throws. */
export function compose(backend: unknown, body: (k: KernelComposer) => TensorInfo): TensorInfo {
  const k = new KernelComposer(backend as WasmBackend);
  let result: TensorInfo;
  try {
    result = body(k);
  } catch (err) {
    k.abandon();
    throw err;
  }
  return k.finish(result);
}
