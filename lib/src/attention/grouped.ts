// Grouped-query attention (notebook 09): fewer key/value heads than query heads, each shared by a group of query
// heads, so the cache of keys and values shrinks by heads / kvHeads. kvHeads = heads is multi-head attention;
// kvHeads = 1 is multi-query attention (MQA).
import * as tf from "@tensorflow/tfjs";
import { Generator, defaultGenerator } from "../core/random";
import { Linear } from "../core/linear";
import { checkAttentionFits, checkPositiveInt } from "../core/checks";
import { CausalBase, explainChecked, type CausalOptions, type CausalParts } from "./causalattention";
import { headDimOf, mergeHeads, splitHeads } from "./heads";
import type { MultiHeadAttention } from "./multihead";

/**
 * Causal attention with `numHeads` query heads and `numKvHeads` key/value heads: W_query d_in -> d_out as in
 * MultiHeadAttention, W_key and W_value d_in -> numKvHeads * head_dim; query head h reads key/value head
 * floor(h / (numHeads / numKvHeads)). Options as MultiHeadAttention's (qkvBias, causal, window, generator).
 */
export class GroupedQueryAttention extends CausalBase {
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly W_query: Linear;
  readonly W_key: Linear;
  readonly W_value: Linear;
  readonly out_proj: Linear;
  private readonly generator: Generator;

  constructor(dIn: number, dOut: number, contextLength: number, dropoutP: number, numHeads: number, numKvHeads: number, options: CausalOptions = {}) {
    const fn = "GroupedQueryAttention";
    const headDim = headDimOf(dOut, numHeads, fn);
    checkPositiveInt(numKvHeads, fn, "num_kv_heads");
    if (numHeads % numKvHeads !== 0)
      throw new Error(
        `${fn}: num_heads = ${numHeads} is not a multiple of num_kv_heads = ${numKvHeads}; each key/value head serves the same number of query heads`,
      );
    super(dIn, dOut, contextLength, dropoutP, options.causal, options.window ?? null);
    this.numHeads = numHeads;
    this.numKvHeads = numKvHeads;
    this.headDim = headDim;
    this.generator = options.generator ?? defaultGenerator;
    const opts = { bias: options.qkvBias ?? false, generator: this.generator };
    this.W_query = new Linear(dIn, dOut, opts);
    this.W_key = new Linear(dIn, numKvHeads * headDim, opts);
    this.W_value = new Linear(dIn, numKvHeads * headDim, opts);
    this.out_proj = new Linear(dOut, dOut, { bias: true, generator: this.generator });
  }

  /** Which key/value head each query head reads: [numHeads] of 0 .. numKvHeads - 1. */
  get kvHeadOf(): number[] {
    const group = this.numHeads / this.numKvHeads;
    return Array.from({ length: this.numHeads }, (_, h) => Math.floor(h / group));
  }

  /** scores and weights [b, heads, T, T]; context [b, T, d_out]. */
  explain(inputs: tf.Tensor): CausalParts {
    return explainChecked(this, inputs, "GroupedQueryAttention", (x) => {
      const [b, T] = x.shape;
      checkAttentionFits([b, this.numHeads], T, T, "GroupedQueryAttention");
      const queries = splitHeads(this.W_query.forward(x), this.numHeads); // [b, heads, T, head_dim]
      // Query head h reads key/value head kvHeadOf[h]: [b, kvHeads, T, hd] -> [b, heads, T, hd].
      const share = (t: tf.Tensor) => {
        const kv = splitHeads(t, this.numKvHeads);
        return tf.concat(
          this.kvHeadOf.map((g) => kv.slice([0, g, 0, 0], [b, 1, T, this.headDim])),
          1,
        );
      };
      const keys = share(this.W_key.forward(x));
      const values = share(this.W_value.forward(x));
      const scores = tf.matMul(queries, keys, false, true); // [b, heads, T, T]
      const weights = this.attend(scores, this.headDim, this.generator);
      const context = this.out_proj.forward(mergeHeads(tf.matMul(weights, values)));
      return { scores, weights, context };
    });
  }

  /** Copy a MultiHeadAttention's weights in (numKvHeads = numHeads and the same sizes): the two then compute the same. */
  copyWeightsFrom(mha: MultiHeadAttention): this {
    if (this.numKvHeads !== mha.numHeads || this.numHeads !== mha.numHeads || this.dIn !== mha.dIn || this.dOut !== mha.dOut)
      throw new Error(
        `GroupedQueryAttention.copyWeightsFrom: needs the same d_in, d_out and heads, and num_kv_heads = num_heads; got ${this.numKvHeads} kv heads for ${mha.numHeads} heads`,
      );
    tf.tidy(() => {
      for (const n of ["W_query", "W_key", "W_value", "out_proj"] as const) {
        this[n].weight.assign(mha[n].weight);
        if (this[n].bias && mha[n].bias) this[n].bias!.assign(mha[n].bias!);
      }
    });
    return this;
  }

  parameters(): tf.Variable[] {
    return [...this.W_query.parameters(), ...this.W_key.parameters(), ...this.W_value.parameters(), ...this.out_proj.parameters()];
  }
}

/**
 * Bytes of the key/value cache per token of context: keys and values (2) x layers x kvHeads x head_dim x bytes per
 * number. Multi-head attention is kvHeads = heads; a sliding window caps the tokens kept at the window.
 */
export function kvCacheBytesPerToken(layers: number, kvHeads: number, headDim: number, bytesPerNumber = 2): number {
  for (const [v, n] of [
    [layers, "layers"],
    [kvHeads, "kvHeads"],
    [headDim, "headDim"],
    [bytesPerNumber, "bytesPerNumber"],
  ] as const)
    checkPositiveInt(v, "kvCacheBytesPerToken", n);
  return 2 * layers * kvHeads * headDim * bytesPerNumber;
}
