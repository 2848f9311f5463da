// Input checks that fail early with a message saying what was wrong and what was expected,
// instead of a NaN or a stack trace from deep inside tfjs.
import * as tf from "@tensorflow/tfjs";

/** Format a shape the way the course writes it: [2, 6, 3]. */
export function shapeStr(shape: readonly number[]): string {
  return `[${shape.join(", ")}]`;
}

/** A shape must be a list of non-negative integers. */
export function checkShape(shape: unknown, fn: string): asserts shape is number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new Error(`${fn}: a shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
}

/** The value must be a tfjs tensor (not a plain array, not a disposed tensor). */
export function checkTensor(x: unknown, fn: string, name: string): asserts x is tf.Tensor {
  if (!(x instanceof tf.Tensor)) {
    const got = Array.isArray(x) ? "a plain array (wrap it with tf.tensor(...))" : typeof x;
    throw new Error(`${fn}: ${name} must be a tf.Tensor, got ${got}`);
  }
  if (x.isDisposed) {
    throw new Error(`${fn}: ${name} was already disposed (its memory was freed); compute it again`);
  }
}

/**
 * The tensor must have one of the given ranks. `layout` names the axes for the message,
 * e.g. "[tokens, d_in] or [batch, tokens, d_in]".
 */
export function checkRank(x: tf.Tensor, ranks: number[], fn: string, name: string, layout: string): void {
  if (!ranks.includes(x.rank)) {
    throw new Error(
      `${fn}: ${name} must have rank ${ranks.join(" or ")} (${layout}), got shape ${shapeStr(x.shape)}`,
    );
  }
}

/** A size given by the learner must be a positive integer. */
export function checkPositiveInt(v: unknown, fn: string, name: string): asserts v is number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
    throw new Error(`${fn}: ${name} must be a positive integer, got ${String(v)}`);
  }
}

/** Values passed in by the learner must be finite (no NaN, no Infinity). */
export function checkFinite(x: tf.Tensor, fn: string, name: string): void {
  const bad = tf.tidy(() => tf.logicalNot(tf.isFinite(x)).any().dataSync()[0]);
  if (bad) {
    throw new Error(`${fn}: ${name} contains NaN or Infinity; expected finite numbers`);
  }
}

/**
 * Token embeddings given to an attention module: [tokens, d_in] or [batch, tokens, d_in], at least one
 * token, the expected d_in, finite values.
 */
export function checkInputs(x: unknown, dIn: number | null, fn: string, name = "inputs"): asserts x is tf.Tensor {
  checkTensor(x, fn, name);
  checkRank(x, [2, 3], fn, name, "[tokens, d_in] or [batch, tokens, d_in]");
  const tokens = x.shape[x.rank - 2];
  if (tokens === 0) throw new Error(`${fn}: ${name} is an empty sequence (shape ${shapeStr(x.shape)}); expected at least one token`);
  const d = x.shape[x.rank - 1];
  if (dIn !== null && d !== dIn) {
    throw new Error(`${fn}: ${name} has d_in = ${d} (shape ${shapeStr(x.shape)}), but the weights expect d_in = ${dIn}`);
  }
  checkFinite(x, fn, name);
}
