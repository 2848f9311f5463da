// Efficient multi-head attention (notebook 06): one projection each for queries, keys and values,
// split into heads, all heads attended in one batched product, merged back, then an output projection.
import * as tf from "@tensorflow/tfjs";
import { Generator, defaultGenerator } from "../core/random";
import { Linear } from "../core/linear";
import { checkAttentionFits, checkBoolean } from "../core/checks";
import { CausalBase, explainChecked, type CausalOptions, type CausalParts, type MultiHeadAttentionWrapper } from "./causalattention";
import { headDimOf, mergeHeads, splitHeads } from "./heads";

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
    // Checked before super() builds the mask, which a refusal afterwards would leave behind.
    checkBoolean(options.qkvBias ?? false, "MultiHeadAttention", "qkvBias");
    const headDim = headDimOf(dOut, numHeads, "MultiHeadAttention");
    super(dIn, dOut, contextLength, dropoutP, options.causal, options.window ?? null);
    this.numHeads = numHeads;
    this.headDim = headDim;
    this.generator = options.generator ?? defaultGenerator;
    const opts = { bias: options.qkvBias ?? false, generator: this.generator };
    this.W_query = new Linear(dIn, dOut, opts);
    this.W_key = new Linear(dIn, dOut, opts);
    this.W_value = new Linear(dIn, dOut, opts);
    this.out_proj = new Linear(dOut, dOut, { bias: true, generator: this.generator });
  }

  /** scores and weights are [b, heads, T, T]; context is the output [b, T, d_out]. */
  explain(inputs: tf.Tensor): CausalParts {
    return explainChecked(this, inputs, "MultiHeadAttention", (x) => {
      const [b, T] = x.shape;
      checkAttentionFits([b, this.numHeads], T, T, "MultiHeadAttention");
      const queries = splitHeads(this.W_query.forward(x), this.numHeads); // [b, heads, T, head_dim]
      const keys = splitHeads(this.W_key.forward(x), this.numHeads);
      const values = splitHeads(this.W_value.forward(x), this.numHeads);
      const scores = tf.matMul(queries, keys, false, true); // [b, heads, T, T]
      const weights = this.attend(scores, this.headDim, this.generator);
      const context = this.out_proj.forward(mergeHeads(tf.matMul(weights, values))); // [b, T, d_out]
      return { scores, weights, context };
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
    causal: wrapper.causal,
  });
  tf.tidy(() => {
    for (const name of ["W_query", "W_key", "W_value"] as const) {
      mha[name].weight.assign(
        tf.concat(
          wrapper.heads.map((h) => h[name].weight),
          0,
        ),
      );
      mha[name].bias?.assign(
        tf.concat(
          wrapper.heads.map((h) => h[name].bias!),
          0,
        ),
      );
    }
    mha.out_proj.weight.assign(tf.eye(width));
    mha.out_proj.bias!.assign(tf.zeros([width]));
  });
  mha.training = wrapper.training;
  return mha;
}
