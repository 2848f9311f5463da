// The Transformer's blocks (notebook 08): layer norm, the feed-forward network, and the encoder and decoder blocks
// that put them around attention with residual connections. Pre-norm, as in GPT-2: x + f(LayerNorm(x)).
import * as tf from "@tensorflow/tfjs";
import { Generator } from "../core/random";
import { Linear, variableFrom } from "../core/linear";
import { ModuleBase } from "../core/module";
import { CrossAttention, type AttendOptions, type KVCache } from "../attention/cross";
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
    this.scale = variableFrom(new Float32Array(d).fill(1), [d]);
    this.shift = variableFrom(new Float32Array(d), [d]);
  }
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const { mean, variance } = tf.moments(x, -1, true);
      return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, this.eps))), this.scale), this.shift);
    });
  }
  parameters(): tf.Variable[] {
    return [this.scale, this.shift];
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
  parameters(): tf.Variable[] {
    return [...this.up.parameters(), ...this.down.parameters()];
  }
}

export interface BlockSizes {
  d: number;
  heads: number;
  hidden: number;
  dropout: number;
}

/** What every block shares: dropout on each sub-layer's output before it is added back (in training mode). */
abstract class Block extends ModuleBase {
  constructor(
    readonly sizes: BlockSizes,
    protected readonly gen: Generator,
  ) {
    super();
  }
  protected abstract parts(): ModuleBase[];
  protected residual(x: tf.Tensor, y: tf.Tensor): tf.Tensor {
    return tf.add(x, dropout(y, this.sizes.dropout, { training: this.training, generator: this.gen }));
  }
  override train(): this {
    this.parts().forEach((p) => p.train());
    return super.train();
  }
  override eval(): this {
    this.parts().forEach((p) => p.eval());
    return super.eval();
  }
  parameters(): tf.Variable[] {
    return this.parts().flatMap((p) => p.parameters());
  }
}

/** An encoder block: self-attention over the source (padding hidden), then the feed-forward network. [b, S, d] -> [b, S, d] */
export class EncoderBlock extends Block {
  readonly norm1: LayerNorm;
  readonly selfAttention: CrossAttention;
  readonly norm2: LayerNorm;
  readonly feedForward: FeedForward;
  constructor(sizes: BlockSizes, gen: Generator) {
    super(sizes, gen);
    this.norm1 = new LayerNorm(sizes.d);
    this.selfAttention = new CrossAttention(sizes.d, sizes.d, sizes.heads, sizes.dropout, { generator: gen });
    this.norm2 = new LayerNorm(sizes.d);
    this.feedForward = new FeedForward(sizes.d, sizes.hidden, gen);
  }
  protected parts(): ModuleBase[] {
    return [this.norm1, this.selfAttention, this.norm2, this.feedForward];
  }
  forward(x: tf.Tensor, srcMask: tf.Tensor, rotate?: AttendOptions["rotate"]): tf.Tensor {
    return tf.tidy(() => {
      const h = this.norm1.forward(x);
      const a = this.residual(x, this.selfAttention.forward(h, h, { keyMask: srcMask, rotate }));
      return this.residual(a, this.feedForward.forward(this.norm2.forward(a)));
    });
  }
}

/**
 * A decoder block: causal self-attention over the words written so far, cross-attention whose queries come from the
 * decoder and whose keys and values are the encoder's output (source padding hidden), then the feed-forward network.
 * [b, T, d] and memory [b, S, d] -> [b, T, d]
 */
export class DecoderBlock extends Block {
  readonly norm1: LayerNorm;
  readonly selfAttention: CrossAttention;
  readonly norm2: LayerNorm;
  readonly crossAttention: CrossAttention;
  readonly norm3: LayerNorm;
  readonly feedForward: FeedForward;
  constructor(sizes: BlockSizes, gen: Generator) {
    super(sizes, gen);
    this.norm1 = new LayerNorm(sizes.d);
    this.selfAttention = new CrossAttention(sizes.d, sizes.d, sizes.heads, sizes.dropout, { generator: gen });
    this.norm2 = new LayerNorm(sizes.d);
    this.crossAttention = new CrossAttention(sizes.d, sizes.d, sizes.heads, sizes.dropout, { generator: gen });
    this.norm3 = new LayerNorm(sizes.d);
    this.feedForward = new FeedForward(sizes.d, sizes.hidden, gen);
  }
  protected parts(): ModuleBase[] {
    return [this.norm1, this.selfAttention, this.norm2, this.crossAttention, this.norm3, this.feedForward];
  }
  forward(x: tf.Tensor, memory: tf.Tensor, srcMask: tf.Tensor, rotate?: AttendOptions["rotate"]): tf.Tensor {
    return tf.tidy(() => {
      const h = this.norm1.forward(x);
      const a = this.residual(x, this.selfAttention.forward(h, h, { causal: true, rotate }));
      const c = this.residual(a, this.crossAttention.forward(this.norm2.forward(a), memory, { keyMask: srcMask }));
      return this.residual(c, this.feedForward.forward(this.norm3.forward(c)));
    });
  }

  /**
   * Incremental decoding (notebook 09): the newest words y [b, T_new, d] against the cache of this block's
   * self-attention (the keys and values of every earlier position); returns the output and the grown cache.
   */
  step(
    y: tf.Tensor,
    memory: tf.Tensor,
    srcMask: tf.Tensor,
    cache: KVCache | null,
    rotate?: (t: tf.Tensor4D, offset: number) => tf.Tensor4D,
  ): { output: tf.Tensor; cache: KVCache } {
    return tf.tidy(() => {
      const self = this.selfAttention.step(this.norm1.forward(y), cache, rotate);
      const a = this.residual(y, self.output);
      const c = this.residual(a, this.crossAttention.forward(this.norm2.forward(a), memory, { keyMask: srcMask }));
      return { output: this.residual(c, this.feedForward.forward(this.norm3.forward(c))), cache: self.cache };
    });
  }
}
