// Causal self-attention, and the multi-head wrapper that stacks several of its heads (notebooks 05-06).
// Both take inputs [batch, tokens, d_in] (or [tokens, d_in]) with tokens <= the context length.
import * as tf from "@tensorflow/tfjs";
import { checkBoolean, checkDropout, checkFits, checkInputs, checkOptions, checkPositiveInt, shapeStr, trusted } from "../core/checks";
import { Generator, defaultGenerator } from "../core/random";
import { causalMask, slidingWindowMask } from "./causal";
import { MASKED } from "../core/mask";
import { softmax } from "./softmax";
import { dropout, type DropoutOptions } from "./dropout";
import { Linear } from "../core/linear";
import { checkAlive, ModuleBase, type Module } from "../core/module";
import { attentionScores, contextVectors } from "./scores";

export interface CausalOptions {
  /** Bias in the query/key/value projections (default false, as in GPT-2 from the book). */
  qkvBias?: boolean;
  generator?: Generator;
  /** Mask the future (default true). false: every token attends to every token, as in an encoder. */
  causal?: boolean;
  /** Sliding-window attention (notebook 09): each query sees itself and the window - 1 keys before it. Needs causal. */
  window?: number;
}

/** What a causal attention module computed, for printing and plotting. Free with tf.dispose(parts). */
export type CausalParts = {
  scores: tf.Tensor; // [b, (heads,) T, T] q·k before scaling and masking
  weights: tf.Tensor; // [b, (heads,) T, T] after the causal softmax and dropout
  context: tf.Tensor; // [b, T, d_out] the module's output
};

/**
 * What every attention module of notebooks 05-07 does where the learner's inputs come in: check the module is
 * alive and the inputs are [b, T, d_in] (or [T, d_in]) with at most context_length tokens, then compute `parts`
 * of them as a batch [b, T, d_in] inside tf.tidy, with the value checks of the inner steps off (trusted: their
 * tensors are made from these checked inputs). For [T, d_in] inputs the parts come back without the batch axis.
 */
export function explainChecked<P extends Record<string, tf.Tensor>>(
  module: Module & { readonly dIn: number; readonly contextLength: number },
  inputs: tf.Tensor,
  fn: string,
  parts: (x: tf.Tensor3D) => P,
): P {
  checkAlive(module, fn);
  checkInputs(inputs, module.dIn, fn);
  const t = inputs.shape[inputs.rank - 2];
  if (t > module.contextLength) {
    throw new Error(
      `${fn}: inputs have ${t} tokens (shape ${shapeStr(inputs.shape)}), more than the context length ${module.contextLength}; pass at most ${module.contextLength} tokens or build the module with a longer context length`,
    );
  }
  return trusted(() =>
    tf.tidy(() => {
      const out = parts((inputs.rank === 2 ? inputs.expandDims(0) : inputs) as tf.Tensor3D);
      if (inputs.rank === 3) return out;
      return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, v.squeeze([0])])) as P;
    }),
  );
}

/**
 * Scores to attention weights, as every causal module of the course computes them: scale by 1/sqrt(d_k),
 * put MASKED where `future` is true (broadcast over batch and heads; null: nothing hidden), softmax, then
 * dropout. scores [..., T, T] -> weights [..., T, T]
 */
export function maskedAttentionWeights(
  scores: tf.Tensor,
  dK: number,
  future: tf.Tensor | null,
  dropoutP: number,
  options: DropoutOptions,
): tf.Tensor {
  return tf.tidy(() => {
    const scaled = tf.div(scores, Math.sqrt(dK));
    const weights = softmax(future ? tf.where(future, tf.scalar(MASKED), scaled) : scaled);
    return dropout(weights, dropoutP, options);
  });
}

/** What the causal attention modules share: sizes, train/eval mode, the causal mask held once, forward. */
export abstract class CausalBase extends ModuleBase {
  constructor(
    readonly dIn: number,
    readonly dOut: number,
    readonly contextLength: number,
    readonly dropoutP: number,
    /** Whether a token may only attend to itself and earlier tokens (the default). */
    readonly causal = true,
    /** Sliding window: how many keys (itself included) each query sees; null = all earlier ones. */
    readonly window: number | null = null,
  ) {
    super();
    const fn = this.constructor.name;
    checkPositiveInt(dIn, fn, "d_in");
    checkPositiveInt(dOut, fn, "d_out");
    checkPositiveInt(contextLength, fn, "context_length");
    checkDropout(dropoutP, fn);
    checkBoolean(causal, fn, "causal");
    // Built once, for the longest input; a call on T tokens uses its top-left [T, T] corner. A plain tensor,
    // not a tf.Variable: it is not in parameters(), so no optimiser changes it (PyTorch calls it a buffer).
    if (causal) {
      checkFits(
        [contextLength, contextLength],
        fn,
        "the causal mask for context_length",
        "build the module with a shorter context_length (the longest input it must take); the memory-efficient attention of notebook 07 never builds a mask",
      );
    }
    if (window !== null) {
      checkPositiveInt(window, fn, "window");
      if (!causal) throw new Error(`${fn}: a sliding window hides keys before the window and after the query; it needs causal: true`);
    }
    this.mask = causal ? tf.keep(window === null ? causalMask(contextLength) : slidingWindowMask(contextLength, window)) : null;
  }

  /** [context_length, context_length], true above the diagonal (the future); null if not causal. */
  readonly mask: tf.Tensor2D | null;

  abstract explain(inputs: tf.Tensor): CausalParts;

  /** inputs [b, T, d_in] -> context vectors [b, T, d_out] (or [T, d_in] -> [T, d_out]) */
  forward(inputs: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.explain(inputs).context);
  }

  /** The causal softmax of scaled scores, then dropout, with this module's mask: [..., T, T] -> [..., T, T]. */
  protected attend(scores: tf.Tensor, dK: number, generator: Generator): tf.Tensor {
    const T = scores.shape[scores.rank - 1];
    const future = this.mask?.slice([0, 0], [T, T]) ?? null; // [T, T] of the stored mask
    return maskedAttentionWeights(scores, dK, future, this.dropoutP, { training: this.training, generator });
  }
}

/** One causal self-attention head: W_query, W_key, W_value (Linear d_in -> d_out), causal mask, dropout. */
export class CausalAttention extends CausalBase {
  readonly W_query: Linear;
  readonly W_key: Linear;
  readonly W_value: Linear;
  private readonly generator: Generator;

  constructor(dIn: number, dOut: number, contextLength: number, dropoutP = 0, options: CausalOptions = {}) {
    checkOptions(options, "CausalAttention", "{ qkvBias: true }"); // before super() builds the mask
    checkBoolean(options.qkvBias ?? false, "CausalAttention", "qkvBias");
    super(dIn, dOut, contextLength, dropoutP, options.causal, options.window ?? null);
    this.generator = options.generator ?? defaultGenerator;
    const opts = { bias: options.qkvBias ?? false, generator: this.generator };
    this.W_query = new Linear(dIn, dOut, opts);
    this.W_key = new Linear(dIn, dOut, opts);
    this.W_value = new Linear(dIn, dOut, opts);
  }

  explain(inputs: tf.Tensor): CausalParts {
    return explainChecked(this, inputs, "CausalAttention", (x) => {
      const queries = this.W_query.forward(x); // [b, T, d_out]
      const keys = this.W_key.forward(x);
      const values = this.W_value.forward(x);
      const scores = attentionScores(queries, keys); // [b, T, T]
      const weights = this.attend(scores, this.dOut, this.generator);
      const context = contextVectors(weights, values); // [b, T, d_out]
      return { scores, weights, context };
    });
  }
}

/**
 * Several CausalAttention heads side by side, a plain module: each head attends on its own (with its own
 * mask), and their outputs are concatenated, d_out x heads wide.
 */
export class MultiHeadAttentionWrapper extends ModuleBase {
  readonly heads: CausalAttention[];

  constructor(
    readonly dIn: number,
    readonly dOut: number,
    readonly contextLength: number,
    readonly dropoutP: number,
    numHeads: number,
    options: CausalOptions = {},
  ) {
    super();
    const fn = "MultiHeadAttentionWrapper";
    checkPositiveInt(dIn, fn, "d_in");
    checkPositiveInt(dOut, fn, "d_out");
    checkPositiveInt(contextLength, fn, "context_length");
    checkDropout(dropoutP, fn);
    checkPositiveInt(numHeads, fn, "num_heads");
    checkOptions(options, fn, "{ qkvBias: true }");
    this.heads = Array.from({ length: numHeads }, () => new CausalAttention(dIn, dOut, contextLength, dropoutP, options));
  }

  /** Whether the heads mask the future (the default). */
  get causal(): boolean {
    return this.heads[0].causal;
  }

  /** weights are stacked per head: [b, heads, T, T]; context is [b, T, d_out * heads]. */
  explain(inputs: tf.Tensor): CausalParts {
    return explainChecked(this, inputs, "MultiHeadAttentionWrapper", (x) => {
      const parts = this.heads.map((h) => h.explain(x));
      return {
        scores: tf.stack(
          parts.map((p) => p.scores),
          1,
        ), // [b, heads, T, T]
        weights: tf.stack(
          parts.map((p) => p.weights),
          1,
        ),
        context: tf.concat(
          parts.map((p) => p.context),
          -1,
        ), // [b, T, d_out * heads]
      };
    });
  }

  /** inputs [b, T, d_in] -> [b, T, d_out * heads] (or [T, d_in] -> [T, d_out * heads]) */
  forward(inputs: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.explain(inputs).context);
  }
}
