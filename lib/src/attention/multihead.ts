// Multi-head attention (notebook 06): one projection each for queries, keys and values, split into heads, all heads
// attended in one batched product, merged back, then an output projection. The one multi-head attention of the course:
// the Transformer (08) and today's LLMs (09) use this class, with the options each notebook adds.
import * as tf from "@tensorflow/tfjs";
import { Generator, defaultGenerator } from "../core/random";
import { Linear } from "../core/linear";
import {
  checkAttentionFits,
  checkBoolean,
  checkInputs,
  checkOptions,
  checkPositiveInt,
  checkTensor,
  describeValue,
  shapeStr,
  valuesTrusted,
} from "../core/checks";
import { hiddenPattern } from "../core/mask";
import {
  CausalBase,
  explainChecked,
  maskedAttentionWeights,
  type CausalOptions,
  type CausalParts,
  MultiHeadAttentionWrapper,
} from "./causalattention";
import { headDimOf, mergeHeads, splitHeads } from "./heads";
import { applyRope } from "./positions";

export interface MultiHeadOptions extends CausalOptions {
  /** Notebook 08: turn queries and keys by their positions before the scores (rotary embeddings, RoPE). */
  rope?: boolean;
  /** Notebook 09: key/value heads, each shared by numHeads / kvHeads query heads (grouped-query attention; 1 is MQA). Default numHeads. */
  kvHeads?: number;
  /**
   * Notebook 09, multi-head latent attention (MLA, DeepSeek-V2): keys and values both come from one small latent per
   * token (W_kv_down d_in -> kvLatent, then W_key and W_value kvLatent -> kvHeads x head_dim), and the KV cache keeps
   * only the latent. Not with rope (DeepSeek's decoupled RoPE is not implemented here).
   */
  kvLatent?: number;
}

export interface AttendOptions {
  /** Notebook 08, cross-attention: keys and values from this second sequence [b, T_k, d_in] instead of the inputs. */
  memory?: tf.Tensor;
  /** Notebook 08: [b, T_k], 1 for a token, 0 for padding, which no query may see. */
  keyMask?: tf.Tensor;
  /**
   * Notebook 09, the KV cache: keep this call's keys and values and attend to every key kept since resetCache(). Self-
   * attention appends the new tokens' keys and values; cross-attention computes the memory's once and reuses them.
   */
  useCache?: boolean;
}

/**
 * Multi-head attention: W_query d_in -> d_out, W_key and W_value d_in -> kvHeads x head_dim, split into heads by
 * reshape and transpose, all heads attended in one batched matrix product, merged back, then out_proj (d_out -> d_out,
 * with bias). Causal unless `causal: false`.
 */
export class MultiHeadAttention extends CausalBase {
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly rope: boolean;
  /** MLA's latent width, or null (keys and values straight from the inputs). */
  readonly kvLatent: number | null;
  readonly W_query: Linear;
  /** MLA only: d_in -> kvLatent, the one projection whose output the cache keeps. */
  readonly W_kv_down: Linear | null;
  readonly W_key: Linear;
  readonly W_value: Linear;
  readonly out_proj: Linear;
  private readonly generator: Generator;
  // The KV cache (notebook 09): keys and values [b, kvHeads, T_kept, head_dim], and how many tokens came before.
  private cachedKeys: tf.Tensor4D | null = null;
  private cachedValues: tf.Tensor4D | null = null;
  private cachedTokens = 0;
  // MLA's cache instead: the latents [b, T_kept, kvLatent].
  private cachedLatent: tf.Tensor3D | null = null;

  constructor(dIn: number, dOut: number, contextLength: number, dropoutP: number, numHeads: number, options: MultiHeadOptions = {}) {
    const fn = "MultiHeadAttention";
    // Checked before super() builds the mask, which a refusal afterwards would leave behind.
    checkOptions(options, fn, "{ causal: false, kvHeads: 1 }");
    checkBoolean(options.qkvBias ?? false, fn, "qkvBias");
    checkBoolean(options.rope ?? false, fn, "rope");
    const headDim = headDimOf(dOut, numHeads, fn);
    const kvHeads = options.kvHeads ?? numHeads;
    checkPositiveInt(kvHeads, fn, "kvHeads");
    if (numHeads % kvHeads !== 0)
      throw new Error(
        `${fn}: num_heads = ${numHeads} is not a multiple of kvHeads = ${kvHeads}; each key/value head serves the same number of query heads`,
      );
    if (options.kvLatent !== undefined) {
      checkPositiveInt(options.kvLatent, fn, "kvLatent");
      if (options.rope)
        throw new Error(
          `${fn}: kvLatent (MLA) with rope is not supported; MLA needs a decoupled rotary key (DeepSeek-V2), which this module does not implement`,
        );
    }
    if (options.rope && headDim % 2 !== 0) throw new Error(`${fn}: rope turns pairs of numbers, so head_dim must be even, got ${headDim}`);
    super(dIn, dOut, contextLength, dropoutP, options.causal, options.window ?? null);
    this.numHeads = numHeads;
    this.numKvHeads = kvHeads;
    this.headDim = headDim;
    this.rope = options.rope ?? false;
    this.generator = options.generator ?? defaultGenerator;
    const opts = { bias: options.qkvBias ?? false, generator: this.generator };
    this.kvLatent = options.kvLatent ?? null;
    this.W_query = new Linear(dIn, dOut, opts);
    this.W_kv_down = this.kvLatent === null ? null : new Linear(dIn, this.kvLatent, opts);
    const kvIn = this.kvLatent ?? dIn;
    this.W_key = new Linear(kvIn, kvHeads * headDim, opts);
    this.W_value = new Linear(kvIn, kvHeads * headDim, opts);
    this.out_proj = new Linear(dOut, dOut, { bias: true, generator: this.generator });
  }

  /**
   * scores and weights are [b, heads, T_q, T_k]; context is the output [b, T_q, d_out]. Without options this is the
   * forward pass of notebook 06 (exercise 6.4); the lines marked 08 and 09 are what those notebooks add.
   */
  explain(inputs: tf.Tensor, options: AttendOptions = {}): CausalParts {
    const fn = "MultiHeadAttention";
    this.checkOptions(inputs, options);
    return explainChecked(this, inputs, fn, (x) => {
      const { memory, keyMask, useCache = false } = options;
      const [b, Tq] = x.shape;
      const past = useCache && !memory ? this.cachedTokens : 0; // 09: the tokens before these queries, in the cache
      let queries = splitHeads(this.W_query.forward(x), this.numHeads); // [b, heads, T_q, head_dim]
      const { keys, values, keep } = this.keysAndValues(memory ?? x, memory !== undefined, useCache, past); // [b, kvHeads, T_k, head_dim]
      if (this.rope) queries = applyRope(queries, past) as tf.Tensor4D; // 08: positions turn the queries (and the keys)
      const Tk = keys.shape[2];
      checkAttentionFits([b, this.numHeads], Tq, Tk, fn);
      const scores = tf.matMul(queries, this.shareKvHeads(keys), false, true); // [b, heads, T_q, T_k]
      const hidden = this.hiddenKeys(b, Tq, Tk, past, keyMask); // the future; 08: padding; 09: keys beyond the window
      const weights = maskedAttentionWeights(scores, this.headDim, hidden, this.dropoutP, { training: this.training, generator: this.generator });
      const context = this.out_proj.forward(mergeHeads(tf.matMul(weights, this.shareKvHeads(values)))); // [b, T_q, d_out]
      if (useCache) keep(); // 09: the KV cache for the next call
      return { scores, weights, context };
    });
  }

  /**
   * Keys and values [b, kvHeads, T_k, head_dim] from `source` (the inputs, or 08: the memory). 09: with useCache, the
   * cached ones come first (cross-attention reuses the memory's from the first call), MLA makes them from its latent,
   * and `keep` stores what the next call needs. Rotary positions turn the new keys at their positions.
   */
  private keysAndValues(
    source: tf.Tensor3D | tf.Tensor,
    isMemory: boolean,
    useCache: boolean,
    past: number,
  ): { keys: tf.Tensor4D; values: tf.Tensor4D; keep: () => void } {
    if (useCache && isMemory && this.cachedKeys) return { keys: this.cachedKeys, values: this.cachedValues!, keep: () => {} };
    const appending = useCache && !isMemory; // self-attention: the new tokens' keys and values join the cached ones
    let kvIn = source;
    let latent: tf.Tensor3D | null = null;
    if (this.W_kv_down) {
      latent = this.W_kv_down.forward(source) as tf.Tensor3D; // MLA: [b, T, kvLatent]
      if (appending && this.cachedLatent) latent = tf.concat([this.cachedLatent, latent], 1);
      kvIn = latent;
    }
    let keys = splitHeads(this.W_key.forward(kvIn), this.numKvHeads);
    let values = splitHeads(this.W_value.forward(kvIn), this.numKvHeads);
    if (this.rope) keys = applyRope(keys, past) as tf.Tensor4D;
    if (appending && this.cachedKeys) [keys, values] = [tf.concat([this.cachedKeys, keys], 2), tf.concat([this.cachedValues!, values], 2)];
    const tokens = isMemory ? 0 : past + source.shape[1]!;
    const keep = () => (latent && appending ? this.keepLatent(latent, tokens) : this.keepCache(keys, values, tokens));
    return { keys, values, keep };
  }

  /**
   * Which keys each query may not see, [T_q, T_k] or [b, 1, T_q, T_k] (null: none): the future and, with a window, the
   * keys too far back (this module's mask, sliced at the queries' and keys' positions), and 08: the padding in keyMask.
   */
  private hiddenKeys(b: number, Tq: number, Tk: number, past: number, keyMask?: tf.Tensor): tf.Tensor | null {
    const first = past + Tq - Tk; // the position of the first key (09: a sliding window's cache drops older ones)
    const future = this.mask?.slice([past, first], [Tq, Tk]) ?? null;
    if (!keyMask) return future;
    const padding = tf.equal(keyMask, 0).reshape([b, 1, 1, Tk]); // [b, 1, 1, T_k]
    return future ? tf.logicalOr(future, padding) : padding;
  }

  /** inputs [b, T, d_in] -> context vectors [b, T, d_out] (or [T, d_in] -> [T, d_out]) */
  override forward(inputs: tf.Tensor, options: AttendOptions = {}): tf.Tensor {
    return tf.tidy(() => this.explain(inputs, options).context);
  }

  /** Grouped-query attention: [b, kvHeads, T, head_dim] -> [b, heads, T, head_dim], key/value head g read by query heads g*group .. (g+1)*group - 1. */
  private shareKvHeads(t: tf.Tensor4D): tf.Tensor4D {
    const group = this.numHeads / this.numKvHeads;
    if (group === 1) return t;
    const [b, kv, T, hd] = t.shape;
    return tf.tile(t.reshape([b * kv, 1, T * hd]), [1, group, 1]).reshape([b, kv * group, T, hd]); // (tfjs's tile has no rank-5 gradient)
  }

  /** Keep the keys and values for the next call (a sliding window needs only the window - 1 newest). */
  private keepCache(keys: tf.Tensor4D, values: tf.Tensor4D, tokens: number): void {
    const keep = this.window === null ? keys.shape[2] : Math.min(keys.shape[2], this.window - 1);
    const newest = (t: tf.Tensor4D) => tf.keep(keep === t.shape[2] ? t : t.slice([0, 0, t.shape[2] - keep, 0], [-1, -1, keep, -1]));
    const [oldK, oldV] = [this.cachedKeys, this.cachedValues];
    [this.cachedKeys, this.cachedValues] = keep > 0 ? [newest(keys), newest(values)] : [null, null];
    tf.dispose([oldK, oldV].filter((t): t is tf.Tensor4D => t !== null));
    this.cachedTokens = tokens;
  }

  /** MLA: keep the latents [b, T, kvLatent] for the next call (a sliding window needs only the window - 1 newest). */
  private keepLatent(latent: tf.Tensor3D, tokens: number): void {
    const T = latent.shape[1];
    const keep = this.window === null ? T : Math.min(T, this.window - 1);
    const old = this.cachedLatent;
    this.cachedLatent = keep > 0 ? tf.keep(keep === T ? latent : latent.slice([0, T - keep, 0], [-1, keep, -1])) : null;
    old?.dispose();
    this.cachedTokens = tokens;
  }

  /** Empty the KV cache (before a new sequence). */
  resetCache(): void {
    tf.dispose(([this.cachedKeys, this.cachedValues, this.cachedLatent] as (tf.Tensor | null)[]).filter((t): t is tf.Tensor => t !== null));
    [this.cachedKeys, this.cachedValues, this.cachedLatent, this.cachedTokens] = [null, null, null, 0];
  }

  /**
   * The KV cache's size: tokens seen since resetCache(), and what is kept: keys and values ([b, kvHeads, T_kept,
   * head_dim] each), or with MLA only the latents [b, T_kept, kvLatent] (keys and values null).
   */
  get cache(): { tokens: number; keys: tf.Tensor4D | null; values: tf.Tensor4D | null; latent: tf.Tensor3D | null } {
    return { tokens: this.cachedTokens, keys: this.cachedKeys, values: this.cachedValues, latent: this.cachedLatent };
  }

  /** Tokens kept in the self-attention cache and the batch they belong to (null if empty). */
  private cachedShape(): { kept: number; batch: number } | null {
    const t = this.cachedLatent ?? this.cachedKeys;
    return t ? { kept: t.rank === 3 ? t.shape[1] : t.shape[2], batch: t.shape[0] } : null;
  }

  /** Where the options come in: a memory, key mask and cache that fit the inputs and this module. */
  private checkOptions(inputs: tf.Tensor, options: AttendOptions): void {
    const fn = "MultiHeadAttention";
    if (typeof options !== "object" || options === null)
      throw new Error(`${fn}: options must be an object { memory?, keyMask?, useCache? }, got ${String(options)}`);
    const { memory, keyMask, useCache } = options;
    if (useCache !== undefined) checkBoolean(useCache, fn, "useCache");
    if (memory === undefined && keyMask === undefined && !useCache) return;
    checkTensor(inputs, fn, "inputs");
    if (inputs.rank !== 3)
      throw new Error(
        `${fn}: with memory, keyMask or useCache the inputs must be a batch [batch, tokens, d_in], got shape ${shapeStr(inputs.shape)}`,
      );
    const [b, Tq] = inputs.shape;
    const past = useCache && memory === undefined ? this.cachedTokens : 0;
    const kept = this.cachedShape();
    let Tk = Tq + (useCache ? (kept?.kept ?? 0) : 0);
    if (memory !== undefined) {
      if (this.causal || this.rope)
        throw new Error(
          `${fn}: cross-attention (memory) needs a module built with causal: false and without rope; the memory's keys have no place in the queries' order`,
        );
      checkInputs(memory, this.dIn, fn, "memory");
      if (memory.rank !== 3 || memory.shape[0] !== b)
        throw new Error(`${fn}: memory has shape ${shapeStr(memory.shape)}; expected [batch, T_k, d_in] = [${b}, T_k, ${this.dIn}]`);
      Tk = memory.shape[1]!;
      if (useCache && kept && kept.kept !== Tk)
        throw new Error(
          `${fn}: the cache holds the keys of a memory of ${kept.kept} tokens, but this memory has ${Tk}; call resetCache() before a new memory (a new sentence)`,
        );
    }
    if (useCache && kept && kept.batch !== b)
      throw new Error(`${fn}: the cache holds ${kept.batch} sequences but the inputs have ${b}; call resetCache() before a new batch`);
    if (useCache && memory === undefined && this.causal && past + Tq > this.contextLength)
      throw new Error(
        `${fn}: the cache holds ${past} tokens and ${Tq} more come in, more than the context length ${this.contextLength}; call resetCache() or build the module with a longer context length`,
      );
    if (keyMask !== undefined) this.checkKeyMask(keyMask, b, Tq, Tk, past);
  }

  /** keyMask [b, T_k] of 0 and 1, leaving every query at least one key to attend to (else its softmax has no answer). */
  private checkKeyMask(keyMask: unknown, b: number, Tq: number, Tk: number, past: number): void {
    const fn = "MultiHeadAttention";
    checkTensor(keyMask, fn, "keyMask");
    if (keyMask.shape.join() !== [b, Tk].join())
      throw new Error(
        `${fn}: keyMask has shape ${shapeStr(keyMask.shape)}; expected one 1 (token) or 0 (padding) per key, [batch, T_k] = [${b}, ${Tk}]`,
      );
    if (valuesTrusted()) return;
    const rows = keyMask.arraySync() as number[][];
    const hidden = this.causal ? hiddenPattern(Tq, Tk, past, past + Tq - Tk, this.window ?? Infinity) : new Uint8Array(Tq * Tk);
    rows.forEach((row, s) => {
      if (row.some((v) => v !== 0 && v !== 1))
        throw new Error(`${fn}: keyMask of sequence ${s} holds ${row.find((v) => v !== 0 && v !== 1)}; expected only 1 (a token) and 0 (padding)`);
      for (let q = 0; q < Tq; q++)
        if (!row.some((v, k) => v === 1 && !hidden[q * Tk + k]))
          throw new Error(
            `${fn}: in sequence ${s}, query ${q} may see no key (keyMask hides every key it could attend to); expected at least one real token among the keys each query sees`,
          );
    });
  }
}

/**
 * An efficient MultiHeadAttention that computes exactly what `wrapper` computes: head h's query, key and
 * value weights become rows h*d_out .. (h+1)*d_out - 1 of the big projections, and the output projection
 * is the identity (zero bias), since the wrapper has none. Uses its own generator for the throwaway
 * initial weights, so the course's random stream is not disturbed.
 */
export function multiHeadFromWrapper(wrapper: MultiHeadAttentionWrapper): MultiHeadAttention {
  if (!(wrapper instanceof MultiHeadAttentionWrapper))
    throw new Error(
      `multiHeadFromWrapper: expected a MultiHeadAttentionWrapper (notebook 06's stacked heads), got ${typeof wrapper === "object" && wrapper !== null ? `a ${(wrapper as object).constructor.name}` : describeValue(wrapper)}`,
    );
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
