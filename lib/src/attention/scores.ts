// The three steps of attention: scores (dot products), weights (softmax), context vectors (weighted sums).
import * as tf from "@tensorflow/tfjs";
import { checkAttentionFits, checkNotEmpty, checkNumbers, checkRank, shapeStr } from "../core/checks";
import { softmax } from "./softmax";

/**
 * Attention scores: the dot product of every query with every key, optionally divided by `scale`.
 * queries [..., T_q, d], keys [..., T_k, d] -> [..., T_q, T_k]
 */
export function attentionScores(queries: tf.Tensor, keys: tf.Tensor, scale = 1): tf.Tensor {
  checkQueriesKeys(queries, keys, scale);
  return tf.tidy(() => {
    const s = tf.matMul(queries, keys, false, true);
    return scale === 1 ? s : tf.div(s, scale);
  });
}

/** Attention weights: softmax over the keys, so each query's weights are positive and sum to 1. [..., T_q, T_k] */
export function attentionWeights(scores: tf.Tensor): tf.Tensor {
  return softmax(scores);
}

/**
 * Context vectors: each query's weighted sum of the values.
 * weights [..., T_q, T_k], values [..., T_k, d_v] -> [..., T_q, d_v]
 */
export function contextVectors(weights: tf.Tensor, values: tf.Tensor): tf.Tensor {
  checkWeightsValues(weights, values);
  return tf.matMul(weights, values);
}

// Where the learner's tensors come in: what each function needs, said in its own words when it is missing.

/** Two tensors of numbers, of rank 2-4, agreeing on their leading (batch/head) axes, none of size 0. */
function checkPair(a: tf.Tensor, b: tf.Tensor, fn: string, aName: string, bName: string): void {
  checkNumbers(a, fn, aName);
  checkNumbers(b, fn, bName);
  const layout = `[tokens, d], [batch, tokens, d] or [batch, heads, tokens, d]`;
  checkRank(a, [2, 3, 4], fn, aName, layout);
  if (a.rank !== b.rank) {
    throw new Error(`${fn}: ${aName} ${shapeStr(a.shape)} and ${bName} ${shapeStr(b.shape)} must have the same rank`);
  }
  for (let i = 0; i < a.rank - 2; i++) {
    if (a.shape[i] !== b.shape[i]) {
      throw new Error(`${fn}: ${aName} ${shapeStr(a.shape)} and ${bName} ${shapeStr(b.shape)} must agree on the leading (batch/head) axes`);
    }
  }
  checkNotEmpty(a, fn, aName, layout);
  checkNotEmpty(b, fn, bName, layout);
}

/** attentionScores: queries and keys of the same width d, a positive scale, scores that fit in memory. */
function checkQueriesKeys(queries: tf.Tensor, keys: tf.Tensor, scale: number): void {
  const fn = "attentionScores";
  checkPair(queries, keys, fn, "queries", "keys");
  if (queries.shape[queries.rank - 1] !== keys.shape[keys.rank - 1]) {
    throw new Error(
      `${fn}: queries ${shapeStr(queries.shape)} and keys ${shapeStr(keys.shape)} must have the same size d (last axis) to take dot products`,
    );
  }
  if (!(scale > 0 && Number.isFinite(scale))) throw new Error(`${fn}: scale must be a finite number greater than 0, got ${scale}`);
  checkAttentionFits(queries.shape.slice(0, -2), queries.shape[queries.rank - 2], keys.shape[keys.rank - 2], fn);
}

/** contextVectors: one value per key. */
function checkWeightsValues(weights: tf.Tensor, values: tf.Tensor): void {
  const fn = "contextVectors";
  checkPair(weights, values, fn, "weights", "values");
  const tk = weights.shape[weights.rank - 1];
  const tv = values.shape[values.rank - 2];
  if (tk !== tv) {
    throw new Error(
      `${fn}: weights ${shapeStr(weights.shape)} weigh ${tk} tokens but values ${shapeStr(values.shape)} has ${tv}; expected one value per key`,
    );
  }
}
