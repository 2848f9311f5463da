// One training step: forward, backward, clip the gradients' global norm, Adam update.
import * as tf from "@tensorflow/tfjs";
import type { BatchTensors } from "./batch";
import { maskedCrossEntropy, type Seq2Seq } from "./model";

/** Scale the gradients down so that their global L2 norm is at most maxNorm (as torch's clip_grad_norm_). */
export function clipByGlobalNorm(grads: tf.NamedTensorMap, maxNorm: number): { grads: tf.NamedTensorMap; norm: tf.Scalar } {
  return tf.tidy(() => {
    const norm = tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g))))) as tf.Scalar;
    const scale = tf.minimum(1, tf.div(maxNorm, tf.add(norm, 1e-6)));
    const out: tf.NamedTensorMap = {};
    for (const [k, g] of Object.entries(grads)) out[k] = tf.mul(g, scale);
    return { grads: out, norm };
  });
}

/**
 * Forward + backward + update. Returns the loss as a scalar tensor (read it when you need it).
 * `stepByStep` trains through the plain step-by-step decoder instead of the fast path (for comparisons).
 */
export function trainStep(model: Seq2Seq, optimizer: tf.Optimizer, batch: BatchTensors, clipNorm = 1, stepByStep = false): tf.Scalar {
  const loss = () => (stepByStep ? maskedCrossEntropy(model.forwardStepByStep(batch).logits, batch.tgtOut, batch.tgtMask) : model.loss(batch));
  const { value, grads } = tf.variableGrads(loss, model.parameters());
  const clipped = clipByGlobalNorm(grads, clipNorm);
  optimizer.applyGradients(clipped.grads);
  tf.dispose([grads, clipped.grads, clipped.norm]);
  return value;
}
