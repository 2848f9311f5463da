// Scaled dot-product attention: softmax(Q K^T / sqrt(d_k)) V, and why the scaling is there.
import * as tf from "@tensorflow/tfjs";
import { checkPositiveInt, describeValue, shapeStr } from "../core/checks";
import { Generator, uniformValues } from "../core/random";
import { attentionScores, contextVectors } from "./scores";
import { softmax } from "./softmax";

export type ScaledAttention = {
  scores: tf.Tensor; // [..., T_q, T_k] raw dot products q·k
  weights: tf.Tensor; // [..., T_q, T_k] softmax(scores / sqrt(d_k))
  context: tf.Tensor; // [..., T_q, d_v]
};

/**
 * queries [..., T_q, d_k], keys [..., T_k, d_k], values [..., T_k, d_v] -> scores, weights, context.
 * The scores are divided by sqrt(d_k) before the softmax. Dispose the result with tf.dispose.
 */
export function scaledDotProductAttention(queries: tf.Tensor, keys: tf.Tensor, values: tf.Tensor): ScaledAttention {
  const dk = checkKeyWidth(keys);
  return tf.tidy(() => {
    const scores = attentionScores(queries, keys);
    const weights = softmax(tf.div(scores, Math.sqrt(dk)));
    const context = contextVectors(weights, values);
    return { scores, weights, context };
  });
}

export interface ScalingExperiment {
  dims: number[];
  /** Mean largest weight of a row (1 = all attention on one key; 1/tokens = spread evenly). */
  maxWeightUnscaled: number[];
  maxWeightScaled: number[];
  /** Mean entropy of a row in nats (0 = one-hot; ln(tokens) = uniform). */
  entropyUnscaled: number[];
  entropyScaled: number[];
  /**
   * Mean length of the gradient that reaches a row's scores, for a loss sum(weights ⊙ g) with random g (entries
   * of variance 1): measured by tf.grad through the softmax. Near 0 when the softmax is saturated.
   */
  gradNormUnscaled: number[];
  gradNormScaled: number[];
}

/**
 * Why divide by sqrt(d_k): for queries and keys with unit-variance entries, q·k has variance d_k,
 * so without scaling the scores spread out as d_k grows and softmax piles all weight on one key
 * (tiny gradients for the rest). For each d_k, draws `rows` random queries against `tokens` random
 * keys (uniform entries with variance 1, from a seeded generator) and measures how peaked the weights are.
 */
export function scalingExperiment(
  dims: number[] = [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
  options: { tokens?: number; rows?: number; seed?: number } = {},
): ScalingExperiment {
  const fn = "scalingExperiment";
  if (!Array.isArray(dims) || dims.length === 0)
    throw new Error(
      `${fn}: dims must be a non-empty array of dimensions d_k, e.g. [2, 16, 128], got ${Array.isArray(dims) ? "[]" : describeValue(dims)}`,
    );
  if (typeof options !== "object" || options === null)
    throw new Error(`${fn}: options must be an object like { tokens: 16, rows: 64, seed: 0 }, got ${describeValue(options)}`);
  const tokens = options.tokens ?? 16;
  const rows = options.rows ?? 64;
  checkPositiveInt(tokens, "scalingExperiment", "tokens");
  checkPositiveInt(rows, "scalingExperiment", "rows");
  dims.forEach((d) => checkPositiveInt(d, "scalingExperiment", "each dimension"));
  const gen = new Generator(options.seed ?? 0);
  const upstream = new Generator((options.seed ?? 0) + 1); // its own stream, so the weights' numbers do not depend on it
  const a = Math.sqrt(3); // uniform on [-sqrt 3, sqrt 3] has variance 1
  const out: ScalingExperiment = {
    dims: [...dims],
    maxWeightUnscaled: [],
    maxWeightScaled: [],
    entropyUnscaled: [],
    entropyScaled: [],
    gradNormUnscaled: [],
    gradNormScaled: [],
  };
  for (const d of dims) {
    const [mu, ms, eu, es, gu, gs] = tf.tidy(() => {
      const q = tf.tensor(uniformValues([rows, d], -a, a, gen), [rows, d]);
      const k = tf.tensor(uniformValues([tokens, d], -a, a, gen), [tokens, d]);
      const s = attentionScores(q, k);
      const stats = (w: tf.Tensor) => {
        const maxW = tf.mean(tf.max(w, -1));
        const ent = tf.mean(tf.neg(tf.sum(tf.mul(w, tf.log(tf.add(w, 1e-30))), -1)));
        return [maxW, ent];
      };
      const [m1, e1] = stats(softmax(s));
      const [m2, e2] = stats(softmax(tf.div(s, Math.sqrt(d))));
      // The gradient with respect to the scores that enter the softmax, for an upstream gradient g: [rows, tokens].
      const g = tf.tensor(uniformValues([rows, tokens], -a, a, upstream), [rows, tokens]);
      const gradNorm = (z: tf.Tensor) => tf.mean(tf.norm(tf.grad((zz: tf.Tensor) => tf.sum(tf.mul(softmax(zz), g)))(z), "euclidean", -1));
      return [m1, m2, e1, e2, gradNorm(s), gradNorm(tf.div(s, Math.sqrt(d)))].map((t) => t.dataSync()[0]);
    });
    out.maxWeightUnscaled.push(mu);
    out.maxWeightScaled.push(ms);
    out.entropyUnscaled.push(eu);
    out.entropyScaled.push(es);
    out.gradNormUnscaled.push(gu);
    out.gradNormScaled.push(gs);
  }
  return out;
}

/** scaledDotProductAttention divides by sqrt(d_k): keys need at least one dimension. Returns d_k (the rest is attentionScores' to check). */
function checkKeyWidth(keys: tf.Tensor): number {
  const dk = keys instanceof tf.Tensor ? keys.shape[keys.rank - 1] : NaN;
  if (dk === 0)
    throw new Error(
      `scaledDotProductAttention: keys have d_k = 0 (shape ${shapeStr(keys.shape)}); expected at least one dimension to take dot products over`,
    );
  return dk;
}
