// Causal self-attention, its multi-head wrapper, and the efficient multi-head module.
// All take inputs [batch, tokens, d_in] (or [tokens, d_in]) with tokens <= the context length.
import * as tf from "@tensorflow/tfjs";
import { checkInputs, checkPositiveInt, shapeStr } from "../checks";
import { Generator, defaultGenerator } from "../random";
import { causalSoftmax } from "./causal";
import { dropout } from "./dropout";
import { headDim, mergeHeads, splitHeads } from "./heads";
import { Linear } from "./linear";
import type { Module } from "./module";
import { attentionScores, contextVectors } from "./scores";

export interface CausalOptions {
  /** Bias in the query/key/value projections (default false, as in GPT-2 from the book). */
  qkvBias?: boolean;
  generator?: Generator;
}

/** What a causal attention module computed, for printing and plotting. Free with tf.dispose(parts). */
export type CausalParts = {
  scores: tf.Tensor; // [b, (heads,) T, T] q·k before scaling and masking
  weights: tf.Tensor; // [b, (heads,) T, T] after the causal softmax and dropout
  context: tf.Tensor; // [b, T, d_out] the module's output
};

/** Check inputs against d_in and the context length; returns them as a batch [b, T, d_in]. */
function batchOf(x: tf.Tensor, dIn: number, contextLength: number, fn: string): tf.Tensor3D {
  checkInputs(x, dIn, fn);
  const t = x.shape[x.rank - 2];
  if (t > contextLength) {
    throw new Error(`${fn}: inputs have ${t} tokens (shape ${shapeStr(x.shape)}), more than the context length ${contextLength}; pass at most ${contextLength} tokens or build the module with a longer context length`);
  }
  return (x.rank === 2 ? x.expandDims(0) : x) as tf.Tensor3D;
}

/** Undo batchOf's batch of one for [T, d_in] inputs. */
function unbatch<T extends Record<string, tf.Tensor>>(parts: T, rank: number): T {
  if (rank === 3) return parts;
  return Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, v.squeeze([0])])) as T;
}

abstract class CausalBase implements Module {
  /** Training mode applies dropout to the attention weights; evaluation mode does not. Default: training, like PyTorch. */
  training = true;

  constructor(
    readonly dIn: number,
    readonly dOut: number,
    readonly contextLength: number,
    readonly dropoutP: number,
  ) {
    const fn = this.constructor.name;
    checkPositiveInt(dIn, fn, "d_in");
    checkPositiveInt(dOut, fn, "d_out");
    checkPositiveInt(contextLength, fn, "context_length");
    if (!(dropoutP >= 0 && dropoutP < 1)) throw new Error(`${fn}: dropout must be in [0, 1), got ${dropoutP}`);
  }

  train(): this {
    this.training = true;
    return this;
  }

  eval(): this {
    this.training = false;
    return this;
  }

  abstract parameters(): tf.Variable[];
  abstract explain(inputs: tf.Tensor): CausalParts;

  /** inputs [b, T, d_in] -> context vectors [b, T, d_out] (or [T, d_in] -> [T, d_out]) */
  forward(inputs: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.explain(inputs).context);
  }

  dispose(): void {
    for (const p of this.parameters()) p.dispose();
  }

  /** The causal softmax of scaled scores, then dropout: [..., T, T] -> [..., T, T]. */
  protected attend(scores: tf.Tensor, dK: number, generator: Generator): tf.Tensor {
    const weights = causalSoftmax(tf.div(scores, Math.sqrt(dK)));
    return dropout(weights, this.dropoutP, { training: this.training, generator });
  }
}

/** One causal self-attention head: W_query, W_key, W_value (Linear d_in -> d_out), causal mask, dropout. */
export class CausalAttention extends CausalBase {
  readonly W_query: Linear;
  readonly W_key: Linear;
  readonly W_value: Linear;
  private readonly generator: Generator;

  constructor(dIn: number, dOut: number, contextLength: number, dropoutP = 0, options: CausalOptions = {}) {
    super(dIn, dOut, contextLength, dropoutP);
    this.generator = options.generator ?? defaultGenerator;
    const opts = { bias: options.qkvBias ?? false, generator: this.generator };
    this.W_query = new Linear(dIn, dOut, opts);
    this.W_key = new Linear(dIn, dOut, opts);
    this.W_value = new Linear(dIn, dOut, opts);
  }

  explain(inputs: tf.Tensor): CausalParts {
    const x = batchOf(inputs, this.dIn, this.contextLength, "CausalAttention");
    return tf.tidy(() => {
      const queries = this.W_query.apply(x); // [b, T, d_out]
      const keys = this.W_key.apply(x);
      const values = this.W_value.apply(x);
      const scores = attentionScores(queries, keys); // [b, T, T]
      const weights = this.attend(scores, this.dOut, this.generator);
      const context = contextVectors(weights, values); // [b, T, d_out]
      return unbatch({ scores, weights, context }, inputs.rank);
    });
  }

  parameters(): tf.Variable[] {
    return [...this.W_query.parameters(), ...this.W_key.parameters(), ...this.W_value.parameters()];
  }
}

/** Several CausalAttention heads side by side; their outputs are concatenated: d_out x heads wide. */
export class MultiHeadAttentionWrapper extends CausalBase {
  readonly heads: CausalAttention[];

  constructor(dIn: number, dOut: number, contextLength: number, dropoutP: number, numHeads: number, options: CausalOptions = {}) {
    super(dIn, dOut, contextLength, dropoutP);
    checkPositiveInt(numHeads, "MultiHeadAttentionWrapper", "the number of heads");
    this.heads = Array.from({ length: numHeads }, () => new CausalAttention(dIn, dOut, contextLength, dropoutP, options));
  }

  /** weights are stacked per head: [b, heads, T, T]; context is [b, T, d_out * heads]. */
  explain(inputs: tf.Tensor): CausalParts {
    batchOf(inputs, this.dIn, this.contextLength, "MultiHeadAttentionWrapper");
    return tf.tidy(() => {
      const parts = this.heads.map((h) => {
        h.training = this.training;
        return h.explain(inputs);
      });
      const headAxis = inputs.rank - 2; // [b, heads, T, T], or [heads, T, T] without batch
      return {
        scores: tf.stack(parts.map((p) => p.scores), headAxis),
        weights: tf.stack(parts.map((p) => p.weights), headAxis),
        context: tf.concat(parts.map((p) => p.context), -1),
      };
    });
  }

  parameters(): tf.Variable[] {
    return this.heads.flatMap((h) => h.parameters());
  }
}

/**
 * Efficient multi-head attention: one projection each for queries, keys and values (d_in -> d_out),
 * split into heads by reshape and transpose, all heads attended in one batched matrix product,
 * merged back, then an output projection (d_out -> d_out, with bias).
 */
export class MultiHeadAttention extends CausalBase {
  readonly numHeads: number;
  readonly headDim: number;
  readonly W_query: Linear;
  readonly W_key: Linear;
  readonly W_value: Linear;
  readonly out_proj: Linear;
  private readonly generator: Generator;

  constructor(dIn: number, dOut: number, contextLength: number, dropoutP: number, numHeads: number, options: CausalOptions = {}) {
    super(dIn, dOut, contextLength, dropoutP);
    this.numHeads = numHeads;
    this.headDim = headDim(dOut, numHeads, "MultiHeadAttention");
    this.generator = options.generator ?? defaultGenerator;
    const opts = { bias: options.qkvBias ?? false, generator: this.generator };
    this.W_query = new Linear(dIn, dOut, opts);
    this.W_key = new Linear(dIn, dOut, opts);
    this.W_value = new Linear(dIn, dOut, opts);
    this.out_proj = new Linear(dOut, dOut, { bias: true, generator: this.generator });
  }

  /** scores and weights are [b, heads, T, T]; context is the output [b, T, d_out]. */
  explain(inputs: tf.Tensor): CausalParts {
    const x = batchOf(inputs, this.dIn, this.contextLength, "MultiHeadAttention");
    return tf.tidy(() => {
      const queries = splitHeads(this.W_query.apply(x), this.numHeads); // [b, heads, T, head_dim]
      const keys = splitHeads(this.W_key.apply(x), this.numHeads);
      const values = splitHeads(this.W_value.apply(x), this.numHeads);
      const scores = tf.matMul(queries, keys, false, true); // [b, heads, T, T]
      const weights = this.attend(scores, this.headDim, this.generator);
      const context = this.out_proj.apply(mergeHeads(tf.matMul(weights, values))); // [b, T, d_out]
      return unbatch({ scores, weights, context }, inputs.rank);
    });
  }

  parameters(): tf.Variable[] {
    return [...this.W_query.parameters(), ...this.W_key.parameters(), ...this.W_value.parameters(), ...this.out_proj.parameters()];
  }
}

/**
 * An efficient MultiHeadAttention that computes exactly what `wrapper` computes: head h's query, key and
 * value weights become rows h*d_out .. (h+1)*d_out - 1 of the big projections, and the output projection
 * is the identity (zero bias), since the wrapper has none. Uses its own generator for the throwaway
 * initial weights, so the course's random stream is not disturbed.
 */
export function multiHeadFromWrapper(wrapper: MultiHeadAttentionWrapper): MultiHeadAttention {
  const heads = wrapper.heads.length;
  const width = wrapper.dOut * heads;
  const mha = new MultiHeadAttention(wrapper.dIn, width, wrapper.contextLength, wrapper.dropoutP, heads, {
    qkvBias: wrapper.heads[0].W_query.bias !== null,
    generator: new Generator(0),
  });
  tf.tidy(() => {
    for (const name of ["W_query", "W_key", "W_value"] as const) {
      mha[name].weight.assign(tf.concat(wrapper.heads.map((h) => h[name].weight), 0));
      mha[name].bias?.assign(tf.concat(wrapper.heads.map((h) => h[name].bias!), 0));
    }
    mha.out_proj.weight.assign(tf.eye(width));
    mha.out_proj.bias!.assign(tf.zeros([width]));
  });
  mha.training = wrapper.training;
  return mha;
}
