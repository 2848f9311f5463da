// Self-attention without trainable weights: every token's embedding is its query, key and value.
import * as tf from "@tensorflow/tfjs";
import { checkInputs } from "../core/checks";
import { attentionScores, attentionWeights, contextVectors } from "./scores";

export type SimpleAttention = {
  scores: tf.Tensor; // [..., T, T] dot products of the inputs with each other
  weights: tf.Tensor; // [..., T, T] softmax of each row
  context: tf.Tensor; // [..., T, d] weighted sums of the inputs
};

/** inputs [T, d] or [B, T, d] -> scores, weights and context vectors. Dispose the result with tf.dispose. */
export function simpleSelfAttention(inputs: tf.Tensor): SimpleAttention {
  checkInputs(inputs, null, "simpleSelfAttention");
  return tf.tidy(() => {
    const scores = attentionScores(inputs, inputs);
    const weights = attentionWeights(scores);
    const context = contextVectors(weights, inputs);
    return { scores, weights, context };
  });
}
