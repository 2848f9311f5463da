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
    const got = Array.isArray(x) ? "a plain array (wrap it with tf.tensor(...))" : x === null ? "null" : typeof x;
    throw new Error(`${fn}: ${name} must be a tf.Tensor, got ${got}`);
  }
  if (x.isDisposed) {
    throw new Error(`${fn}: ${name} was already disposed (its memory was freed); compute it again`);
  }
}

/** A tensor of numbers to compute with: float32, not int32 or bool (wasm has no integer matMul). */
export function checkFloat(x: tf.Tensor, fn: string, name: string): void {
  if (x.dtype !== "float32") {
    throw new Error(`${fn}: ${name} holds ${x.dtype} values; expected float32 numbers (convert with ${name}.toFloat())`);
  }
}

/**
 * The tensor must have one of the given ranks. `layout` names the axes for the message,
 * e.g. "[tokens, d_in] or [batch, tokens, d_in]".
 */
export function checkRank(x: tf.Tensor, ranks: number[], fn: string, name: string, layout: string): void {
  if (!ranks.includes(x.rank)) {
    throw new Error(
      `${fn}: ${name} must have rank ${ranks.slice(0, -1).join(", ")}${ranks.length > 1 ? " or " : ""}${ranks[ranks.length - 1]} (${layout}), got shape ${shapeStr(x.shape)}`,
    );
  }
}

/** A value as a message shows it: a string in quotes (so "3" is not mistaken for 3), anything else as it prints. */
export function describeValue(v: unknown): string {
  return typeof v === "string" ? `the string ${JSON.stringify(v)}` : String(v);
}

/** A size given by the learner must be a positive integer. */
export function checkPositiveInt(v: unknown, fn: string, name: string): asserts v is number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
    throw new Error(`${fn}: ${name} must be a positive integer, got ${describeValue(v)}`);
  }
}

/** A count or position that may be 0 (an offset, a number of items): an integer >= 0. */
export function checkNonNegativeInt(v: unknown, fn: string, name: string): asserts v is number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
    throw new Error(`${fn}: ${name} must be an integer >= 0, got ${describeValue(v)}`);
  }
}

/** Options must be an object (or left out), not a number, a string or an array; `example` shows one, e.g. "{ qkvBias: true }". */
export function checkOptions(options: unknown, fn: string, example: string, name = "options"): asserts options is object {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new Error(`${fn}: ${name} must be an object like ${example}, got ${Array.isArray(options) ? "an array" : describeValue(options)}`);
  }
}

/** A setting given by the learner must be a finite number greater than 0 (a learning rate, a time limit). */
export function checkPositive(v: unknown, fn: string, name: string): asserts v is number {
  if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) {
    throw new Error(`${fn}: ${name} must be a finite number greater than 0, got ${describeValue(v)}`);
  }
}

/** An on/off option must be true or false (not the string "false", which is truthy). */
export function checkBoolean(v: unknown, fn: string, name: string): asserts v is boolean {
  if (typeof v !== "boolean") throw new Error(`${fn}: the option ${name} must be true or false, got ${describeValue(v)}`);
}

/** A dropout rate: a number in [0, 1) (1 would drop everything and divide by 0). */
export function checkDropout(p: unknown, fn: string, name = "dropout"): asserts p is number {
  if (typeof p !== "number" || !(p >= 0 && p < 1)) throw new Error(`${fn}: ${name} must be in [0, 1), got ${describeValue(p)}`);
}

let trustedDepth = 0;

/**
 * Run `fn` with the value checks off: checkFinite and the other checks that read a tensor's values back
 * (a blocking dataSync each) pass at once. For a module's own inner steps, on tensors it made from inputs
 * it checked where they came in; shape and type checks still run.
 */
export function trusted<T>(fn: () => T): T {
  trustedDepth++;
  try {
    return fn();
  } finally {
    trustedDepth--;
  }
}

/** Whether the values in hand were checked where they came in (inside trusted()). */
export function valuesTrusted(): boolean {
  return trustedDepth > 0;
}

/**
 * Values passed in by the learner must be finite (no NaN, no Infinity); with `allowMinusInfinity`,
 * -Infinity (a masked score) is allowed. An empty tensor has nothing to check.
 */
export function checkFinite(x: tf.Tensor, fn: string, name: string, allowMinusInfinity = false): void {
  if (x.size === 0 || x.dtype === "bool" || valuesTrusted()) return;
  const bad = tf.tidy(() => {
    const ok = allowMinusInfinity ? tf.logicalOr(tf.isFinite(x), tf.equal(x, -Infinity)) : tf.isFinite(x);
    return tf.logicalNot(tf.all(ok)).dataSync()[0];
  });
  if (bad) {
    const what = allowMinusInfinity
      ? "NaN or +Infinity; expected numbers (-Infinity marks a masked entry)"
      : "NaN or Infinity; expected finite numbers";
    throw new Error(`${fn}: ${name} contains ${what}`);
  }
}

/**
 * Token ids for an embedding: a live int32 tensor [batch, tokens], every id in [0, vocab). The range check
 * reads the ids back (one dataSync), so it is skipped inside trusted().
 */
export function checkTokenIds(ids: unknown, vocab: number, fn: string, name: string, ranks = [2]): asserts ids is tf.Tensor {
  checkTensor(ids, fn, name);
  checkRank(ids, ranks, fn, name, ranks.length === 1 ? "[batch, tokens]" : "[batch] or [batch, tokens]");
  if (ids.dtype !== "int32")
    throw new Error(`${fn}: ${name} holds ${ids.dtype} values; expected int32 token ids (tf.tensor2d(ids, [batch, tokens], "int32"))`);
  if (ids.size === 0 || valuesTrusted()) return;
  const [lo, hi] = tf.tidy(() => [tf.min(ids), tf.max(ids)].map((t) => t.dataSync()[0]));
  if (lo < 0 || hi >= vocab) {
    throw new Error(
      `${fn}: ${name} holds the id ${lo < 0 ? lo : hi}, outside the vocabulary's ids 0..${vocab - 1}; encode the words with the model's vocabulary`,
    );
  }
}

/** A tensor of numbers to compute with: a live float32 tensor with finite values. */
export function checkNumbers(x: unknown, fn: string, name: string, allowMinusInfinity = false): asserts x is tf.Tensor {
  checkTensor(x, fn, name);
  checkFloat(x, fn, name);
  checkFinite(x, fn, name, allowMinusInfinity);
}

/** A size in bytes as people read it: 1.5 GiB, 256 MiB. */
const sizeStr = (bytes: number) => (bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${(bytes / 2 ** 20).toFixed(0)} MiB`);

/**
 * The largest tensor the course lets one call make: 512 MiB (128 million float32 numbers). tfjs's wasm
 * backend has at most 4 GiB of memory in all and traps (leaving itself broken) when a tensor does not fit;
 * attention holds several score-sized tensors at once (scores, their exponentials, the weights).
 */
export const MAX_TENSOR_BYTES = 512 * 2 ** 20;

/** Refuse, before starting, work whose largest tensor would hold more than MAX_TENSOR_BYTES. */
export function checkFits(shape: number[], fn: string, what: string, advice: string): void {
  const bytes = shape.reduce((a, b) => a * b, 1) * 4;
  if (bytes > MAX_TENSOR_BYTES) {
    throw new Error(
      `${fn}: ${what} ${shapeStr(shape)} would take ${sizeStr(bytes)}, more than the ${MAX_TENSOR_BYTES / 2 ** 20} MiB one call may use; ${advice}`,
    );
  }
}

/** What to do when an attention matrix is too large. */
export const FEWER_TOKENS = "use fewer tokens (or a smaller batch); the memory-efficient attention of notebook 07 never builds the whole matrix";

/**
 * What all the score-sized tensors of one attention call may take together: 3 GiB of the wasm backend's 4 GiB
 * (measured: MultiHeadAttention at T = 8192, one head, peaks at 2.8 GiB and runs; twice that traps).
 */
export const MAX_ATTENTION_BYTES = 3 * 2 ** 30;

/**
 * The T_q x T_k score matrices of attention over `leading` (batch, heads) axes must fit, one by one and
 * together: the readable path holds about `copies` tensors of that size at once (scores, scaled scores,
 * the mask and its pieces, exponentials, weights) until its tf.tidy ends.
 */
export function checkAttentionFits(leading: number[], tq: number, tk: number, fn: string, copies = 12): void {
  const shape = [...leading, tq, tk];
  checkFits(shape, fn, "the attention scores", FEWER_TOKENS);
  const one = shape.reduce((a, b) => a * b, 1) * 4;
  if (one * copies > MAX_ATTENTION_BYTES) {
    throw new Error(
      `${fn}: the attention scores ${shapeStr(shape)} take ${sizeStr(one)}, and this computation holds about ${copies} tensors of that size at once (${sizeStr(one * copies)}), more than the ${sizeStr(MAX_ATTENTION_BYTES)} attention may use; ${FEWER_TOKENS}`,
    );
  }
}

/**
 * Token embeddings given to an attention module: [tokens, d_in] or [batch, tokens, d_in], at least one
 * batch item and one token, the expected d_in, float32, finite values.
 */
export function checkInputs(x: unknown, dIn: number | null, fn: string, name = "inputs"): asserts x is tf.Tensor {
  checkTensor(x, fn, name);
  checkRank(x, [2, 3], fn, name, "[tokens, d_in] or [batch, tokens, d_in]");
  if (x.rank === 3 && x.shape[0] === 0)
    throw new Error(`${fn}: ${name} is an empty batch (shape ${shapeStr(x.shape)}); expected at least one sequence`);
  const tokens = x.shape[x.rank - 2];
  if (tokens === 0) throw new Error(`${fn}: ${name} is an empty sequence (shape ${shapeStr(x.shape)}); expected at least one token`);
  const d = x.shape[x.rank - 1];
  if (dIn !== null && d !== dIn) {
    throw new Error(`${fn}: ${name} has d_in = ${d} (shape ${shapeStr(x.shape)}), but the weights expect d_in = ${dIn}`);
  }
  if (d === 0) throw new Error(`${fn}: ${name} has d_in = 0 (shape ${shapeStr(x.shape)}); expected at least one number per token`);
  checkFloat(x, fn, name);
  checkFinite(x, fn, name);
}

/**
 * A mask of 1 (keep) and 0 (hide), [..., tokens]: every value 0 or 1, and at least one 1 in each row (a row of
 * 0s leaves nothing to attend to, and its weights would be NaN or made up). One read of the values; skipped
 * inside trusted(). `row` names a row in the message ("sentence", "query").
 */
export function checkMaskRows(mask: tf.Tensor, fn: string, name: string, row = "row"): void {
  if (mask.size === 0 || valuesTrusted()) return;
  const [notBinary, firstBad, emptyRows, firstEmpty] = tf.tidy(() => {
    const m = mask.toFloat().reshape([-1, mask.shape[mask.rank - 1] ?? 1]); // [rows, tokens]
    const flat = m.flatten();
    const bad = tf.logicalNot(tf.logicalOr(tf.equal(flat, 0), tf.equal(flat, 1))).toFloat();
    const empty = tf.lessEqual(m.max(1), 0).toFloat(); // [rows]; a row of 0s (its bad values are caught first)
    const out = tf.stack([bad.sum(), flat.gather(bad.argMax()), empty.sum(), empty.argMax().toFloat()]);
    return Array.from(out.dataSync());
  });
  if (notBinary > 0) {
    throw new Error(`${fn}: ${name} holds ${firstBad}; expected only 1 (keep) and 0 (hide)`);
  }
  if (emptyRows > 0) {
    throw new Error(
      `${fn}: ${name} hides every token of ${row} ${firstEmpty}${emptyRows > 1 ? ` (and ${emptyRows - 1} more)` : ""}; expected at least one 1 in each ${row}`,
    );
  }
}

/**
 * A tensor with an axis of size 0 (no batch item, no token, no number per token) holds nothing to compute with:
 * tfjs would return an empty result, or a wasm kernel read out of bounds. `layout` names the axes for the message.
 */
export function checkNotEmpty(x: tf.Tensor, fn: string, name: string, layout: string): void {
  if (x.size === 0) {
    throw new Error(`${fn}: ${name} has an axis of size 0 (shape ${shapeStr(x.shape)}, ${layout}); expected at least one entry along every axis`);
  }
}
