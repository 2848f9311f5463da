// Three ways to turn attention scores into weights that sum to 1 along the last axis.
import * as tf from "@tensorflow/tfjs";
import { MASKED } from "../core/mask";
import { checkFinite, checkFloat, checkTensor, shapeStr, valuesTrusted } from "../core/checks";

/** Scores [..., keys]: a live float32 tensor with at least one key; NaN and +Infinity are refused. */
function lastAxisCheck(x: tf.Tensor, fn: string, allowMinusInfinity = false): void {
  checkTensor(x, fn, "scores");
  if (x.rank === 0) throw new Error(`${fn}: scores must have at least one axis (the keys), got a scalar`);
  if (x.shape[x.rank - 1] === 0) throw new Error(`${fn}: scores have no keys along the last axis (shape ${shapeStr(x.shape)})`);
  if (x.size === 0) throw new Error(`${fn}: scores are empty (shape ${shapeStr(x.shape)}); expected at least one row of scores`);
  checkFloat(x, fn, "scores");
  checkFinite(x, fn, "scores", allowMinusInfinity);
}

/** Divide by the sum: weights sum to 1, but negative scores give negative "weights". [..., keys] */
export function normalizeBySum(scores: tf.Tensor): tf.Tensor {
  lastAxisCheck(scores, "normalizeBySum");
  return tf.tidy(() => {
    const sums = tf.sum(scores, -1, true);
    if (!valuesTrusted() && tf.any(tf.equal(sums, 0)).dataSync()[0]) {
      throw new Error("normalizeBySum: a row of scores sums to 0, so dividing by its sum is undefined; softmax has no such problem");
    }
    return tf.div(scores, sums);
  });
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
  lastAxisCheck(scores, "softmax", true);
  return tf.tidy(() => {
    const m = tf.max(scores, -1, true);
    if (!valuesTrusted() && tf.any(tf.equal(m, MASKED)).dataSync()[0]) {
      throw new Error(
        "softmax: a row of scores is -Infinity everywhere (every key masked), so its weights are undefined; leave at least one key unmasked per row",
      );
    }
    const e = tf.exp(tf.sub(scores, m));
    return tf.div(e, tf.sum(e, -1, true));
  });
}
