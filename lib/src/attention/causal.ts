// Causal masking: a token may attend to itself and to the tokens before it, never to those after it.
import * as tf from "@tensorflow/tfjs";
import { FEWER_TOKENS, checkFits, checkNotEmpty, checkNumbers, checkPositiveInt, shapeStr, valuesTrusted } from "../core/checks";
import { MASKED, futurePattern, hiddenPattern } from "../core/mask";
import { softmax } from "./softmax";

/** [T, T] of 0/1 with 1 on and below the diagonal: row i may see keys 0..i. */
export function lowerTriangle(tokens: number): tf.Tensor2D {
  checkPositiveInt(tokens, "lowerTriangle", "tokens");
  checkFits([tokens, tokens], "lowerTriangle", "a mask", FEWER_TOKENS);
  return tf.tensor2d(
    Float32Array.from(futurePattern(tokens, tokens), (future) => 1 - future),
    [tokens, tokens],
  );
}

/** [T, T] booleans, true above the diagonal: the future each query must not see. */
export function causalMask(tokens: number): tf.Tensor2D {
  checkPositiveInt(tokens, "causalMask", "tokens");
  checkFits([tokens, tokens], "causalMask", "a mask", FEWER_TOKENS);
  return tf.tensor2d(futurePattern(tokens, tokens), [tokens, tokens], "bool"); // row i: keys i+1 .. T-1
}

/**
 * [T, T] booleans, true where query i must not look (notebook 09): the future, and every key `window` or more
 * positions back, so that each query sees itself and the `window - 1` keys before it. window >= T: the causal mask.
 */
export function slidingWindowMask(tokens: number, window: number): tf.Tensor2D {
  checkPositiveInt(tokens, "slidingWindowMask", "tokens");
  checkPositiveInt(window, "slidingWindowMask", "window");
  checkFits([tokens, tokens], "slidingWindowMask", "a mask", FEWER_TOKENS);
  return tf.tensor2d(hiddenPattern(tokens, tokens, 0, 0, window), [tokens, tokens], "bool");
}

function squareScores(x: tf.Tensor, fn: string, allowMinusInfinity = false): number {
  checkNumbers(x, fn, "scores", allowMinusInfinity);
  if (x.rank < 2 || x.shape[x.rank - 1] !== x.shape[x.rank - 2]) {
    throw new Error(`${fn}: expected square attention matrices [..., T, T] (queries x keys), got shape ${shapeStr(x.shape)}`);
  }
  checkNotEmpty(x, fn, "scores", "[..., T, T]");
  return x.shape[x.rank - 1];
}

/**
 * The simple way: take softmax weights, zero the future, then renormalize each row to sum to 1.
 * weights [..., T, T] -> [..., T, T]
 */
export function maskAndRenormalize(weights: tf.Tensor): tf.Tensor {
  const fn = "maskAndRenormalize";
  const t = squareScores(weights, fn);
  return tf.tidy(() => {
    const masked = tf.mul(weights, lowerTriangle(t));
    const sums = tf.sum(masked, -1, true);
    if (!valuesTrusted()) {
      // One read: the smallest weight, and the first row left with nothing to renormalize (a 0 sum gives 0 / 0 = NaN).
      const rows = sums.reshape([-1]);
      const [low, emptyRows, first] = tf.stack([tf.min(weights), tf.sum(tf.lessEqual(rows, 0).toFloat()), tf.argMin(rows).toFloat()]).dataSync();
      if (low < 0) throw new Error(`${fn}: weights holds ${low}; expected weights >= 0 (the softmax of the scores)`);
      if (emptyRows > 0) {
        throw new Error(
          `${fn}: row ${first % t} of weights${weights.rank > 2 ? ` (matrix ${Math.floor(first / t)})` : ""} is 0 on and before the diagonal, so nothing is left to renormalize (0 / 0); expected softmax weights, which are all > 0`,
        );
      }
    }
    return tf.div(masked, sums);
  });
}

/** Replace the future (above the diagonal) by -Infinity (MASKED). scores [..., T, T] -> [..., T, T] */
export function maskFuture(scores: tf.Tensor): tf.Tensor {
  const t = squareScores(scores, "maskFuture", true);
  return tf.tidy(() => tf.where(causalMask(t), tf.fill(scores.shape, MASKED), scores));
}

/**
 * The efficient way: -Infinity in the future before the softmax, so those weights come out exactly 0
 * (e^-inf = 0) and the row already sums to 1. scores [..., T, T] -> weights [..., T, T]
 */
export function causalSoftmax(scores: tf.Tensor): tf.Tensor {
  if (scores instanceof tf.Tensor) checkNotEmpty(scores, "causalSoftmax", "scores", "[..., T, T]"); // the rest is maskFuture's
  return tf.tidy(() => softmax(maskFuture(scores)));
}
