// Encoder-decoder translators: the plain RNN one (notebook 01) and Bahdanau's attention one (notebook 02),
// written the readable way, one step at a time. They differ in one place only: the context vector c_t that
// the decoder reads at step t.
//   plain:     c_t = the encoder's final state, the same for every t (the bottleneck)
//   Bahdanau:  c_t = sum_j a_tj h_j, with a_t = softmax_j(v^T tanh(W_q s_(t-1) + W_k h_j)), padding masked
// Training uses a fast path that computes the same numbers (./fast/, tested equal to `forward`).
import * as tf from "@tensorflow/tfjs";
import {
  checkBoolean,
  checkMaskRows,
  checkPositiveInt,
  checkRank,
  checkTensor,
  checkTokenIds,
  describeValue,
  shapeStr,
  trusted,
} from "../core/checks";
import { MASKED_FINITE } from "../core/mask";
import { Generator } from "../core/random";
import { checkAlive, ModuleBase } from "../core/module";
import { Embedding, GRU, uniformVariable } from "./layers";
import type { BatchTensors } from "./batch";
import { BOS_ID, EOS_ID } from "./vocab";

export type DecoderKind = "plain" | "bahdanau";

export interface Seq2SeqConfig {
  kind: DecoderKind;
  srcVocab: number;
  tgtVocab: number;
  embedding: number;
  hidden: number;
  /** Size of the additive attention's hidden layer (Bahdanau only); default = hidden. */
  attention?: number;
  seed?: number;
}

/** What one decoder pass produced. */
export type DecoderOutput = {
  logits: tf.Tensor3D; // [B, T, tgtVocab]
  attention: tf.Tensor3D | undefined; // [B, T, S] weights of each output step over the source (Bahdanau)
};

/** What the decoder reads of the source at every step. */
export type EncoderMemory = {
  states: tf.Tensor3D; // [B, S, H] the encoder states h_j (the values)
  final: tf.Tensor2D; // [B, H] the state after each sentence's last token
  keys: tf.Tensor3D | undefined; // [B, S, A] W_k h_j, once per sentence (Bahdanau)
  maskBias: tf.Tensor2D; // [B, S] 0 for tokens, MASKED_FINITE for padding
};

/** Added to the scores of padding, so its weight is exactly 0 (finite: 0 * -Infinity would be NaN). srcMask [B, S] -> [B, S] */
export function paddingBias(srcMask: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => tf.mul(tf.sub(1, srcMask), MASKED_FINITE) as tf.Tensor2D);
}

/**
 * Bahdanau's additive attention for one decoder step:
 *   e_j = tanh(W_q s + W_k h_j),  score_j = v^T e_j (+ padding bias),  a = softmax(scores),  c = sum_j a_j h_j
 * query [B, A] (= s W_q), keys [B, S, A], values [B, S, H], v [A, 1], maskBias [B, S]
 * -> e [B, S, A], weights a [B, S], context c [B, H].
 */
export function additiveAttention(
  query: tf.Tensor,
  keys: tf.Tensor,
  values: tf.Tensor,
  v: tf.Tensor,
  maskBias: tf.Tensor,
): { e: tf.Tensor; weights: tf.Tensor2D; context: tf.Tensor2D } {
  const [B, S, A] = keys.shape;
  const H = values.shape[2]!;
  const e = tf.tanh(tf.add(keys, query.reshape([B, 1, A])));
  const scores = tf.add(tf.matMul(e.reshape([B * S, A]), v).reshape([B, S]), maskBias);
  const weights = tf.softmax(scores) as tf.Tensor2D;
  const context = tf.matMul(weights.reshape([B, 1, S]), values).reshape([B, H]) as tf.Tensor2D;
  return { e, weights, context };
}

export class Seq2Seq extends ModuleBase {
  readonly config: Required<Seq2SeqConfig>;
  readonly srcEmb: Embedding;
  readonly tgtEmb: Embedding;
  readonly encoder: GRU;
  readonly decoder: GRU; // input: [embedding of y_(t-1); c_t]
  readonly W_query: tf.Variable | null; // [H, A] additive attention: query projection
  readonly W_key: tf.Variable | null; // [H, A] key projection (applied once per sentence)
  readonly v: tf.Variable | null; // [A, 1]
  readonly W_out: tf.Variable; // [2H, V] output layer over [s_t; c_t]
  readonly b_out: tf.Variable; // [V]

  constructor(config: Seq2SeqConfig) {
    if (typeof config !== "object" || config === null) {
      throw new Error(`Seq2Seq: expected a config { kind: "plain" | "bahdanau", srcVocab, tgtVocab, embedding, hidden }, got ${String(config)}`);
    }
    super();
    const c = { attention: config.hidden, seed: 0, ...config };
    if (c.kind !== "plain" && c.kind !== "bahdanau") throw new Error(`Seq2Seq: kind must be 'plain' or 'bahdanau', got '${c.kind}'`);
    for (const k of ["srcVocab", "tgtVocab", "embedding", "hidden", "attention"] as const) checkPositiveInt(c[k], "Seq2Seq", k);
    this.config = c;
    const gen = new Generator(c.seed);
    const { embedding: E, hidden: H, attention: A } = c;
    this.srcEmb = new Embedding(c.srcVocab, E, gen);
    this.tgtEmb = new Embedding(c.tgtVocab, E, gen);
    this.encoder = new GRU(E, H, gen);
    this.decoder = new GRU(E + H, H, gen);
    const attn = c.kind === "bahdanau";
    this.W_query = attn ? uniformVariable([H, A], H, gen) : null;
    this.W_key = attn ? uniformVariable([H, A], H, gen) : null;
    this.v = attn ? uniformVariable([A, 1], A, gen) : null;
    this.W_out = uniformVariable([2 * H, c.tgtVocab], 2 * H, gen);
    this.b_out = uniformVariable([c.tgtVocab], 2 * H, gen);
  }

  /** src [B, S] int32, srcMask [B, S] -> encoder states [B, S, H] and the final state [B, H]. */
  encode(src: tf.Tensor, srcMask: tf.Tensor): { states: tf.Tensor3D; final: tf.Tensor2D } {
    this.checkSource(src, srcMask, "Seq2Seq.encode");
    return trusted(() => this.encodeChecked(src, srcMask));
  }

  private encodeChecked(src: tf.Tensor, srcMask: tf.Tensor): { states: tf.Tensor3D; final: tf.Tensor2D } {
    return tf.tidy(() => {
      const h0 = tf.zeros([src.shape[0], this.config.hidden]);
      // Padding carries the state over, so `last` is each sentence's state after its last token.
      const { states, last } = this.encoder.run(this.srcEmb.forward(src), h0, srcMask);
      return { states, final: last };
    });
  }

  /**
   * Where a source comes in: src [B, S] int32 ids of the source vocabulary (B, S >= 1), srcMask [B, S] of 1 (token)
   * and 0 (padding), at least one token per sentence.
   */
  private checkSource(src: unknown, srcMask: unknown, fn: string): void {
    checkAlive(this, fn);
    checkSourceBatch(src, srcMask, this.config.srcVocab, fn);
  }

  /** Encode, and compute once per sentence what every decoder step reads. */
  remember(src: tf.Tensor, srcMask: tf.Tensor): EncoderMemory {
    this.checkSource(src, srcMask, "Seq2Seq");
    return tf.tidy(() => {
      const { states, final } = this.encodeChecked(src, srcMask);
      const [B, S, H] = states.shape;
      const keys = this.W_key ? (tf.matMul(states.reshape([B * S, H]), this.W_key).reshape([B, S, this.config.attention]) as tf.Tensor3D) : undefined;
      return { states, final, keys, maskBias: paddingBias(srcMask) };
    });
  }

  /** The attention step: decoder state s [B, H] -> weights [B, S] over the source, and context [B, H]. */
  attend(s: tf.Tensor, memory: EncoderMemory): { weights: tf.Tensor2D; context: tf.Tensor2D } {
    return tf.tidy(() => {
      const { weights, context } = additiveAttention(tf.matMul(s, this.W_query!), memory.keys!, memory.states, this.v!, memory.maskBias);
      return { weights, context };
    });
  }

  /**
   * One decoder step: the previous word's embedding [B, E] and the previous state s [B, H] -> the new state
   * [B, H], the context it read [B, H] and, for Bahdanau, the attention weights [B, S].
   */
  decodeStep(
    embedding: tf.Tensor,
    s: tf.Tensor,
    memory: EncoderMemory,
  ): { next: tf.Tensor2D; context: tf.Tensor2D; weights: tf.Tensor2D | undefined } {
    return tf.tidy(() => {
      const { context, weights } = memory.keys ? this.attend(s, memory) : { context: memory.final, weights: undefined };
      const input = tf.concat([embedding, context], 1); // [B, E + H]
      const next = this.decoder.step(this.decoder.projectInputs(input), s);
      return { next, context, weights };
    });
  }

  /** The output layer: logits over the target vocabulary from [s_t; c_t]. [..., H] twice -> [..., V] */
  output(s: tf.Tensor, context: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const sc = tf.concat([s, context], -1);
      const logits = tf.add(tf.matMul(sc.reshape([-1, 2 * this.config.hidden]), this.W_out), this.b_out);
      return logits.reshape([...s.shape.slice(0, -1), this.config.tgtVocab]);
    });
  }

  /** Teacher forcing: the decoder reads the reference tgtIn [B, T]; returns logits [B, T, V] (and attention [B, T, S]). */
  forward(batch: Pick<BatchTensors, "src" | "srcMask" | "tgtIn">): DecoderOutput {
    if (typeof batch !== "object" || batch === null)
      throw new Error(`Seq2Seq.forward: expected a batch { src, srcMask, tgtIn }, got ${String(batch)}`);
    this.checkSource(batch.src, batch.srcMask, "Seq2Seq.forward");
    checkTargetIds(batch.tgtIn, batch.src, this.config.tgtVocab, "Seq2Seq.forward", "tgtIn");
    return trusted(() => this.forwardChecked(batch));
  }

  private forwardChecked(batch: Pick<BatchTensors, "src" | "srcMask" | "tgtIn">): DecoderOutput {
    return tf.tidy(() => {
      const memory = this.remember(batch.src, batch.srcMask);
      const embeddings = tf.unstack(this.tgtEmb.forward(batch.tgtIn), 1); // T x [B, E]
      let s: tf.Tensor = memory.final;
      const logits: tf.Tensor[] = [];
      const weights: tf.Tensor[] = [];
      for (const embedding of embeddings) {
        const step = this.decodeStep(embedding, s, memory);
        s = step.next;
        logits.push(this.output(s, step.context));
        if (step.weights) weights.push(step.weights);
      }
      return { logits: tf.stack(logits, 1) as tf.Tensor3D, attention: weights.length ? (tf.stack(weights, 1) as tf.Tensor3D) : undefined };
    });
  }

  /** A training batch, checked as loss() needs it (trainStep checks it so before the speed wing's loss). */
  checkBatch(batch: BatchTensors): void {
    checkLossTargets(batch, this.config.tgtVocab, "Seq2Seq.loss");
    this.checkSource(batch.src, batch.srcMask, "Seq2Seq.loss");
    checkTargetIds(batch.tgtIn, batch.src, this.config.tgtVocab, "Seq2Seq.loss", "tgtIn");
  }

  /** Masked cross-entropy of the reference, averaged over its tokens. */
  loss(batch: BatchTensors): tf.Scalar {
    this.checkBatch(batch);
    return tf.tidy(() => maskedCrossEntropy(this.forward(batch).logits, batch.tgtOut, batch.tgtMask));
  }

  /**
   * Greedy decoding: at each step feed back the most likely word. src [B, S] -> token ids per sentence
   * (up to <eos>), and for Bahdanau the attention weights [outputLen][S] of each sentence. Options: at most
   * `maxLen` words (default 2S + 10). `cache` changes nothing here: an RNN's state is already all it carries from
   * step to step (the Transformer's KV cache, notebook 09, is what it replaces there).
   */
  translate(
    src: tf.Tensor2D,
    srcMask: tf.Tensor2D,
    options: { maxLen?: number; cache?: boolean } = {},
  ): { ids: number[][]; attention: number[][][] | null } {
    this.checkSource(src, srcMask, "Seq2Seq.translate");
    checkTranslateOptions(options, "Seq2Seq.translate");
    return trusted(() => this.translateChecked(src, srcMask, options));
  }

  private translateChecked(
    src: tf.Tensor2D,
    srcMask: tf.Tensor2D,
    options: { maxLen?: number },
  ): { ids: number[][]; attention: number[][][] | null } {
    const B = src.shape[0];
    const limit = options.maxLen ?? 2 * src.shape[1] + 10;
    const ids: number[][] = Array.from({ length: B }, () => []);
    const attn: number[][][] | null = this.W_query ? Array.from({ length: B }, () => []) : null;
    const done = new Array<boolean>(B).fill(false);
    const memory = this.remember(src, srcMask);
    let s: tf.Tensor = memory.final;
    let prev: tf.Tensor = tf.fill([B], BOS_ID, "int32");
    try {
      for (let t = 0; t < limit && !done.every(Boolean); t++) {
        const step = tf.tidy(() => {
          const embedding = this.tgtEmb.forward(prev); // [B, E]
          const out = this.decodeStep(embedding, s, memory);
          const word = tf.argMax(this.output(out.next, out.context), 1).cast("int32");
          return { next: out.next, word, weights: out.weights };
        });
        tf.dispose([s === memory.final ? [] : s, prev]);
        s = step.next;
        prev = step.word;
        const words = step.word.dataSync();
        const w = step.weights ? (step.weights.arraySync() as number[][]) : null;
        step.weights?.dispose();
        for (let i = 0; i < B; i++) {
          if (done[i]) continue;
          if (words[i] === EOS_ID) done[i] = true;
          else ids[i].push(words[i]);
          if (attn && w) attn[i].push(w[i]);
        }
      }
    } finally {
      tf.dispose([s === memory.final ? [] : s, prev, memory]);
    }
    return { ids, attention: attn };
  }
}

/** Mean cross-entropy over the tokens where mask = 1. logits [B, T, V], targets [B, T] int32, mask [B, T]. */
/**
 * Where a source comes in: src [B, S] int32 ids of the source vocabulary (B, S >= 1), srcMask [B, S] of 1 (token)
 * and 0 (padding), at least one token per sentence.
 */
export function checkSourceBatch(src: unknown, srcMask: unknown, srcVocab: number, fn: string): asserts src is tf.Tensor2D {
  checkTokenIds(src, srcVocab, fn, "src");
  if (src.shape[0] === 0) throw new Error(`${fn}: src is an empty batch (shape ${shapeStr(src.shape)}); expected at least one sentence`);
  if (src.shape[1] === 0) throw new Error(`${fn}: src has no tokens (shape ${shapeStr(src.shape)}); expected at least one token per sentence`);
  checkTensor(srcMask, fn, "srcMask");
  checkRank(srcMask, [2], fn, "srcMask", "[batch, tokens]");
  if (srcMask.shape[0] !== src.shape[0] || srcMask.shape[1] !== src.shape[1]) {
    throw new Error(`${fn}: srcMask has shape ${shapeStr(srcMask.shape)}, src ${shapeStr(src.shape)}; expected one mask value per source token`);
  }
  checkMaskRows(srcMask, fn, "srcMask", "sentence");
}

/** Target ids that go with src [B, S]: [B, T] int32 ids of the target vocabulary, one row per source sentence, T >= 1. */
export function checkTargetIds(ids: unknown, src: tf.Tensor, tgtVocab: number, fn: string, name: string): asserts ids is tf.Tensor2D {
  checkTokenIds(ids, tgtVocab, fn, name);
  if (ids.shape[0] !== src.shape[0])
    throw new Error(`${fn}: ${name} has ${ids.shape[0]} sentences and src ${src.shape[0]}; expected one target sentence per source sentence`);
  if (ids.shape[1] === 0)
    throw new Error(`${fn}: ${name} has no tokens (shape ${shapeStr(ids.shape)}); expected at least one token per sentence (<bos> first)`);
}

/** What loss() reads besides forward()'s batch: tgtOut [B, T] target ids and tgtMask [B, T] of 1 and 0, both shaped like tgtIn. */
export function checkLossTargets(batch: unknown, tgtVocab: number, fn: string): void {
  if (typeof batch !== "object" || batch === null)
    throw new Error(`${fn}: expected a batch { src, srcMask, tgtIn, tgtOut, tgtMask }, got ${describeValue(batch)}`);
  const { tgtIn, tgtOut, tgtMask } = batch as Partial<BatchTensors>;
  checkTensor(tgtIn, fn, "tgtIn");
  checkTokenIds(tgtOut, tgtVocab, fn, "tgtOut");
  checkTensor(tgtMask, fn, "tgtMask");
  for (const [name, t] of [
    ["tgtOut", tgtOut],
    ["tgtMask", tgtMask],
  ] as const)
    if (t.shape.join() !== tgtIn.shape.join())
      throw new Error(`${fn}: ${name} has shape ${shapeStr(t.shape)}, tgtIn ${shapeStr(tgtIn.shape)}; expected one value per target token`);
  checkMaskRows(tgtMask, fn, "tgtMask", "sentence");
}

/** translate()'s options: an object, maxLen a positive integer, cache true or false. */
export function checkTranslateOptions(options: unknown, fn: string): asserts options is { maxLen?: number; cache?: boolean } {
  if (typeof options !== "object" || options === null)
    throw new Error(`${fn}: options must be an object like { maxLen: 20 }, got ${describeValue(options)}`);
  const o = options as { maxLen?: unknown; cache?: unknown };
  if (o.maxLen !== undefined) checkPositiveInt(o.maxLen, fn, "maxLen");
  if (o.cache !== undefined) checkBoolean(o.cache, fn, "cache");
}

export function maskedCrossEntropy(logits: tf.Tensor, targets: tf.Tensor, mask: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const V = logits.shape[logits.rank - 1];
    const logp = tf.logSoftmax(logits);
    const nll = tf.neg(tf.sum(tf.mul(logp, tf.oneHot(targets as tf.Tensor2D, V)), -1)); // [B, T]
    return tf.div(tf.sum(tf.mul(nll, mask)), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
  });
}
