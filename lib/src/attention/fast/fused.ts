// Fused multi-head attention (notebook 07): what MultiHeadAttention (../multihead.ts) computes, with fewer,
// larger operations. Tested equal to it (outputs and gradients) in test/unit/efficient.test.ts.
//   - one projection produces queries, keys and values together: x W_qkv^T, W_qkv [3 d_out, d_in]
//   - the 1/sqrt(head_dim) scale is applied to the queries [T, head_dim], not to the scores [T, T]
//   - keys are transposed once, explicitly: tfjs's wasm matMul with a transposed operand is many times slower
//   - each head's products are 2-D matMuls: tfjs's wasm BatchMatMul runs a batch of them at ~1-2 GFLOP/s, but a
//     single 2-D product at ~20 (measured: [24, 256, 64] x [24, 64, 256] batched 120-190 ms, as 24 products
//     ~19 ms). The heads are cut apart with the fast wasm kernels of ../../fast/wasmkernels.ts.
//   - the causal mask is built once, for the context length, as state of the module, and sliced per call
import * as tf from "@tensorflow/tfjs";
import { Generator, defaultGenerator } from "../../core/random";
import { Linear } from "../../core/linear";
import { ModuleBase, type Module } from "../../core/module";
import { checkAttentionFits, checkBoolean, checkDropout, checkFits, checkPositiveInt, FEWER_TOKENS } from "../../core/checks";
import { dropout } from "../dropout";
import { withFastKernels } from "../../fast/wasmkernels";
import { MASKED_FINITE, hiddenPattern } from "../../core/mask";
import { headDimOf, mergeHeads, splitHeads } from "../heads";
import { explainChecked, type CausalOptions } from "../causalattention";
import type { MultiHeadAttention } from "../multihead";

/** What every implementation of notebook 07 offers: the module's forward pass, and the usual module parts. */
export interface AttentionImplementation extends Module {
  readonly dIn: number;
  readonly dOut: number;
  readonly numHeads: number;
  readonly contextLength: number;
  training: boolean;
  /** inputs [b, T, d_in] (or [T, d_in]) -> context vectors [b, T, d_out] (or [T, d_out]) */
  forward(inputs: tf.Tensor): tf.Tensor;
}

/** The shared part of the fused and memory-efficient modules: sizes, one qkv projection, the output projection. */
export abstract class FusedProjections extends ModuleBase implements AttentionImplementation {
  readonly headDim: number;
  /** [3 d_out, d_in]: the rows of W_query, then W_key, then W_value. */
  readonly W_qkv: Linear;
  readonly out_proj: Linear;
  /** Mask the future (default true), as MultiHeadAttention does. */
  readonly causal: boolean;
  /** Sliding window: how many keys (itself included) each query sees; null = all earlier ones (notebook 09). */
  readonly window: number | null;
  protected readonly generator: Generator;

  constructor(
    readonly dIn: number,
    readonly dOut: number,
    readonly contextLength: number,
    readonly dropoutP: number,
    readonly numHeads: number,
    options: CausalOptions = {},
  ) {
    super();
    const fn = this.constructor.name;
    checkPositiveInt(dIn, fn, "d_in");
    checkPositiveInt(contextLength, fn, "context_length");
    checkDropout(dropoutP, fn);
    this.headDim = headDimOf(dOut, numHeads, fn);
    this.generator = options.generator ?? defaultGenerator;
    this.causal = options.causal ?? true;
    checkBoolean(this.causal, fn, "causal");
    this.window = options.window ?? null;
    if (this.window !== null) {
      checkPositiveInt(this.window, fn, "window");
      if (!this.causal) throw new Error(`${fn}: a sliding window hides keys before the window and after the query; it needs causal: true`);
    }
    checkBoolean(options.qkvBias ?? false, fn, "qkvBias");
    this.W_qkv = new Linear(dIn, 3 * dOut, { bias: options.qkvBias ?? false, generator: this.generator });
    this.out_proj = new Linear(dOut, dOut, { bias: true, generator: this.generator });
  }

  /** Take over a MultiHeadAttention's weights, so that both compute the same outputs. */
  copyWeightsFrom(mha: MultiHeadAttention): this {
    const fn = `${this.constructor.name}.copyWeightsFrom`;
    if (mha.numKvHeads !== mha.numHeads)
      throw new Error(`${fn}: the fused modules have as many key/value heads as query heads; got ${mha.numKvHeads} for ${mha.numHeads}`);
    if (mha.dIn !== this.dIn || mha.dOut !== this.dOut || mha.numHeads !== this.numHeads) {
      throw new Error(
        `${fn}: the modules differ in size (d_in ${mha.dIn} vs ${this.dIn}, d_out ${mha.dOut} vs ${this.dOut}, num_heads ${mha.numHeads} vs ${this.numHeads})`,
      );
    }
    if ((mha.W_query.bias === null) !== (this.W_qkv.bias === null)) throw new Error(`${fn}: one module has qkv biases and the other has not`);
    if (mha.causal !== this.causal) throw new Error(`${fn}: one module is causal and the other is not`);
    tf.tidy(() => {
      this.W_qkv.weight.assign(tf.concat([mha.W_query.weight, mha.W_key.weight, mha.W_value.weight], 0));
      if (this.W_qkv.bias) this.W_qkv.bias.assign(tf.concat([mha.W_query.bias!, mha.W_key.bias!, mha.W_value.bias!], 0));
      this.out_proj.weight.assign(mha.out_proj.weight);
      this.out_proj.bias!.assign(mha.out_proj.bias!);
    });
    this.training = mha.training;
    return this;
  }

  /** inputs [b, T, d_in] (or [T, d_in]) -> [b, T, d_out] (or [T, d_out]), checked like the other modules. */
  forward(inputs: tf.Tensor): tf.Tensor {
    // The fast wasm kernels (transposed products, slices without copies) for the whole pass.
    return withFastKernels(
      () =>
        explainChecked(this, inputs, this.constructor.name, (x) => ({
          context: this.out_proj.forward(mergeHeads(this.attendHeads(...this.queriesKeysValues(x)))),
        })).context, // [b, T, d_out]
    );
  }

  /** x [b, T, d_in] -> queries (already scaled by 1/sqrt(head_dim)), keys, values, each [b, heads, T, head_dim]. */
  protected queriesKeysValues(x: tf.Tensor3D): [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D] {
    // One product for all three, then split (a 5-D transpose would be ~25x slower on wasm than three 4-D ones).
    const [q, k, v] = tf.split(this.W_qkv.forward(x), 3, 2).map((t) => splitHeads(t, this.numHeads));
    return [tf.mul(q, 1 / Math.sqrt(this.headDim)) as tf.Tensor4D, k, v];
  }

  /** The heads' attention (causal unless causal: false): scaled queries, keys, values [b, heads, T, head_dim] -> [b, heads, T, head_dim]. */
  protected abstract attendHeads(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D): tf.Tensor4D;
}

/** Multi-head (causal) attention with one fused projection, per-head 2-D products, and a mask built once. */
export class FusedMultiHeadAttention extends FusedProjections {
  /** [context_length, context_length]: 0 where a query may look, MASKED_FINITE in its future, added to the scores. Built at the first call. */
  private mask: tf.Tensor2D | null = null;

  private maskFor(T: number): tf.Tensor2D {
    if (!this.mask) {
      const L = this.contextLength;
      checkFits([L, L], "FusedMultiHeadAttention", "the causal mask", FEWER_TOKENS);
      this.mask = tf.keep(
        tf.tensor2d(
          Float32Array.from(hiddenPattern(L, L, 0, 0, this.window ?? Infinity), (hidden) => hidden * MASKED_FINITE),
          [L, L],
        ),
      );
    }
    return T === this.contextLength ? this.mask : this.mask.slice([0, 0], [T, T]);
  }

  protected attendHeads(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D): tf.Tensor4D {
    const [b, heads, T, hd] = q.shape;
    checkAttentionFits([b, heads], T, T, "FusedMultiHeadAttention", 5); // the mask, and per head scores, weights and softmax's two
    const mask = this.causal ? this.maskFor(T) : null;
    return tf.tidy(() => {
      const flat = (t: tf.Tensor, rows: number, cols: number) => tf.unstack(t.reshape([b * heads, rows, cols]));
      const qs = flat(q, T, hd);
      const kTs = flat(tf.transpose(k, [0, 1, 3, 2]), hd, T);
      const vs = flat(v, T, hd);
      const outs = qs.map((qh, i) => {
        const scores = tf.matMul(qh, kTs[i]); // [T, T], one head of one sequence
        const weights = tf.softmax(mask ? tf.add(scores, mask) : scores);
        const dropped = dropout(weights, this.dropoutP, { training: this.training, generator: this.generator });
        return tf.matMul(dropped, vs[i]); // [T, head_dim]
      });
      return tf.stack(outs).reshape([b, heads, T, hd]) as tf.Tensor4D;
    });
  }
}
