// A small GPT (notebook 09): the decoder-only language model of the book's chapter 4, built from the course's
// modules. Token and learned position embeddings, pre-norm blocks of causal multi-head attention and a feed-forward
// network, a final layer norm, and a linear head to the vocabulary's logits. It reads and writes the English side of
// the course's corpus (next-word prediction), trains with seq2seq's Trainer through the Translator interface, and
// saves and loads with the translators' checkpoints (it joins their TRANSLATORS table below).
import * as tf from "@tensorflow/tfjs";
import { checkDropout, checkPositiveInt, checkTokenIds, shapeStr, trusted } from "../core/checks";
import { Generator } from "../core/random";
import { Linear } from "../core/linear";
import { ModuleBase, checkAlive } from "../core/module";
import { Embedding } from "../seq2seq/layers";
import type { BatchTensors } from "../seq2seq/batch";
import { checkLossTargets, maskedCrossEntropy } from "../seq2seq/model";
import { TRANSLATORS } from "../seq2seq/checkpoint";
import type { Translator } from "../seq2seq/translator";
import { LayerNorm } from "../transformer/blocks";
import { LearnedPositions } from "../attention/positions";
import { GPTBlock } from "./block";
import { generate } from "./generate";

export interface GPTConfig {
  kind: "gpt";
  /** The vocabulary's size: a language model reads and writes the same words, so srcVocab = tgtVocab. */
  srcVocab: number;
  tgtVocab: number;
  /** Width of every token's vector (default 64). */
  d?: number;
  /** Query heads (default 4). */
  heads?: number;
  /** Key/value heads (default heads: multi-head attention; fewer is GQA, 1 is MQA). */
  kvHeads?: number;
  /** MLA: keys and values from a latent of this width per token, which is what the cache keeps (default null: none). */
  kvLatent?: number | null;
  /** Sliding window: keys per query, itself included (default null: full causal attention). */
  window?: number | null;
  /** Width of the feed-forward network's hidden layer (default 4 d, as GPT-2). */
  hidden?: number;
  layers?: number; // default 2
  dropout?: number; // default 0
  /** Longest sequence, <bos> included: the learned position table's size and the causal mask's (default 64). */
  contextLength?: number;
  seed?: number;
}

/** The token ids a GPT reads: [B, T] int32, or one sequence as number[]. */
export type TokenIds = tf.Tensor | number[];

export class GPT extends ModuleBase implements Translator {
  readonly config: Required<GPTConfig>;
  readonly tokEmb: Embedding;
  readonly posEmb: LearnedPositions;
  readonly blocks: GPTBlock[];
  readonly finalNorm: LayerNorm;
  readonly outHead: Linear;

  constructor(config: GPTConfig) {
    super();
    const fn = "GPT";
    if (typeof config !== "object" || config === null)
      throw new Error(`${fn}: expected a config { kind: "gpt", srcVocab, tgtVocab, ... }, got ${String(config)}`);
    const d = config.d ?? 64;
    const heads = config.heads ?? 4;
    const c: Required<GPTConfig> = {
      d,
      heads,
      kvHeads: heads,
      kvLatent: null,
      window: null,
      hidden: 4 * d,
      layers: 2,
      dropout: 0,
      contextLength: 64,
      seed: 0,
      ...config,
    };
    if (c.kind !== "gpt") throw new Error(`${fn}: kind must be 'gpt', got '${c.kind}'`);
    for (const k of ["srcVocab", "tgtVocab", "d", "heads", "kvHeads", "hidden", "layers", "contextLength"] as const) checkPositiveInt(c[k], fn, k);
    if (c.srcVocab !== c.tgtVocab)
      throw new Error(`${fn}: a language model reads and writes one vocabulary, so srcVocab (${c.srcVocab}) must equal tgtVocab (${c.tgtVocab})`);
    if (c.d % c.heads !== 0) throw new Error(`${fn}: d = ${c.d} must split into ${c.heads} heads of equal width`);
    if (c.heads % c.kvHeads !== 0)
      throw new Error(
        `${fn}: heads = ${c.heads} is not a multiple of kvHeads = ${c.kvHeads}; each key/value head serves the same number of query heads`,
      );
    if (c.kvLatent !== null) checkPositiveInt(c.kvLatent, fn, "kvLatent");
    if (c.window !== null) checkPositiveInt(c.window, fn, "window");
    checkDropout(c.dropout, fn);
    if (!Number.isSafeInteger(c.seed) || c.seed < 0) throw new Error(`${fn}: seed must be a non-negative integer, got ${c.seed}`);
    this.config = c;
    const gen = new Generator(c.seed);
    this.tokEmb = new Embedding(c.srcVocab, d, gen);
    this.posEmb = new LearnedPositions(c.contextLength, d, gen);
    const sizes = {
      d,
      heads,
      kvHeads: c.kvHeads,
      kvLatent: c.kvLatent,
      window: c.window,
      hidden: c.hidden,
      dropout: c.dropout,
      contextLength: c.contextLength,
    };
    this.blocks = Array.from({ length: c.layers }, () => new GPTBlock(sizes, gen));
    this.finalNorm = new LayerNorm(d);
    this.outHead = new Linear(d, c.srcVocab, { bias: false, generator: gen });
  }

  /** The vocabulary's size. */
  get vocab(): number {
    return this.config.srcVocab;
  }

  /** ids (number[] or [B, T] int32) -> an int32 tensor [B, T], checked against the vocabulary and the context. */
  private idsTensor(ids: TokenIds, fn: string, offset: number): tf.Tensor2D {
    checkAlive(this, fn);
    const t = Array.isArray(ids) ? (tf.tensor2d([ids], [1, ids.length], "int32") as tf.Tensor2D) : (ids as tf.Tensor2D);
    try {
      if (Array.isArray(ids) && ids.length === 0) throw new Error(`${fn}: no token ids; expected at least one`);
      checkTokenIds(t, this.vocab, fn, "ids");
      if (t.shape[1] === 0) throw new Error(`${fn}: ids has shape ${shapeStr(t.shape)}; expected at least one token`);
      if (offset + t.shape[1] > this.config.contextLength)
        throw new Error(
          `${fn}: ${offset + t.shape[1]} tokens (${offset} cached + ${t.shape[1]} new), more than the ${this.config.contextLength} positions this GPT has (contextLength); call resetCache() or pass fewer tokens`,
        );
    } catch (e) {
      if (t !== ids) t.dispose();
      throw e;
    }
    return t;
  }

  /**
   * Logits of the next token at every position: ids [B, T] (or one sequence as number[]) -> [B, T, V]. With useCache
   * the ids are only the newest tokens: they take the positions after those already in the blocks' KV caches.
   */
  forward(ids: TokenIds, options: { useCache?: boolean } = {}): tf.Tensor3D {
    return this.run(ids, options, "GPT.forward", false).logits;
  }

  /** forward's logits and every block's attention weights [B, heads, T, T_k] (notebook 09 draws them). */
  explain(ids: TokenIds, options: { useCache?: boolean } = {}): { logits: tf.Tensor3D; weights: tf.Tensor[] } {
    return this.run(ids, options, "GPT.explain", true);
  }

  /** The logits, and with keepWeights every block's attention weights (without, they are freed inside). */
  private run(ids: TokenIds, options: { useCache?: boolean }, fn: string, keepWeights: boolean): { logits: tf.Tensor3D; weights: tf.Tensor[] } {
    if (typeof options !== "object" || options === null) throw new Error(`${fn}: options must be an object { useCache? }, got ${String(options)}`);
    const useCache = options.useCache ?? false;
    if (typeof useCache !== "boolean") throw new Error(`${fn}: useCache must be true or false, got ${String(useCache)}`);
    const offset = useCache ? this.cachedTokens : 0;
    const t = this.idsTensor(ids, fn, offset);
    const cached = this.blocks[0].attention.cache.keys ?? this.blocks[0].attention.cache.latent;
    if (useCache && cached && cached.shape[0] !== t.shape[0]) {
      if (t !== ids) t.dispose();
      throw new Error(`${fn}: the cache holds ${cached.shape[0]} sequences but ids has ${t.shape[0]}; call resetCache() before a new batch`);
    }
    try {
      return trusted(() =>
        tf.tidy(() => {
          const T = t.shape[1];
          let x = tf.add(this.tokEmb.forward(t), this.posEmb.forward(offset + T).slice([offset, 0], [T, this.config.d])); // [B, T, d]
          const weights: tf.Tensor[] = [];
          for (const block of this.blocks) {
            const out = block.explain(x, { useCache });
            x = out.output;
            if (keepWeights) weights.push(out.weights);
          }
          return { logits: this.outHead.forward(this.finalNorm.forward(x)) as tf.Tensor3D, weights };
        }),
      );
    } finally {
      if (t !== ids) t.dispose();
    }
  }

  /** Tokens in the KV caches since resetCache(). */
  get cachedTokens(): number {
    return this.blocks[0].attention.cache.tokens;
  }

  /** Empty every block's KV cache (before a new sequence). */
  resetCache(): void {
    for (const block of this.blocks) block.attention.resetCache();
  }

  /** Next-word prediction: cross-entropy of tgtOut given tgtIn (<bos> + the sentence), padding left out. */
  /** A training batch, checked as loss() needs it (trainStep checks it so before the speed wing's loss). */
  checkBatch(batch: BatchTensors): void {
    checkLossTargets(batch, this.vocab, "GPT.loss");
    this.idsTensor(batch.tgtIn, "GPT.loss", 0); // ids in the vocabulary, no more tokens than the context length
  }

  loss(batch: BatchTensors): tf.Scalar {
    this.checkBatch(batch);
    return tf.tidy(() => maskedCrossEntropy(this.forward(batch.tgtIn), batch.tgtOut, batch.tgtMask));
  }

  /**
   * The Translator interface's decoding, for a language model: continue each prompt (its tokens where srcMask is 1, a
   * final <eos> left out) greedily with the KV cache, up to <eos> or maxLen new tokens.
   */
  translate(src: tf.Tensor2D, srcMask: tf.Tensor2D, options: { maxLen?: number; cache?: boolean } = {}): { ids: number[][]; attention: null } {
    checkTokenIds(src, this.vocab, "GPT.translate", "src");
    const rows = src.arraySync();
    const mask = srcMask.arraySync();
    const ids = rows.map((row, i) => {
      const prompt = row.filter((_, j) => mask[i][j] === 1);
      if (prompt[prompt.length - 1] === 2) prompt.pop(); // <eos>
      const room = this.config.contextLength - 1 - prompt.length;
      return generate(this, prompt, { maxNew: Math.max(1, Math.min(options.maxLen ?? room, room)), cache: options.cache ?? true }).ids.slice(
        prompt.length,
      );
    });
    return { ids, attention: null };
  }
}

TRANSLATORS.gpt = (c) => new GPT(c as unknown as GPTConfig);
