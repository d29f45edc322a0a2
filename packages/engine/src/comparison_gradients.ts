/**
 * Zero gradients for the comparisons tfjs-core leaves without one.
 *
 * A gradient of a gradient (WGAN-GP's penalty, `tf.grad` inside a loss) differentiates
 * the first gradient's own graph. tfjs-core writes the gradients of leaky ReLU and PReLU
 * as where(x > 0, …), so that graph holds a Greater, and tfjs-core registers a gradient
 * for GreaterEqual but not for Greater, Less, LessEqual, Equal or NotEqual: the second
 * `tf.grad` then stops with "gradient function not found for Greater" on every backend
 * that keeps the stock leaky ReLU gradient (cpu, webgpu, tfjs-node). A comparison is
 * constant wherever it has a derivative, so its gradient is zero, as TensorFlow treats it;
 * where() already gives its condition a zero gradient, so nothing downstream changes.
 */
import * as tf from '@tensorflow/tfjs';

const COMPARISONS = ['Greater', 'Less', 'LessEqual', 'Equal', 'NotEqual'];

/** Registers a zero gradient for each comparison that has none (a later tfjs that ships its own keeps it). */
export function registerComparisonGradients(): void {
  for (const kernelName of COMPARISONS) {
    if (tf.getGradient(kernelName)) continue;
    tf.registerGradient({
      kernelName,
      inputsToSave: ['a', 'b'],
      gradFunc: (_dy, [a, b]) => ({ a: () => tf.zerosLike(a), b: () => tf.zerosLike(b) }),
    });
  }
}
