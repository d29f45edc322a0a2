/**
 * Mends for the cpu backend's kernels (tfjs-backend-cpu 4.22) that give wrong numbers.
 *
 * ResizeNearestNeighborGrad reads dy at the images' batch stride, not dy's own: for more than one image, every image
 * after the first gets its gradient from the wrong part of dy (or past its end). A U-Net's upsampling (lab 7's
 * diffusion model) then trains on wrong gradients on the cpu backend, silently. For one image the kernel is right, so
 * the mend runs it image by image.
 */
import * as tf from '@tensorflow/tfjs';

type CpuBackend = tf.KernelBackend & {
  readSync(dataId: object): tf.backend_util.BackendValues;
  makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo;
  disposeIntermediateTensorInfo(t: tf.TensorInfo): void;
};

let mended = false;

/** Puts the mended kernels in place of the cpu backend's (once; where the cpu backend is registered). */
export function registerCpuFixes(): void {
  const stock = tf.getKernel('ResizeNearestNeighborGrad', 'cpu');
  if (mended || !stock) return;
  mended = true;
  tf.unregisterKernel('ResizeNearestNeighborGrad', 'cpu');
  tf.registerKernel({
    ...stock,
    kernelFunc: (args) => {
      const { images, dy } = args.inputs as { images: tf.TensorInfo; dy: tf.TensorInfo };
      const n = images.shape[0];
      if (n <= 1) return stock.kernelFunc(args);
      const backend = args.backend as CpuBackend;
      const imageValues = backend.readSync(images.dataId) as Float32Array;
      const dyValues = backend.readSync(dy.dataId) as Float32Array;
      const [imageSize, dySize] = [images, dy].map((t) => t.shape.slice(1).reduce((a, b) => a * b, 1));
      const out = new Float32Array(n * imageSize);
      for (let b = 0; b < n; b++) {
        const one = (t: tf.TensorInfo, values: Float32Array, size: number) =>
          backend.makeTensorInfo([1, ...t.shape.slice(1)], t.dtype, values.subarray(b * size, (b + 1) * size));
        const image = one(images, imageValues, imageSize);
        const dyImage = one(dy, dyValues, dySize);
        const dx = stock.kernelFunc({ ...args, inputs: { images: image, dy: dyImage } }) as tf.TensorInfo;
        out.set(backend.readSync(dx.dataId) as Float32Array, b * imageSize);
        for (const t of [image, dyImage, dx]) backend.disposeIntermediateTensorInfo(t);
      }
      return backend.makeTensorInfo(images.shape, 'float32', out);
    },
  });
}
