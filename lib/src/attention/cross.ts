// Cross-attention (notebook 08): multi-head attention whose queries come from one sequence and whose keys and
// values come from another, e.g. a translator's decoder reading its encoder's states. With the same sequence on
// both sides it is self-attention; a key mask hides padding, and `causal` hides later keys.
import * as tf from "@tensorflow/tfjs";
import { Generator, defaultGenerator } from "../core/random";
import { Linear } from "../core/linear";
import { ModuleBase } from "../core/module";
import { futurePattern, MASKED_FINITE } from "../core/mask";
import { checkDropout, checkInputs, checkTensor, shapeStr } from "../core/checks";
import { checkAlive } from "../core/module";
import { headDimOf, mergeHeads, splitHeads } from "./heads";
import { dropout } from "./dropout";

export interface CrossAttentionOptions {
  generator?: Generator;
  /** Bias in the query/key/value projections (default true, as in the 2017 Transformer). */
  qkvBias?: boolean;
}

/** The keys and values of the positions decoded so far, per head: [b, heads, T, head_dim] each. */
export type KVCache = {
  keys: tf.Tensor4D;
  values: tf.Tensor4D;
};

export interface AttendOptions {
  /** [b, T_k]: 1 for a token, 0 for padding, which gets weight 0 as a key. */
  keyMask?: tf.Tensor;
  /** Hide the keys after each query (self-attention in a decoder: T_q = T_k). */
  causal?: boolean;
  /** Turn queries and keys [b, heads, T, head_dim] by their positions before the scores (rotary embeddings). */
  rotate?: (t: tf.Tensor4D) => tf.Tensor4D;
}

/**
 * Multi-head attention with W_query, W_key, W_value and out_proj as in MultiHeadAttention (notebook 06): queries
 * from x [b, T_q, d_in], keys and values from memory [b, T_k, d_in] -> [b, T_q, d_out]. Dropout on the weights in
 * training mode.
 */
export class CrossAttention extends ModuleBase {
  readonly numHeads: number;
  readonly headDim: number;
  readonly W_query: Linear;
  readonly W_key: Linear;
  readonly W_value: Linear;
  readonly out_proj: Linear;
  private readonly generator: Generator;

  constructor(
    readonly dIn: number,
    readonly dOut: number,
    numHeads: number,
    readonly dropoutP = 0,
    options: CrossAttentionOptions = {},
  ) {
    super();
    this.headDim = headDimOf(dOut, numHeads, "CrossAttention");
    checkDropout(dropoutP, "CrossAttention");
    this.numHeads = numHeads;
    this.generator = options.generator ?? defaultGenerator;
    const opts = { bias: options.qkvBias ?? true, generator: this.generator };
    this.W_query = new Linear(dIn, dOut, opts);
    this.W_key = new Linear(dIn, dOut, opts);
    this.W_value = new Linear(dIn, dOut, opts);
    this.out_proj = new Linear(dOut, dOut, { bias: true, generator: this.generator });
  }

  /** Where the learner's tensors come in: shapes that fit this module and each other, finite values. */
  private checkCall(x: unknown, fn: string, memory?: unknown, options: AttendOptions = {}): void {
    checkAlive(this, fn);
    const inputs: [unknown, string][] =
      memory === undefined
        ? [[x, "x"]]
        : [
            [x, "x"],
            [memory, "memory"],
          ];
    for (const [t, name] of inputs) {
      checkInputs(t, this.dIn, fn, name);
      if (t.rank !== 3) throw new Error(`${fn}: ${name} must be [batch, tokens, d_in], got shape ${shapeStr(t.shape)}`);
    }
    if (memory === undefined) return;
    const [xs, ms] = [(x as tf.Tensor).shape, (memory as tf.Tensor).shape];
    if (xs[0] !== ms[0])
      throw new Error(
        `${fn}: x has ${xs[0]} sequences (shape ${shapeStr(xs)}) but memory has ${ms[0]} (shape ${shapeStr(ms)}); expected one memory per sequence`,
      );
    if (options.keyMask !== undefined) {
      checkTensor(options.keyMask, fn, "keyMask");
      if (options.keyMask.shape.join() !== [ms[0]!, ms[1]!].join())
        throw new Error(
          `${fn}: keyMask has shape ${shapeStr(options.keyMask.shape)}; expected one 0/1 per memory token, [batch, T_k] = ${shapeStr([ms[0]!, ms[1]!])}`,
        );
    }
    if (options.causal && xs[1] !== ms[1])
      throw new Error(
        `${fn}: causal hides the keys after each query, which needs x and memory of the same length (self-attention); got ${xs[1]} and ${ms[1]} tokens`,
      );
  }

  /** The weights [b, heads, T_q, T_k] and the output [b, T_q, d_out]. */
  explain(x: tf.Tensor, memory: tf.Tensor, options: AttendOptions = {}): { weights: tf.Tensor; context: tf.Tensor } {
    this.checkCall(x, "CrossAttention", memory, options);
    return tf.tidy(() => {
      const [b, Tq] = x.shape;
      const Tk = memory.shape[1]!;
      let q = splitHeads(this.W_query.forward(x), this.numHeads); // [b, heads, T_q, head_dim]
      let k = splitHeads(this.W_key.forward(memory), this.numHeads); // [b, heads, T_k, head_dim]
      const v = splitHeads(this.W_value.forward(memory), this.numHeads);
      if (options.rotate) [q, k] = [options.rotate(q), options.rotate(k)];
      let scores = tf.div(tf.matMul(q, k, false, true), Math.sqrt(this.headDim)); // [b, heads, T_q, T_k]
      if (options.keyMask) scores = tf.add(scores, tf.mul(tf.sub(1, options.keyMask), MASKED_FINITE).reshape([b, 1, 1, Tk]));
      if (options.causal) scores = tf.add(scores, tf.mul(tf.tensor(futurePattern(Tq!, Tk), [Tq!, Tk], "float32"), MASKED_FINITE));
      const weights = dropout(tf.softmax(scores), this.dropoutP, { training: this.training, generator: this.generator });
      const context = this.out_proj.forward(mergeHeads(tf.matMul(weights, v))); // [b, T_q, d_out]
      return { weights, context };
    });
  }

  /**
   * One step of incremental decoding with a KV cache (notebook 09): the new tokens x [b, T_new, d_in] attend to the
   * cached keys and values of every earlier position plus their own. Returns the output [b, T_new, d_out] and the
   * cache with the new keys and values appended ([b, heads, T_past + T_new, head_dim] each); the caller frees the old
   * one. `rotate(t, offset)` turns the new queries and keys at their positions. Causal by construction: the new tokens
   * come after everything cached (and among themselves, later ones are hidden from earlier ones).
   */
  step(x: tf.Tensor, cache: KVCache | null, rotate?: (t: tf.Tensor4D, offset: number) => tf.Tensor4D): { output: tf.Tensor; cache: KVCache } {
    const fn = "CrossAttention.step";
    this.checkCall(x, fn);
    if (cache) {
      const want = [x.shape[0], this.numHeads, null, this.headDim];
      for (const [t, name] of [
        [cache.keys, "cache.keys"],
        [cache.values, "cache.values"],
      ] as const) {
        checkTensor(t, fn, name);
        if (t.rank !== 4 || want.some((w, i) => w !== null && t.shape[i] !== w))
          throw new Error(
            `${fn}: ${name} has shape ${shapeStr(t.shape)}; expected [batch, heads, T_past, head_dim] = [${x.shape[0]}, ${this.numHeads}, T_past, ${this.headDim}]`,
          );
      }
    }
    return tf.tidy(() => {
      const past = cache ? cache.keys.shape[2] : 0;
      const Tn = x.shape[1]!;
      let q = splitHeads(this.W_query.forward(x), this.numHeads); // [b, heads, T_new, head_dim]
      let k = splitHeads(this.W_key.forward(x), this.numHeads);
      const v = splitHeads(this.W_value.forward(x), this.numHeads);
      if (rotate) [q, k] = [rotate(q, past), rotate(k, past)];
      const keys = cache ? tf.concat([cache.keys, k], 2) : k; // [b, heads, T_past + T_new, head_dim]
      const values = cache ? tf.concat([cache.values, v], 2) : v;
      let scores = tf.div(tf.matMul(q, keys, false, true), Math.sqrt(this.headDim)); // [b, heads, T_new, T_past + T_new]
      if (Tn > 1) scores = tf.add(scores, tf.mul(tf.tensor(futurePattern(Tn, past + Tn, past), [Tn, past + Tn], "float32"), MASKED_FINITE));
      const weights = dropout(tf.softmax(scores), this.dropoutP, { training: this.training, generator: this.generator });
      const output = this.out_proj.forward(mergeHeads(tf.matMul(weights, values)));
      return { output, cache: { keys: keys as tf.Tensor4D, values: values as tf.Tensor4D } };
    });
  }

  forward(x: tf.Tensor, memory: tf.Tensor, options: AttendOptions = {}): tf.Tensor {
    return tf.tidy(() => this.explain(x, memory, options).context);
  }

  parameters(): tf.Variable[] {
    return [...this.W_query.parameters(), ...this.W_key.parameters(), ...this.W_value.parameters(), ...this.out_proj.parameters()];
  }
}
