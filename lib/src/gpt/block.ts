// One block of the GPT (notebook 09), in the shape of the book's chapter 4 TransformerBlock: pre-norm causal
// multi-head attention and a feed-forward network, each added back to its input (the residual connection).
import * as tf from "@tensorflow/tfjs";
import { Generator } from "../core/random";
import { ModuleBase } from "../core/module";
import { MultiHeadAttention } from "../attention/multihead";
import { dropout } from "../attention/dropout";
import { FeedForward, LayerNorm } from "../transformer/blocks";

/** What a GPT block's attention is: its width, heads, and notebook 09's options (GQA/MQA, MLA, sliding window). */
export interface GPTBlockSizes {
  d: number;
  heads: number;
  /** Key/value heads (default heads: multi-head attention; 1 is MQA). */
  kvHeads: number;
  /** MLA's latent width per token, or null. */
  kvLatent: number | null;
  /** Sliding window (keys per query, itself included), or null for full causal attention. */
  window: number | null;
  hidden: number;
  dropout: number;
  contextLength: number;
}

/** x -> x + attention(norm1(x)) -> ... + feedForward(norm2(...)): [b, T, d] -> [b, T, d] */
export class GPTBlock extends ModuleBase {
  readonly norm1: LayerNorm;
  readonly attention: MultiHeadAttention;
  readonly norm2: LayerNorm;
  readonly feedForward: FeedForward;
  constructor(
    readonly sizes: GPTBlockSizes,
    private readonly gen: Generator,
  ) {
    super();
    this.norm1 = new LayerNorm(sizes.d);
    this.attention = new MultiHeadAttention(sizes.d, sizes.d, sizes.contextLength, sizes.dropout, sizes.heads, {
      kvHeads: sizes.kvHeads,
      ...(sizes.kvLatent === null ? {} : { kvLatent: sizes.kvLatent }),
      window: sizes.window ?? undefined,
      generator: gen,
    });
    this.norm2 = new LayerNorm(sizes.d);
    this.feedForward = new FeedForward(sizes.d, sizes.hidden, gen);
  }

  private residual(x: tf.Tensor, y: tf.Tensor): tf.Tensor {
    return tf.add(x, dropout(y, this.sizes.dropout, { training: this.training, generator: this.gen }));
  }

  /** [b, T, d] -> [b, T, d]; with useCache only the newest tokens come in and the attention keeps the rest. */
  forward(x: tf.Tensor, options: { useCache?: boolean } = {}): tf.Tensor {
    return tf.tidy(() => this.explain(x, options).output);
  }

  /** The output and the attention weights [b, heads, T, T_k] of this block. */
  explain(x: tf.Tensor, options: { useCache?: boolean } = {}): { output: tf.Tensor; weights: tf.Tensor } {
    const parts = this.attention.explain(this.norm1.forward(x), { useCache: options.useCache ?? false });
    const a = this.residual(x, parts.context);
    return { output: this.residual(a, this.feedForward.forward(this.norm2.forward(a))), weights: parts.weights };
  }
}
