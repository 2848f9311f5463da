// Splitting one projection into attention heads, and merging the heads back.
import * as tf from "@tensorflow/tfjs";
import { checkPositiveInt, checkTensor, shapeStr } from "../core/checks";

/** d_out must split evenly into heads: returns head_dim = d_out / heads (a module keeps it as its headDim). */
export function headDimOf(dOut: number, heads: number, fn = "headDimOf"): number {
  checkPositiveInt(dOut, fn, "d_out");
  checkPositiveInt(heads, fn, "num_heads");
  if (dOut % heads !== 0) {
    throw new Error(
      `${fn}: d_out = ${dOut} is not divisible by num_heads = ${heads}; d_out must be a multiple of it (each head gets d_out / num_heads dimensions)`,
    );
  }
  return dOut / heads;
}

/** [b, T, d_out] -> view as [b, T, heads, head_dim] -> transpose to [b, heads, T, head_dim] */
export function splitHeads(x: tf.Tensor, heads: number): tf.Tensor4D {
  const [b, t, hd] = checkSplittable(x, heads);
  return tf.tidy(() => tf.transpose(tf.reshape(x, [b, t, heads, hd]), [0, 2, 1, 3]) as tf.Tensor4D);
}

/** [b, heads, T, head_dim] -> transpose to [b, T, heads, head_dim] -> view as [b, T, d_out] */
export function mergeHeads(x: tf.Tensor): tf.Tensor3D {
  checkMergeable(x);
  const [b, h, t, hd] = x.shape;
  return tf.tidy(() => tf.reshape(tf.transpose(x, [0, 2, 1, 3]), [b, t, h * hd]) as tf.Tensor3D);
}

/** splitHeads' input: a non-empty [batch, tokens, d_out] whose d_out splits into `heads`. Returns [b, T, head_dim]. */
function checkSplittable(x: unknown, heads: number): [number, number, number] {
  checkTensor(x, "splitHeads", "x");
  if (x.rank !== 3) throw new Error(`splitHeads: x must be [batch, tokens, d_out], got shape ${shapeStr(x.shape)}`);
  const [b, t, d] = x.shape;
  if (b === 0 || t === 0)
    throw new Error(`splitHeads: x is empty (shape ${shapeStr(x.shape)}); expected at least one sequence of at least one token`);
  return [b, t, headDimOf(d, heads, "splitHeads")];
}

/** mergeHeads' input: a non-empty [batch, heads, tokens, head_dim]. */
function checkMergeable(x: unknown): asserts x is tf.Tensor4D {
  checkTensor(x, "mergeHeads", "x");
  if (x.rank !== 4) throw new Error(`mergeHeads: x must be [batch, heads, tokens, head_dim], got shape ${shapeStr(x.shape)}`);
  if (x.size === 0) throw new Error(`mergeHeads: x is empty (shape ${shapeStr(x.shape)}); expected at least one sequence, head, token and number`);
}
