/**
 * `Conv2DBackpropFilter` for the wasm backend.
 *
 * tfjs-backend-wasm 4.22 ships no kernel for the gradient of a convolution with
 * respect to its filter, so without this no conv layer can train on wasm.
 *
 * For a conv with stride s and padding (top, left), NHWC:
 *
 *   dW[kh, kw, ci, co] = Σ_{b, oh, ow} x[b, oh·s + kh − top, ow·s + kw − left, ci] · dy[b, oh, ow, co]
 *
 * Read with the batch b as the channel being contracted, this is itself a
 * convolution: the padded input transposed to [ci, H, W, b] as the "images",
 * dy transposed to [OH, OW, b, co] as the "filter", stride 1 and dilation s
 * (the filter taps sit s pixels apart). Its output is [ci, KH', KW', co] with
 * KH' ≥ KH (extra rows appear when 'same' padding or strides leave input rows
 * unused); slicing the first KH × KW and transposing gives dW as [KH, KW, ci, co].
 * Every step is a kernel wasm already has (PadV2, Transpose, Conv2D, Slice), so
 * the heavy work runs in XNNPACK.
 */
import * as tf from '@tensorflow/tfjs';

type TensorInfo = tf.TensorInfo;
type Backend = tf.KernelBackend & { disposeData(dataId: object): boolean };

function wasmKernel(name: string): tf.KernelFunc {
  const config = tf.getKernel(name, 'wasm');
  if (!config) throw new Error(`the wasm backend has no '${name}' kernel, which Conv2DBackpropFilter is built from`);
  return config.kernelFunc;
}

function conv2DBackpropFilter(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): TensorInfo {
  const backend = args.backend as Backend;
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const attrs = args.attrs as unknown as {
    strides: [number, number] | number;
    pad: 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;
    dataFormat: 'NHWC' | 'NCHW';
    dimRoundingMode?: 'floor' | 'round' | 'ceil';
    filterShape: [number, number, number, number];
  };
  if (attrs.dataFormat === 'NCHW') {
    throw new Error('Conv2DBackpropFilter on wasm supports only NHWC data (the layout tfjs layers use).');
  }
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  const run = (name: string, inputs: tf.NamedTensorInfoMap, kernelAttrs: object): TensorInfo =>
    wasmKernel(name)({ inputs, backend, attrs: kernelAttrs as tf.NamedAttrMap }) as TensorInfo;

  const intermediates: TensorInfo[] = [];
  const keep = (t: TensorInfo) => (intermediates.push(t), t);
  try {
    const { top, bottom, left, right } = info.padInfo;
    const padded =
      top || bottom || left || right
        ? keep(run('PadV2', { x }, { paddings: [[0, 0], [top, bottom], [left, right], [0, 0]], constantValue: 0 }))
        : x;
    const images = keep(run('Transpose', { x: padded }, { perm: [3, 1, 2, 0] })); // [ci, Hp, Wp, b]
    const taps = keep(run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] })); // [OH, OW, b, co]
    const full = keep(
      run('Conv2D', { x: images, filter: taps }, {
        strides: [1, 1],
        pad: 'valid',
        dataFormat: 'NHWC',
        dilations: [info.strideHeight, info.strideWidth],
      }),
    ); // [ci, KH', KW', co]
    const [ci, , , co] = full.shape;
    const cropped =
      full.shape[1] === info.filterHeight && full.shape[2] === info.filterWidth
        ? full
        : keep(run('Slice', { x: full }, { begin: [0, 0, 0, 0], size: [ci, info.filterHeight, info.filterWidth, co] }));
    return run('Transpose', { x: cropped }, { perm: [1, 2, 0, 3] }); // [KH, KW, ci, co]
  } finally {
    for (const t of intermediates) backend.disposeData(t.dataId);
  }
}

/** Registers the kernel for 'wasm' unless one is registered already (a future tfjs may ship one). */
export function registerWasmConv2DBackpropFilter(): void {
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm')) return;
  tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2DBackpropFilter as tf.KernelFunc });
}
