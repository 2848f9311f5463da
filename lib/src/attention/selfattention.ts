// Self-attention with trainable weights: project the inputs to queries, keys and values, then apply
// scaled dot-product attention. v1 holds raw weight matrices [d_in, d_out] (x @ W); v2 uses linear
// layers laid out like PyTorch's nn.Linear ([d_out, d_in], x @ W^T) and initialised like them.
import * as tf from "@tensorflow/tfjs";
import { checkBoolean, checkInputs, checkOptions, checkPositiveInt } from "../core/checks";
import { Generator, checkGenerator, defaultGenerator, randValues } from "../core/random";
import { Linear, variableFrom } from "../core/linear";
import { checkAlive, ModuleBase } from "../core/module";
import { scaledDotProductAttention } from "./scaled";

/** Every intermediate tensor of one attention pass, for printing and plotting. Free with tf.dispose(parts). */
export type AttentionParts = {
  queries: tf.Tensor; // [..., T, d_out]
  keys: tf.Tensor; // [..., T, d_out]
  values: tf.Tensor; // [..., T, d_out]
  scores: tf.Tensor; // [..., T, T] q·k, before scaling
  weights: tf.Tensor; // [..., T, T] softmax(scores / sqrt(d_out)), rows sum to 1
  context: tf.Tensor; // [..., T, d_out]
};

/** The shared part of v1 and v2: given the three projections, attend. */
abstract class SelfAttentionBase extends ModuleBase {
  constructor(
    readonly dIn: number,
    readonly dOut: number,
  ) {
    super();
    checkPositiveInt(dIn, this.constructor.name, "d_in");
    checkPositiveInt(dOut, this.constructor.name, "d_out");
  }

  protected abstract project(x: tf.Tensor): { queries: tf.Tensor; keys: tf.Tensor; values: tf.Tensor };
  /** inputs [T, d_in] or [B, T, d_in] -> every intermediate tensor. */
  explain(inputs: tf.Tensor): AttentionParts {
    checkAlive(this, this.constructor.name);
    checkInputs(inputs, this.dIn, this.constructor.name);
    return tf.tidy(() => {
      const { queries, keys, values } = this.project(inputs);
      const { scores, weights, context } = scaledDotProductAttention(queries, keys, values);
      return { queries, keys, values, scores, weights, context };
    });
  }

  /** inputs [T, d_in] or [B, T, d_in] -> context vectors [T, d_out] or [B, T, d_out]. */
  forward(inputs: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.explain(inputs).context);
  }
}

/** Self-attention with three raw weight matrices, each [d_in, d_out], drawn like torch.rand (seeded). */
export class SelfAttentionV1 extends SelfAttentionBase {
  readonly W_query: tf.Variable; // [d_in, d_out]
  readonly W_key: tf.Variable; // [d_in, d_out]
  readonly W_value: tf.Variable; // [d_in, d_out]

  constructor(dIn: number, dOut: number, options: { generator?: Generator } = {}) {
    super(dIn, dOut);
    checkOptions(options, "SelfAttentionV1", "{ generator: new Generator(123) }");
    const gen = options.generator ?? defaultGenerator;
    checkGenerator(gen, "SelfAttentionV1");
    this.W_query = variableFrom(randValues([dIn, dOut], gen), [dIn, dOut]);
    this.W_key = variableFrom(randValues([dIn, dOut], gen), [dIn, dOut]);
    this.W_value = variableFrom(randValues([dIn, dOut], gen), [dIn, dOut]);
  }

  protected project(x: tf.Tensor) {
    const mm = (w: tf.Variable) => tf.matMul(x.reshape([-1, this.dIn]), w).reshape([...x.shape.slice(0, -1), this.dOut]);
    return { queries: mm(this.W_query), keys: mm(this.W_key), values: mm(this.W_value) };
  }
}

/** Self-attention with three linear layers, initialised like PyTorch's nn.Linear (seeded). */
export class SelfAttentionV2 extends SelfAttentionBase {
  readonly W_query: Linear;
  readonly W_key: Linear;
  readonly W_value: Linear;

  constructor(dIn: number, dOut: number, options: { qkvBias?: boolean; generator?: Generator } = {}) {
    super(dIn, dOut);
    checkOptions(options, "SelfAttentionV2", "{ qkvBias: true }");
    checkBoolean(options.qkvBias ?? false, "SelfAttentionV2", "qkvBias");
    const opts = { bias: options.qkvBias ?? false, generator: options.generator ?? defaultGenerator };
    checkGenerator(opts.generator, "SelfAttentionV2");
    this.W_query = new Linear(dIn, dOut, opts);
    this.W_key = new Linear(dIn, dOut, opts);
    this.W_value = new Linear(dIn, dOut, opts);
  }

  protected project(x: tf.Tensor) {
    return { queries: this.W_query.forward(x), keys: this.W_key.forward(x), values: this.W_value.forward(x) };
  }
}
