/**
 * The TensorFlow.js that notebooks get as `tf` from genlab: @tensorflow/tfjs itself, with the one op whose gradient
 * is broken in 4.22 replaced.
 *
 * tfjs-core's `logSigmoid` is a custom-gradient op whose gradient reads its input without saving it. Under
 * `tf.grad`, `minimize` or `variableGrads` the tensors made while computing the loss are freed once the forward pass
 * ends, so `tf.logSigmoid(logits.neg())` (any input that is not itself a variable or the differentiated argument)
 * fails in the backward pass with "Cannot read properties of undefined (reading 'backend')", on every backend. A GAN
 * loss written that way is correct and could not train (the fairness suite found it). Here the same formula,
 * −softplus(−x), is written with ordinary ops, whose gradients TensorFlow.js keeps what they need for:
 * d/dx = sigmoid(−x), as tfjs-core's own.
 */
import * as tfjs from '@tensorflow/tfjs';

// The override comes before `export *`, which then leaves the name alone.
export function logSigmoid<T extends tfjs.Tensor>(x: T | tfjs.TensorLike): T {
  return tfjs.tidy(() => tfjs.neg(tfjs.softplus(tfjs.neg(x as tfjs.Tensor))) as T);
}

export * from '@tensorflow/tfjs';
