// The running example of the course: "Your journey starts with one step", each token embedded in 3-d.
import * as tf from "@tensorflow/tfjs";

export const EXAMPLE_TOKENS = ["Your", "journey", "starts", "with", "one", "step"];

/** [6, 3]: one row per token. */
export const EXAMPLE_EMBEDDINGS = [
  [0.43, 0.15, 0.89], // Your
  [0.55, 0.87, 0.66], // journey
  [0.57, 0.85, 0.64], // starts
  [0.22, 0.58, 0.33], // with
  [0.77, 0.25, 0.1], //  one
  [0.05, 0.8, 0.55], //  step
];

/** The example's embeddings as a tensor [6, 3]. */
export function exampleInputs(): tf.Tensor2D {
  return tf.tensor2d(EXAMPLE_EMBEDDINGS);
}
