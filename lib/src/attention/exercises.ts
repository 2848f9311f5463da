// Checks for the notebooks' exercises: they say "right", or what differs, without giving the answer.
import * as tf from "@tensorflow/tfjs";
import { shapeStr } from "../core/checks";
import type { SelfAttentionV1, SelfAttentionV2 } from "./selfattention";
import type { MultiHeadAttentionWrapper } from "./causalattention";

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

/**
 * Exercise (notebook 04): copy v2's weights into v1 so that both compute the same context vectors.
 * Returns a message starting with "✓" when v1 and v2 agree, else "✗" and what differs.
 */
export function checkWeightCopy(v1: SelfAttentionV1, v2: SelfAttentionV2, inputs: tf.Tensor, tol = 1e-6): string {
  const problems: string[] = [];
  for (const name of ["W_query", "W_key", "W_value"] as const) {
    const mine = v1[name];
    const theirs = v2[name].weight; // [d_out, d_in]
    if (mine.isDisposed) {
      problems.push(`v1.${name} was disposed`);
      continue;
    }
    if (mine.shape.join() !== [v1.dIn, v1.dOut].join()) {
      problems.push(`v1.${name} has shape ${shapeStr(mine.shape)}, but v1 needs [d_in, d_out] = [${v1.dIn}, ${v1.dOut}]`);
      continue;
    }
    const sameNumbersInV2Order = tf.tidy(() => maxAbsDiff(mine.reshape([-1]), theirs.reshape([-1])) <= tol);
    const right = tf.tidy(() => maxAbsDiff(mine, theirs.transpose()) <= tol);
    if (right) continue;
    if (sameNumbersInV2Order && v1.dIn !== v1.dOut) {
      problems.push(`v1.${name} holds v2's numbers in v2's memory order, but v1 computes x @ W while nn.Linear computes x @ W^T: think about which matrix that makes`);
    } else {
      const other = (["W_query", "W_key", "W_value"] as const).find((o) => o !== name && tf.tidy(() => maxAbsDiff(mine, v2[o].weight.transpose()) <= tol));
      problems.push(other ? `v1.${name} holds the weights of v2.${other}` : `v1.${name} does not hold v2.${name}'s weights (as v1 uses them)`);
    }
  }
  if (problems.length === 0) {
    const diff = tf.tidy(() => maxAbsDiff(v1.forward(inputs), v2.forward(inputs)));
    if (diff <= 1e-5) return "✓ Right: v1 and v2 now compute the same context vectors.";
    problems.push(`the weights match, yet the outputs differ by up to ${diff.toExponential(2)}`);
  }
  return ["✗ Not yet:", ...problems.map((p) => `  - ${p}`)].join("\n");
}

/**
 * Exercise (notebook 06): a MultiHeadAttentionWrapper with 2 heads whose context vectors are 2-dimensional.
 * Returns "✓ ..." when `wrapper` does it, else "✗ ..." and what differs.
 */
export function checkTwoDimensionalWrapper(wrapper: MultiHeadAttentionWrapper, batch: tf.Tensor): string {
  const heads = wrapper.heads.length;
  const problems: string[] = [];
  if (heads !== 2) problems.push(`the wrapper has ${heads} head(s); the exercise asks for 2`);
  const out = wrapper.forward(batch);
  const width = out.shape[out.rank - 1];
  out.dispose();
  if (width !== 2) {
    problems.push(`its context vectors have ${width} dimensions: the wrapper concatenates its heads, so the width is d_out x heads = ${wrapper.dOut} x ${heads}`);
  }
  if (problems.length === 0) return `✓ Right: ${heads} heads, context vectors of width ${width}.`;
  return ["✗ Not yet:", ...problems.map((p) => `  - ${p}`)].join("\n");
}
