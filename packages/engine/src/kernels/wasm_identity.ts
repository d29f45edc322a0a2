/**
 * `Identity`, and a `Cast` to the dtype a tensor already has, that share the input's buffer; and a `Cast` to bool
 * that is x ≠ 0.
 *
 * tfjs-backend-wasm 4.22 copies the whole tensor for both, though its data is never written after it is made:
 * its own Reshape shares the buffer by counting references, and so can these. Training runs them all the time
 * (gradients pass through Identity; ReLU's gradient casts a float32 mask to float32): a PixelCNN step spent 50 ms
 * of 330 copying in them.
 *
 * Its cast to bool copies the numbers into bytes, so −2.2 became 254 (and 256 would become 0); a bool is x ≠ 0,
 * as on the cpu backend.
 */
import { compose, KernelArgs, replaceWasmKernel, stockWasmKernel, TensorInfo } from './wasm_compose';

function shared({ inputs, backend }: KernelArgs): TensorInfo {
  const { x } = inputs as { x: TensorInfo };
  (backend as { incRef(dataId: object): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

function cast(args: KernelArgs): TensorInfo {
  const { x } = args.inputs as { x: TensorInfo };
  const dtype = (args.attrs as { dtype?: string }).dtype;
  if (dtype === x.dtype) return shared(args);
  if (dtype === 'bool')
    return compose(args.backend, (k) =>
      k.run('NotEqual', { a: x, b: k.run('Fill', {}, { shape: [], value: 0, dtype: x.dtype }) }),
    );
  return stockWasmKernel('Cast')!.kernelFunc(args as never) as TensorInfo;
}

/** Replaces wasm's Identity and Cast with ones that share the buffer instead of copying it (once). */
export function registerWasmIdentity(): void {
  replaceWasmKernel('Identity', shared);
  replaceWasmKernel('Cast', cast);
}
