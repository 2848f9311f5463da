// Three ways to turn attention scores into weights that sum to 1 along the last axis.
import * as tf from "@tensorflow/tfjs";
import { checkTensor } from "../core/checks";

function lastAxisCheck(x: tf.Tensor, fn: string): void {
  checkTensor(x, fn, "scores");
  if (x.rank === 0) throw new Error(`${fn}: scores must have at least one axis (the keys), got a scalar`);
  if (x.shape[x.rank - 1] === 0) throw new Error(`${fn}: scores have no keys along the last axis (shape [${x.shape.join(", ")}])`);
}

/** Divide by the sum: weights sum to 1, but negative scores give negative "weights". [..., keys] */
export function normalizeBySum(scores: tf.Tensor): tf.Tensor {
  lastAxisCheck(scores, "normalizeBySum");
  return tf.tidy(() => tf.div(scores, tf.sum(scores, -1, true)));
}

/** exp(x) / sum(exp(x)), as written on paper. Overflows to Infinity (then NaN) for scores above ~88. */
export function softmaxNaive(scores: tf.Tensor): tf.Tensor {
  lastAxisCheck(scores, "softmaxNaive");
  return tf.tidy(() => {
    const e = tf.exp(scores);
    return tf.div(e, tf.sum(e, -1, true));
  });
}

/**
 * The numerically stable softmax: subtract each row's largest score first. exp(x - max) <= 1 can not
 * overflow, and the result is the same, since exp(x - m) / sum(exp(x - m)) = exp(x) / sum(exp(x)).
 * Masked entries (-Infinity) get weight 0. [..., keys] -> [..., keys]
 */
export function softmax(scores: tf.Tensor): tf.Tensor {
  lastAxisCheck(scores, "softmax");
  return tf.tidy(() => {
    const m = tf.max(scores, -1, true);
    // A row that is entirely -Infinity has no finite maximum; use 0 there so it stays NaN-free until the division.
    const safeMax = tf.where(tf.isFinite(m), m, tf.zerosLike(m));
    const e = tf.exp(tf.sub(scores, safeMax));
    return tf.div(e, tf.sum(e, -1, true));
  });
}
