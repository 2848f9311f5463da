// The Transformer translator (notebook 08): the encoder-decoder of "Attention is all you need" (2017), built from
// the course's attention modules, trained with the same Trainer, data and step budget as the RNNs of 01-02.
// Layers stay acyclic: this folder stands on attention/ (the modules) and seq2seq/ (data, training, metrics,
// checkpoints); seq2seq/ knows it only through the Translator interface and the TRANSLATORS table it joins below.
import * as tf from "@tensorflow/tfjs";
import { checkPositiveInt, checkTokenIds, trusted } from "../core/checks";
import { checkBoolean, checkDropout } from "../core/checks";
import { Generator } from "../core/random";
import { Linear } from "../core/linear";
import { ModuleBase, checkAlive } from "../core/module";
import { Embedding } from "../seq2seq/layers";
import type { BatchTensors } from "../seq2seq/batch";
import { checkLossTargets, checkSourceBatch, checkTargetIds, checkTranslateOptions, maskedCrossEntropy } from "../seq2seq/model";
import { BOS_ID, EOS_ID } from "../seq2seq/vocab";
import { TRANSLATORS } from "../seq2seq/checkpoint";
import type { Translator } from "../seq2seq/translator";
import { DecoderBlock, EncoderBlock, LayerNorm } from "./blocks";
import { LearnedPositions, POSITION_SCHEMES, sinusoidalPositions, type PositionScheme } from "../attention/positions";

export interface TransformerConfig {
  kind: "transformer";
  srcVocab: number;
  tgtVocab: number;
  /** Width of every token's vector (default 64). */
  d?: number;
  heads?: number; // default 4
  /** Width of the feed-forward network's hidden layer (default 2 d). */
  hidden?: number;
  /** Encoder blocks, and as many decoder blocks (default 2). */
  layers?: number;
  dropout?: number; // default 0.1
  positions?: PositionScheme; // default "sinusoidal"
  /** Longest sentence the learned positions have a vector for (default 128). */
  maxLen?: number;
  /** Longest sequence attention takes on either side, the causal mask's size (default 512). */
  contextLength?: number;
  seed?: number;
}

/**
 * Token embeddings plus positions, `layers` encoder blocks over the source, `layers` decoder blocks over the words
 * written so far (causal self-attention, then cross-attention to the encoder's output), a final layer norm on each
 * side, and a linear layer to the target vocabulary's logits.
 */
export class TransformerTranslator extends ModuleBase implements Translator {
  readonly config: Required<TransformerConfig>;
  readonly srcEmb: Embedding;
  readonly tgtEmb: Embedding;
  readonly srcPositions: LearnedPositions | null;
  readonly tgtPositions: LearnedPositions | null;
  readonly encoder: EncoderBlock[];
  readonly encoderNorm: LayerNorm;
  readonly decoder: DecoderBlock[];
  readonly decoderNorm: LayerNorm;
  readonly out: Linear;

  constructor(config: TransformerConfig) {
    super();
    if (typeof config !== "object" || config === null)
      throw new Error(`TransformerTranslator: expected a config { kind: "transformer", srcVocab, tgtVocab, ... }, got ${String(config)}`);
    const d = config.d ?? 64;
    const c: Required<TransformerConfig> = {
      d,
      heads: 4,
      hidden: 2 * d,
      layers: 2,
      dropout: 0.1,
      positions: "sinusoidal",
      maxLen: 128,
      contextLength: 512,
      seed: 0,
      ...config,
    };
    const fn = "TransformerTranslator";
    if (c.kind !== "transformer") throw new Error(`${fn}: kind must be 'transformer', got '${c.kind}'`);
    for (const k of ["srcVocab", "tgtVocab", "d", "heads", "hidden", "layers", "maxLen", "contextLength"] as const) checkPositiveInt(c[k], fn, k);
    checkDropout(c.dropout, fn);
    if (!POSITION_SCHEMES.includes(c.positions))
      throw new Error(`${fn}: positions must be one of ${POSITION_SCHEMES.join(", ")}, got '${c.positions}'`);
    if (c.d % c.heads !== 0 || (c.d / c.heads) % 2 !== 0)
      throw new Error(`${fn}: d = ${c.d} must split into ${c.heads} heads of an even width (rotary embeddings turn pairs)`);
    this.config = c;
    const gen = new Generator(c.seed);
    this.srcEmb = new Embedding(c.srcVocab, d, gen);
    this.tgtEmb = new Embedding(c.tgtVocab, d, gen);
    const learned = c.positions === "learned";
    this.srcPositions = learned ? new LearnedPositions(c.maxLen, d, gen) : null;
    this.tgtPositions = learned ? new LearnedPositions(c.maxLen, d, gen) : null;
    const sizes = { d, heads: c.heads, hidden: c.hidden, dropout: c.dropout, contextLength: c.contextLength, rope: c.positions === "rope" };
    this.encoder = Array.from({ length: c.layers }, () => new EncoderBlock(sizes, gen));
    this.encoderNorm = new LayerNorm(d);
    this.decoder = Array.from({ length: c.layers }, () => new DecoderBlock(sizes, gen));
    this.decoderNorm = new LayerNorm(d);
    this.out = new Linear(d, c.tgtVocab, { generator: gen });
  }

  /**
   * Token embeddings plus the position scheme's vectors for positions offset .. offset + T - 1 (none for RoPE, whose
   * attention turns queries and keys instead): ids [B, T] -> [B, T, d].
   */
  private embed(ids: tf.Tensor, emb: Embedding, positions: LearnedPositions | null, offset = 0): tf.Tensor {
    const T = ids.shape[1]!;
    const x = emb.forward(ids); // [B, T, d]
    if (this.config.positions === "learned") return tf.add(x, positions!.forward(offset + T).slice([offset, 0], [T, this.config.d]));
    if (this.config.positions === "sinusoidal") return tf.add(x, sinusoidalPositions(T, this.config.d, offset));
    return x;
  }

  /** The encoder's output: src [B, S] int32, srcMask [B, S] -> memory [B, S, d]. */
  encode(src: tf.Tensor, srcMask: tf.Tensor): tf.Tensor3D {
    return tf.tidy(() => {
      let x = this.embed(src, this.srcEmb, this.srcPositions);
      for (const block of this.encoder) x = block.forward(x, srcMask);
      return this.encoderNorm.forward(x) as tf.Tensor3D;
    });
  }

  /**
   * The decoder over tgtIn [B, T] (starting with <bos>), reading memory [B, S, d] -> logits [B, T, V]. With useCache
   * (notebook 09) tgtIn holds only the newest words, at positions `offset` on, and the blocks' KV caches the rest.
   */
  decode(tgtIn: tf.Tensor, memory: tf.Tensor, srcMask: tf.Tensor, options: { useCache?: boolean; offset?: number } = {}): tf.Tensor3D {
    return tf.tidy(() => {
      let y = this.embed(tgtIn, this.tgtEmb, this.tgtPositions, options.offset ?? 0);
      for (const block of this.decoder) y = block.forward(y, memory, srcMask, { useCache: options.useCache });
      return this.out.forward(this.decoderNorm.forward(y)) as tf.Tensor3D;
    });
  }

  private checkSource(src: unknown, srcMask: unknown, fn: string): void {
    checkAlive(this, fn);
    checkSourceBatch(src, srcMask, this.config.srcVocab, fn);
    const S = src.shape[1];
    if (this.config.positions === "learned" && S > this.config.maxLen)
      throw new Error(`${fn}: the source has ${S} tokens, more than the ${this.config.maxLen} positions this model learned (maxLen)`);
    if (S > this.config.contextLength)
      throw new Error(`${fn}: the source has ${S} tokens, more than the ${this.config.contextLength} its attention takes (contextLength)`);
  }

  /** A target of T words fits: the learned positions (maxLen) and the attention's context length. */
  private checkTargetLength(T: number, fn: string): void {
    if (this.config.positions === "learned" && T > this.config.maxLen)
      throw new Error(`${fn}: the target has ${T} tokens, more than the ${this.config.maxLen} positions this model learned (maxLen)`);
    if (T > this.config.contextLength)
      throw new Error(`${fn}: the target has ${T} tokens, more than the ${this.config.contextLength} its attention takes (contextLength)`);
  }

  /** Teacher forcing: logits [B, T, V] for the reference tgtIn [B, T]. */
  forward(batch: Pick<BatchTensors, "src" | "srcMask" | "tgtIn">): { logits: tf.Tensor3D } {
    if (typeof batch !== "object" || batch === null)
      throw new Error(`TransformerTranslator.forward: expected a batch { src, srcMask, tgtIn }, got ${String(batch)}`);
    this.checkSource(batch.src, batch.srcMask, "TransformerTranslator.forward");
    checkTargetIds(batch.tgtIn, batch.src, this.config.tgtVocab, "TransformerTranslator.forward", "tgtIn");
    this.checkTargetLength(batch.tgtIn.shape[1]!, "TransformerTranslator.forward");
    return trusted(() => tf.tidy(() => ({ logits: this.decode(batch.tgtIn, this.encode(batch.src, batch.srcMask), batch.srcMask) })));
  }

  /** A training batch, checked as loss() needs it (trainStep checks it so before the speed wing's loss). */
  checkBatch(batch: BatchTensors): void {
    const fn = "TransformerTranslator.loss";
    checkLossTargets(batch, this.config.tgtVocab, fn);
    this.checkSource(batch.src, batch.srcMask, fn);
    checkTargetIds(batch.tgtIn, batch.src, this.config.tgtVocab, fn, "tgtIn");
    this.checkTargetLength(batch.tgtIn.shape[1]!, fn);
  }

  loss(batch: BatchTensors): tf.Scalar {
    this.checkBatch(batch);
    return tf.tidy(() => maskedCrossEntropy(this.forward(batch).logits, batch.tgtOut, batch.tgtMask));
  }

  /**
   * Greedy decoding, in evaluation mode: the encoder runs once; at every step the most likely next word is appended.
   * Without the cache the decoder reads all the words written so far again; with `cache: true` (notebook 09) only the
   * newest word goes through it, and each attention keeps its keys and values (the memory's computed once). At most
   * maxLen words (default 2S + 10, no more than the learned positions or the context length allow). With
   * `attention: true` (notebook 08) also the cross-attention of every step, from one more decoder pass over the words read.
   */
  translate(src: tf.Tensor2D, srcMask: tf.Tensor2D, options: { maxLen?: number; cache?: boolean; attention?: boolean } = {}): TransformerTranslation {
    this.checkSource(src, srcMask, "TransformerTranslator.translate");
    checkTranslateOptions(options, "TransformerTranslator.translate");
    if (options.attention !== undefined) checkBoolean(options.attention, "TransformerTranslator.translate", "attention");
    const B = src.shape[0];
    let limit = options.maxLen ?? 2 * src.shape[1] + 10;
    if (this.config.positions === "learned") limit = Math.min(limit, this.config.maxLen - 1);
    limit = Math.min(limit, this.config.contextLength - 1);
    const wasTraining = this.training;
    this.eval();
    const ids: number[][] = Array.from({ length: B }, () => []);
    const done = new Array<boolean>(B).fill(false);
    const written: number[][] = Array.from({ length: B }, () => [BOS_ID]);
    const memory = trusted(() => this.encode(src, srcMask));
    let steps = 0;
    try {
      for (let t = 0; t < limit && !done.every(Boolean); t++) {
        const next = trusted(() =>
          tf.tidy(() => {
            const logits = options.cache
              ? this.decode(
                  tf.tensor2d(
                    written.map((w) => [w[t]]),
                    [B, 1],
                    "int32",
                  ),
                  memory,
                  srcMask,
                  { useCache: true, offset: t },
                ) // [B, 1, V]
              : this.decode(tf.tensor2d(written, [B, t + 1], "int32"), memory, srcMask); // [B, t + 1, V]: every word again
            return tf.argMax(logits.slice([0, logits.shape[1] - 1, 0], [B, 1, -1]).reshape([B, -1]), 1).dataSync();
          }),
        );
        steps++;
        for (let i = 0; i < B; i++) {
          written[i].push(next[i]);
          if (done[i]) continue;
          if (next[i] === EOS_ID) done[i] = true;
          else ids[i].push(next[i]);
        }
      }
      this.resetCache();
      if (!options.attention) return { ids, attention: null, crossAttention: null };
      // The cross-attention of every step: the decoder once more over the words it read ([B, steps], causal, so each
      // row is what that step computed), one row per word written plus the <eos> step.
      const perBlock =
        steps === 0
          ? []
          : trusted(() =>
              tf.tidy(() =>
                this.crossAttentionWeights(
                  tf.tensor2d(
                    written.map((w) => w.slice(0, steps)),
                    [B, steps],
                    "int32",
                  ),
                  memory,
                  srcMask,
                ),
              ),
            );
      const rows = ids.map((w, i) => w.length + (done[i] ? 1 : 0));
      const cross = perBlock.map((w) => w.arraySync() as number[][][][]); // [block][B][heads][steps][S]
      tf.dispose(perBlock);
      const crossAttention = ids.map((_, i) => cross.map((block) => block[i].map((head) => head.slice(0, rows[i])))); // [B][block][head][rows][S]
      const attention = crossAttention.map((blocks) => meanOver(blocks[blocks.length - 1])); // [B][rows][S]
      return { ids, attention, crossAttention };
    } finally {
      memory.dispose();
      this.resetCache();
      if (wasTraining) this.train();
    }
  }

  /**
   * The decoder's cross-attention weights while it reads tgtIn [B, T] (teacher forcing, in evaluation mode): one
   * [B, heads, T, S] per decoder block, from the first block to the last.
   */
  crossAttention(src: tf.Tensor2D, srcMask: tf.Tensor2D, tgtIn: tf.Tensor2D): tf.Tensor4D[] {
    const fn = "TransformerTranslator.crossAttention";
    this.checkSource(src, srcMask, fn);
    checkTokenIds(tgtIn, this.config.tgtVocab, fn, "tgtIn");
    if (tgtIn.shape[0] !== src.shape[0])
      throw new Error(`${fn}: tgtIn has ${tgtIn.shape[0]} sentences and src ${src.shape[0]}; expected one target per source sentence`);
    const wasTraining = this.training;
    this.eval();
    try {
      return trusted(() => tf.tidy(() => this.crossAttentionWeights(tgtIn, this.encode(src, srcMask), srcMask)));
    } finally {
      if (wasTraining) this.train();
    }
  }

  private crossAttentionWeights(tgtIn: tf.Tensor, memory: tf.Tensor, srcMask: tf.Tensor): tf.Tensor4D[] {
    return tf.tidy(() => {
      let y = this.embed(tgtIn, this.tgtEmb, this.tgtPositions);
      const weights: tf.Tensor4D[] = [];
      for (const block of this.decoder) {
        const parts = block.explain(y, memory, srcMask);
        y = parts.output;
        weights.push(parts.crossWeights);
      }
      return weights;
    });
  }

  /** Empty every decoder block's KV caches. */
  resetCache(): void {
    for (const block of this.decoder) block.resetCache();
  }
}

/** Greedy translations with what the decoder read: ids per sentence, and its cross-attention weights. */
export interface TransformerTranslation {
  ids: number[][];
  /** [sentence][output word][source token]: the last decoder block's cross-attention, averaged over its heads (with `attention: true`). */
  attention: number[][][] | null;
  /** [sentence][decoder block][head][output word][source token]: every block's and head's cross-attention (with `attention: true`). */
  crossAttention: number[][][][][] | null;
}

/** The mean of [heads][rows][cols] over the heads -> [rows][cols]. */
function meanOver(heads: number[][][]): number[][] {
  return heads[0].map((row, r) => row.map((_, c) => heads.reduce((sum, h) => sum + h[r][c], 0) / heads.length));
}

TRANSLATORS.transformer = (c) => new TransformerTranslator(c as TransformerConfig);
