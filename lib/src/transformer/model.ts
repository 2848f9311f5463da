// The Transformer translator (notebook 08): the encoder-decoder of "Attention is all you need" (2017), built from
// the course's attention modules, trained with the same Trainer, data and step budget as the RNNs of 01-02.
// Layers stay acyclic: this folder stands on attention/ (the modules) and seq2seq/ (data, training, metrics,
// checkpoints); seq2seq/ knows it only through the Translator interface and the TRANSLATORS table it joins below.
import * as tf from "@tensorflow/tfjs";
import { checkPositiveInt, checkTokenIds, checkTensor, shapeStr, trusted } from "../core/checks";
import { checkDropout } from "../core/checks";
import { Generator } from "../core/random";
import { Linear } from "../core/linear";
import { ModuleBase, checkAlive } from "../core/module";
import { Embedding } from "../seq2seq/layers";
import type { BatchTensors } from "../seq2seq/batch";
import { maskedCrossEntropy } from "../seq2seq/model";
import { BOS_ID, EOS_ID } from "../seq2seq/vocab";
import { TRANSLATORS } from "../seq2seq/checkpoint";
import type { Translator } from "../seq2seq/translator";
import type { KVCache } from "../attention/cross";
import { DecoderBlock, EncoderBlock, LayerNorm } from "./blocks";
import { LearnedPositions, POSITION_SCHEMES, applyRope, sinusoidalPositions, type PositionScheme } from "./positions";

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
      seed: 0,
      ...config,
    };
    const fn = "TransformerTranslator";
    if (c.kind !== "transformer") throw new Error(`${fn}: kind must be 'transformer', got '${c.kind}'`);
    for (const k of ["srcVocab", "tgtVocab", "d", "heads", "hidden", "layers", "maxLen"] as const) checkPositiveInt(c[k], fn, k);
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
    const sizes = { d, heads: c.heads, hidden: c.hidden, dropout: c.dropout };
    this.encoder = Array.from({ length: c.layers }, () => new EncoderBlock(sizes, gen));
    this.encoderNorm = new LayerNorm(d);
    this.decoder = Array.from({ length: c.layers }, () => new DecoderBlock(sizes, gen));
    this.decoderNorm = new LayerNorm(d);
    this.out = new Linear(d, c.tgtVocab, { generator: gen });
  }

  private get rotate(): ((t: tf.Tensor4D) => tf.Tensor4D) | undefined {
    return this.config.positions === "rope" ? (t) => applyRope(t) as tf.Tensor4D : undefined;
  }

  /** Token embeddings plus the position scheme's vectors (none for RoPE, which turns queries and keys instead). */
  private embed(ids: tf.Tensor, emb: Embedding, positions: LearnedPositions | null): tf.Tensor {
    const T = ids.shape[1]!;
    const x = emb.forward(ids); // [B, T, d]
    if (this.config.positions === "learned") return tf.add(x, positions!.forward(T));
    if (this.config.positions === "sinusoidal") return tf.add(x, sinusoidalPositions(T, this.config.d));
    return x;
  }

  /** The encoder's output: src [B, S] int32, srcMask [B, S] -> memory [B, S, d]. */
  encode(src: tf.Tensor, srcMask: tf.Tensor): tf.Tensor3D {
    return tf.tidy(() => {
      let x = this.embed(src, this.srcEmb, this.srcPositions);
      for (const block of this.encoder) x = block.forward(x, srcMask, this.rotate);
      return this.encoderNorm.forward(x) as tf.Tensor3D;
    });
  }

  /** The decoder over tgtIn [B, T] (starting with <bos>), reading memory [B, S, d] -> logits [B, T, V]. */
  decode(tgtIn: tf.Tensor, memory: tf.Tensor, srcMask: tf.Tensor): tf.Tensor3D {
    return tf.tidy(() => {
      let y = this.embed(tgtIn, this.tgtEmb, this.tgtPositions);
      for (const block of this.decoder) y = block.forward(y, memory, srcMask, this.rotate);
      return this.out.forward(this.decoderNorm.forward(y)) as tf.Tensor3D;
    });
  }

  private checkBatch(src: unknown, srcMask: unknown, fn: string): void {
    checkAlive(this, fn);
    checkTokenIds(src, this.config.srcVocab, fn, "src");
    checkTensor(srcMask, fn, "srcMask");
    if (srcMask.shape.join() !== (src as tf.Tensor).shape.join())
      throw new Error(
        `${fn}: srcMask has shape ${shapeStr(srcMask.shape)}, src ${shapeStr((src as tf.Tensor).shape)}; expected one mask value per source token`,
      );
    const S = (src as tf.Tensor).shape[1]!;
    if (this.config.positions === "learned" && S > this.config.maxLen)
      throw new Error(`${fn}: the source has ${S} tokens, more than the ${this.config.maxLen} positions this model learned (maxLen)`);
  }

  /** Teacher forcing: logits [B, T, V] for the reference tgtIn [B, T]. */
  forward(batch: Pick<BatchTensors, "src" | "srcMask" | "tgtIn">): { logits: tf.Tensor3D } {
    if (typeof batch !== "object" || batch === null)
      throw new Error(`TransformerTranslator.forward: expected a batch { src, srcMask, tgtIn }, got ${String(batch)}`);
    this.checkBatch(batch.src, batch.srcMask, "TransformerTranslator.forward");
    checkTokenIds(batch.tgtIn, this.config.tgtVocab, "TransformerTranslator.forward", "tgtIn");
    return trusted(() => tf.tidy(() => ({ logits: this.decode(batch.tgtIn, this.encode(batch.src, batch.srcMask), batch.srcMask) })));
  }

  loss(batch: BatchTensors): tf.Scalar {
    return tf.tidy(() => maskedCrossEntropy(this.forward(batch).logits, batch.tgtOut, batch.tgtMask));
  }

  /**
   * Greedy decoding, in evaluation mode: the encoder runs once; at every step the decoder reads all the words written
   * so far (no cache: notebook 09 adds one) and the most likely next word is appended. At most maxLen words (default
   * 2S + 10, and no more than the learned positions allow).
   */
  translate(src: tf.Tensor2D, srcMask: tf.Tensor2D, options: { maxLen?: number; cache?: boolean } = {}): { ids: number[][]; attention: null } {
    this.checkBatch(src, srcMask, "TransformerTranslator.translate");
    const B = src.shape[0];
    let limit = options.maxLen ?? 2 * src.shape[1] + 10;
    if (this.config.positions === "learned") limit = Math.min(limit, this.config.maxLen - 1);
    const wasTraining = this.training;
    this.setTraining(false);
    const ids: number[][] = Array.from({ length: B }, () => []);
    const done = new Array<boolean>(B).fill(false);
    const written: number[][] = Array.from({ length: B }, () => [BOS_ID]);
    const memory = trusted(() => this.encode(src, srcMask));
    let caches: (KVCache | null)[] = this.decoder.map(() => null);
    try {
      for (let t = 0; t < limit && !done.every(Boolean); t++) {
        const next = trusted(() =>
          options.cache
            ? this.cachedStep(written, t, memory, srcMask, caches, (c) => (caches = c))
            : tf.tidy(() => {
                const tgtIn = tf.tensor2d(written, [B, t + 1], "int32");
                const logits = this.decode(tgtIn, memory, srcMask); // [B, t + 1, V]: every step recomputes every word
                return tf.argMax(logits.slice([0, t, 0], [B, 1, -1]).reshape([B, -1]), 1).dataSync();
              }),
        );
        for (let i = 0; i < B; i++) {
          written[i].push(next[i]);
          if (done[i]) continue;
          if (next[i] === EOS_ID) done[i] = true;
          else ids[i].push(next[i]);
        }
      }
    } finally {
      tf.dispose([memory, ...caches.flatMap((c) => (c ? [c.keys, c.values] : []))]);
      this.setTraining(wasTraining);
    }
    return { ids, attention: null };
  }

  /**
   * One step with the KV cache (notebook 09): only the newest word goes through the decoder; its self-attention reads
   * the cached keys and values of the words before it. Same words out as without the cache (tested).
   */
  private cachedStep(
    written: number[][],
    t: number,
    memory: tf.Tensor,
    srcMask: tf.Tensor,
    caches: (KVCache | null)[],
    keep: (c: (KVCache | null)[]) => void,
  ): Int32Array | Float32Array | Uint8Array {
    const B = written.length;
    const result = tf.tidy(() => {
      const newest = tf.tensor2d(
        written.map((w) => [w[t]]),
        [B, 1],
        "int32",
      );
      let y = this.tgtEmb.forward(newest); // [B, 1, d]
      if (this.config.positions === "learned") y = tf.add(y, this.tgtPositions!.weight.slice([t, 0], [1, this.config.d]));
      if (this.config.positions === "sinusoidal") y = tf.add(y, sinusoidalPositions(1, this.config.d, t));
      const rotate = this.config.positions === "rope" ? (q: tf.Tensor4D, offset: number) => applyRope(q, offset) as tf.Tensor4D : undefined;
      const grown: KVCache[] = [];
      this.decoder.forEach((block, l) => {
        const r = block.step(y, memory, srcMask, caches[l], rotate);
        y = r.output;
        grown.push(r.cache);
      });
      const logits = this.out.forward(this.decoderNorm.forward(y)).reshape([B, -1]); // [B, V]
      return { word: tf.argMax(logits, 1), grown };
    });
    tf.dispose(caches.flatMap((c) => (c ? [c.keys, c.values] : [])));
    keep(result.grown);
    const words = result.word.dataSync();
    result.word.dispose();
    return words;
  }

  private setTraining(on: boolean): void {
    for (const b of [...this.encoder, ...this.decoder]) {
      if (on) b.train();
      else b.eval();
    }
    this.training = on;
  }

  override train(): this {
    this.setTraining(true);
    return this;
  }

  override eval(): this {
    this.setTraining(false);
    return this;
  }

  /** Parameters by stable names, for checkpoints: "encoder.0.selfAttention.W_query.weight", ... */
  namedParameters(): Record<string, tf.Variable> {
    const named: Record<string, tf.Variable> = { "srcEmb.weight": this.srcEmb.weight, "tgtEmb.weight": this.tgtEmb.weight };
    if (this.srcPositions) named["srcPositions.weight"] = this.srcPositions.weight;
    if (this.tgtPositions) named["tgtPositions.weight"] = this.tgtPositions.weight;
    const walk = (prefix: string, obj: object) => {
      for (const [key, value] of Object.entries(obj)) {
        if (value instanceof tf.Variable) named[`${prefix}${key}`] = value;
        else if (value instanceof ModuleBase || value instanceof Linear) walk(`${prefix}${key}.`, value);
      }
    };
    this.encoder.forEach((b, i) => walk(`encoder.${i}.`, b));
    walk("encoderNorm.", this.encoderNorm);
    this.decoder.forEach((b, i) => walk(`decoder.${i}.`, b));
    walk("decoderNorm.", this.decoderNorm);
    walk("out.", this.out);
    return named;
  }

  parameters(): tf.Variable[] {
    return Object.values(this.namedParameters());
  }
}

TRANSLATORS.transformer = (c) => new TransformerTranslator(c as TransformerConfig);
