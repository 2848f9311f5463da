// The Transformer's blocks (notebook 08): layer norm, the feed-forward network, and the encoder and decoder blocks
// that put them around attention with residual connections. Pre-norm, as in GPT-2: x + f(LayerNorm(x)).
import * as tf from "@tensorflow/tfjs";
import { Generator, checkGenerator } from "../core/random";
import { checkBoolean, checkNotEmpty, checkNumbers, checkOptions, checkPositive, checkPositiveInt, checkTensor, shapeStr } from "../core/checks";
import { Linear, variableFrom } from "../core/linear";
import { ModuleBase } from "../core/module";
import { MultiHeadAttention } from "../attention/multihead";
import { dropout } from "../attention/dropout";

/** Normalise each token's vector to mean 0 and variance 1, then scale and shift (learned): [..., d] -> [..., d]. */
export class LayerNorm extends ModuleBase {
  readonly scale: tf.Variable; // [d], starts at 1
  readonly shift: tf.Variable; // [d], starts at 0
  constructor(
    readonly d: number,
    readonly eps = 1e-5,
  ) {
    super();
    checkPositiveInt(d, "LayerNorm", "d");
    checkPositive(eps, "LayerNorm", "eps");
    this.scale = variableFrom(new Float32Array(d).fill(1), [d]);
    this.shift = variableFrom(new Float32Array(d), [d]);
  }
  forward(x: tf.Tensor): tf.Tensor {
    checkNumbers(x, "LayerNorm", "x");
    if (x.rank < 1 || x.shape[x.rank - 1] !== this.d)
      throw new Error(`LayerNorm: x has shape ${shapeStr(x.shape)}; expected [..., d] with d = ${this.d}, the width it normalises`);
    checkNotEmpty(x, "LayerNorm", "x", "[..., d]");
    return tf.tidy(() => {
      const { mean, variance } = tf.moments(x, -1, true);
      return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, this.eps))), this.scale), this.shift);
    });
  }
}

/** Two linear layers with a ReLU between, applied to each token on its own: [..., d] -> [..., hidden] -> [..., d]. */
export class FeedForward extends ModuleBase {
  readonly up: Linear;
  readonly down: Linear;
  constructor(d: number, hidden: number, gen: Generator) {
    super();
    this.up = new Linear(d, hidden, { generator: gen });
    this.down = new Linear(hidden, d, { generator: gen });
  }
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.down.forward(tf.relu(this.up.forward(x))));
  }
}

export interface BlockSizes {
  d: number;
  heads: number;
  hidden: number;
  dropout: number;
  /** The longest sequence attention takes (the causal mask's size). */
  contextLength: number;
  /** Rotary positions in self-attention (notebook 08's third scheme). */
  rope: boolean;
}

/** The Transformer's attention: notebook 06's MultiHeadAttention with biases (as in the 2017 paper). */
function attention(sizes: BlockSizes, gen: Generator, kind: "encoder" | "decoder" | "cross"): MultiHeadAttention {
  return new MultiHeadAttention(sizes.d, sizes.d, sizes.contextLength, sizes.dropout, sizes.heads, {
    qkvBias: true,
    causal: kind === "decoder",
    rope: kind !== "cross" && sizes.rope,
    generator: gen,
  });
}

/** A block's sizes: { d, heads, hidden, contextLength } positive integers, rope true or false (dropout is checked by its attention). */
function checkBlockSizes(sizes: unknown, fn: string): asserts sizes is BlockSizes {
  checkOptions(sizes, fn, "{ d: 8, heads: 2, hidden: 16, dropout: 0, contextLength: 8, rope: false }", "sizes");
  const s = sizes as Partial<Record<keyof BlockSizes, unknown>>;
  for (const k of ["d", "heads", "hidden", "contextLength"] as const) checkPositiveInt(s[k], fn, `sizes.${k}`);
  checkBoolean(s.rope, fn, "rope");
}

/** What every block shares: dropout on each sub-layer's output before it is added back (in training mode). */
abstract class Block extends ModuleBase {
  constructor(
    readonly sizes: BlockSizes,
    protected readonly gen: Generator,
  ) {
    super();
    checkBlockSizes(sizes, this.constructor.name);
    checkGenerator(gen, this.constructor.name);
  }
  protected residual(x: tf.Tensor, y: tf.Tensor): tf.Tensor {
    return tf.add(x, dropout(y, this.sizes.dropout, { training: this.training, generator: this.gen }));
  }
}

/** An encoder block: self-attention over the source (padding hidden), then the feed-forward network. [b, S, d] -> [b, S, d] */
export class EncoderBlock extends Block {
  readonly norm1: LayerNorm;
  readonly selfAttention: MultiHeadAttention;
  readonly norm2: LayerNorm;
  readonly feedForward: FeedForward;
  constructor(sizes: BlockSizes, gen: Generator) {
    super(sizes, gen);
    this.norm1 = new LayerNorm(sizes.d);
    this.selfAttention = attention(sizes, gen, "encoder");
    this.norm2 = new LayerNorm(sizes.d);
    this.feedForward = new FeedForward(sizes.d, sizes.hidden, gen);
  }
  /** x [b, S, d], srcMask [b, S] (1 token, 0 padding) -> [b, S, d] */
  forward(x: tf.Tensor, srcMask: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const a = this.residual(x, this.selfAttention.forward(this.norm1.forward(x), { keyMask: srcMask }));
      return this.residual(a, this.feedForward.forward(this.norm2.forward(a)));
    });
  }
}

/**
 * A decoder block: causal self-attention over the words written so far, cross-attention whose queries come from the
 * decoder and whose keys and values are the encoder's output (source padding hidden), then the feed-forward network.
 * [b, T, d] and memory [b, S, d] -> [b, T, d]. With useCache (notebook 09) only the newest words come in; both
 * attentions keep what they computed (resetCache() before the next sentence).
 */
export class DecoderBlock extends Block {
  readonly norm1: LayerNorm;
  readonly selfAttention: MultiHeadAttention;
  readonly norm2: LayerNorm;
  readonly crossAttention: MultiHeadAttention;
  readonly norm3: LayerNorm;
  readonly feedForward: FeedForward;
  constructor(sizes: BlockSizes, gen: Generator) {
    super(sizes, gen);
    this.norm1 = new LayerNorm(sizes.d);
    this.selfAttention = attention(sizes, gen, "decoder");
    this.norm2 = new LayerNorm(sizes.d);
    this.crossAttention = attention(sizes, gen, "cross");
    this.norm3 = new LayerNorm(sizes.d);
    this.feedForward = new FeedForward(sizes.d, sizes.hidden, gen);
  }
  forward(x: tf.Tensor, memory: tf.Tensor, srcMask: tf.Tensor, options: { useCache?: boolean } = {}): tf.Tensor {
    checkTensor(memory, "DecoderBlock", "memory (the encoder's output [b, S, d])");
    checkOptions(options, "DecoderBlock", "{ useCache: true }");
    return tf.tidy(() => this.explain(x, memory, srcMask, options).output);
  }
  /** The forward pass, with the cross-attention's weights: output [b, T, d], crossWeights [b, heads, T, S]. */
  explain(
    x: tf.Tensor,
    memory: tf.Tensor,
    srcMask: tf.Tensor,
    options: { useCache?: boolean } = {},
  ): { output: tf.Tensor; crossWeights: tf.Tensor4D } {
    const useCache = options.useCache ?? false;
    return tf.tidy(() => {
      const a = this.residual(x, this.selfAttention.forward(this.norm1.forward(x), { useCache }));
      const cross = this.crossAttention.explain(this.norm2.forward(a), { memory, keyMask: srcMask, useCache });
      const c = this.residual(a, cross.context);
      return { output: this.residual(c, this.feedForward.forward(this.norm3.forward(c))), crossWeights: cross.weights as tf.Tensor4D };
    });
  }
  /** Empty both attentions' KV caches. */
  resetCache(): void {
    this.selfAttention.resetCache();
    this.crossAttention.resetCache();
  }
}
