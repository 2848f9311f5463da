// Encoder-decoder translators: the plain RNN one (notebook 01) and Bahdanau's attention one (notebook 02).
// They differ in one place only: the context vector c_t that the decoder reads at step t.
//   plain:     c_t = the encoder's final state, the same for every t (the bottleneck)
//   Bahdanau:  c_t = sum_j a_tj h_j, with a_t = softmax_j(v^T tanh(W_q s_(t-1) + W_k h_j)), padding masked
import * as tf from "@tensorflow/tfjs";
import { tanh } from "./fastmath";
import { checkPositiveInt } from "../checks";
import { Generator } from "../random";
import type { Module } from "../attention/module";
import { Embedding, GRU, uniformVariable } from "./layers";
import type { BatchTensors } from "./batch";
import { bahdanauDecoder, gruSequence } from "./fastgru";

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

const NEG = -1e9; // added to the scores of padding: e^(NEG - max) is exactly 0 in float32

export class Seq2Seq implements Module {
  readonly config: Required<Seq2SeqConfig>;
  readonly srcEmb: Embedding;
  readonly tgtEmb: Embedding;
  readonly encoder: GRU;
  readonly decoder: GRU; // input: [embedding of y_(t-1); c_t]
  readonly Wq: tf.Variable | null; // [H, A] additive attention: query projection
  readonly Wk: tf.Variable | null; // [H, A] key projection (applied once per sentence)
  readonly v: tf.Variable | null; // [A, 1]
  readonly Wo: tf.Variable; // [2H, V] output layer over [s_t; c_t]
  readonly bo: tf.Variable; // [V]

  constructor(config: Seq2SeqConfig) {
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
    this.Wq = attn ? uniformVariable([H, A], H, gen) : null;
    this.Wk = attn ? uniformVariable([H, A], H, gen) : null;
    this.v = attn ? uniformVariable([A, 1], A, gen) : null;
    this.Wo = uniformVariable([2 * H, c.tgtVocab], 2 * H, gen);
    this.bo = uniformVariable([c.tgtVocab], 2 * H, gen);
  }

  /** src [B, S] int32, srcMask [B, S] -> encoder states [B, S, H] and the final state [B, H]. */
  encode(src: tf.Tensor, srcMask: tf.Tensor): { states: tf.Tensor3D; final: tf.Tensor2D } {
    return tf.tidy(() => {
      const [B, S] = src.shape;
      const h0 = tf.zeros([B, this.config.hidden]);
      const xg = projectedLookup(this.srcEmb.weight, this.encoder.W, this.encoder.bW, src); // = projectInputs(srcEmb.apply(src))
      const states = gruSequence(xg, h0, this.encoder.U, this.encoder.bU, srcMask);
      // Padding carries the state over, so the last column is each sentence's state after its last token.
      const final = states.slice([0, S - 1, 0], [B, 1, this.config.hidden]).reshape([B, this.config.hidden]) as tf.Tensor2D;
      return { states, final };
    });
  }

  /** The encoder with GRU.run, one op at a time (the reference for `encode`). */
  encodeStepByStep(src: tf.Tensor, srcMask: tf.Tensor): { states: tf.Tensor3D; final: tf.Tensor2D } {
    return tf.tidy(() => {
      const h0 = tf.zeros([src.shape[0], this.config.hidden]);
      const { states, last } = this.encoder.run(this.srcEmb.apply(src), h0, srcMask);
      return { states, final: last };
    });
  }

  /** The attention step: decoder state s [B, H] -> weights [B, S] over the source, and context [B, H]. */
  attend(s: tf.Tensor, keys: tf.Tensor3D, states: tf.Tensor3D, maskBias: tf.Tensor): { weights: tf.Tensor2D; context: tf.Tensor2D } {
    return tf.tidy(() => {
      const [B, S, A] = keys.shape;
      const q = tf.matMul(s, this.Wq!).reshape([B, 1, A]); // W_q s
      const e = tanh(tf.add(keys, q)); // tanh(W_q s + W_k h_j)   [B, S, A]
      const scores = tf.add(tf.matMul(e.reshape([B * S, A]), this.v!).reshape([B, S]), maskBias); // v^T ...
      const weights = tf.softmax(scores) as tf.Tensor2D; // [B, S], 0 on padding
      const context = tf.matMul(weights.reshape([B, 1, S]), states).reshape([B, this.config.hidden]) as tf.Tensor2D;
      return { weights, context };
    });
  }

  /** Precomputations shared by training and decoding. */
  private prepare(src: tf.Tensor, srcMask: tf.Tensor) {
    return tf.tidy(() => {
      const { states, final } = this.encode(src, srcMask);
      return this.prepareFrom(states, final, srcMask);
    });
  }

  private prepareFrom(states: tf.Tensor3D, final: tf.Tensor2D, srcMask: tf.Tensor) {
    return tf.tidy(() => {
      const H = this.config.hidden;
      const keys = this.Wk ? (tf.matMul(states.reshape([-1, H]), this.Wk).reshape([...states.shape.slice(0, 2), this.config.attention]) as tf.Tensor3D) : undefined;
      const maskBias = tf.mul(tf.sub(1, srcMask), NEG);
      const ctxW = this.decoder.W.slice([this.config.embedding, 0], [H, 3 * H]); // context part of the decoder's input weights
      const finalProj = keys ? undefined : tf.matMul(final, ctxW); // plain: the same context at every step
      return { states, final, keys, maskBias, ctxW, finalProj };
    });
  }

  /** One decoder step: previous state, projected embedding input [B, 3H] -> new state, context, weights. */
  private decodeStep(s: tf.Tensor, embProj: tf.Tensor, enc: ReturnType<Seq2Seq["prepareFrom"]>) {
    let context: tf.Tensor = enc.final;
    let weights: tf.Tensor | undefined;
    if (enc.keys) ({ weights, context } = this.attend(s, enc.keys, enc.states, enc.maskBias));
    // The decoder GRU's input is [emb; c]: its projection splits into the embedding part (precomputed)
    // and the context part.
    const ctxProj = enc.finalProj ?? tf.matMul(context, enc.ctxW);
    const next = this.decoder.step(tf.add(embProj, ctxProj), s);
    return { next, context, weights };
  }

  /** The decoder's input projection of the embeddings of tgtIn, for all steps: [B, T, 3H]. */
  private embeddingProjection(tgtIn: tf.Tensor): tf.Tensor3D {
    const [B, T] = tgtIn.shape;
    const E = this.config.embedding;
    const H = this.config.hidden;
    const embW = this.decoder.W.slice([0, 0], [E, 3 * H]);
    return tf.add(tf.matMul(this.tgtEmb.apply(tgtIn).reshape([-1, E]), embW), this.decoder.bW).reshape([B, T, 3 * H]) as tf.Tensor3D;
  }

  /**
   * The output layer over [s_t; c_t] for all steps: states [B, T, H] and contexts [B, T, H] (or one
   * context per sentence [B, H], the plain decoder's) -> logits [B, T, V]. W_o is applied in its two
   * halves, [s; c] W_o = s W_s + c W_c, so a constant context needs no copy per step.
   */
  private outputLayer(states: tf.Tensor, contexts: tf.Tensor): tf.Tensor3D {
    const [B, T, H] = states.shape;
    const V = this.config.tgtVocab;
    const fromStates = tf.matMul(states.reshape([B * T, H]), this.Wo.slice([0, 0], [H, V])).reshape([B, T, V]);
    const fromContexts = tf.matMul(contexts.reshape([-1, H]), this.Wo.slice([H, 0], [H, V])).reshape(contexts.rank === 2 ? [B, 1, V] : [B, T, V]);
    return tf.add(tf.add(fromStates, fromContexts), this.bo) as tf.Tensor3D;
  }

  /**
   * Teacher forcing: the decoder reads the reference tgtIn; returns logits [B, T, V] (and attention).
   * This is the fast path used for training: each recurrent loop is one op with a hand-written backward
   * pass (./fastgru.ts). `forwardStepByStep` computes the same, one plain tfjs op at a time.
   */
  forward(batch: Pick<BatchTensors, "src" | "srcMask" | "tgtIn">): DecoderOutput {
    return tf.tidy(() => {
      const enc = this.prepare(batch.src, batch.srcMask);
      const [B, T] = batch.tgtIn.shape;
      const H = this.config.hidden;
      const E = this.config.embedding;
      const embProj = projectedLookup(this.tgtEmb.weight, this.decoder.W.slice([0, 0], [E, 3 * H]), this.decoder.bW, batch.tgtIn); // = embeddingProjection(tgtIn)
      if (enc.finalProj) {
        // Plain decoder: the context is the same at every step, so the whole decoder is one GRU sequence.
        const xg = tf.add(embProj, enc.finalProj.reshape([B, 1, 3 * H]));
        const states = gruSequence(xg, enc.final, this.decoder.U, this.decoder.bU, tf.ones([B, T]));
        return { logits: this.outputLayer(states, enc.final), attention: undefined };
      }
      const S = enc.states.shape[1];
      const out = bahdanauDecoder({
        embProj, s0: enc.final, keys: enc.keys!, states: enc.states, maskBias: enc.maskBias,
        Wq: this.Wq!, v: this.v!, ctxW: enc.ctxW, U: this.decoder.U, bU: this.decoder.bU,
      });
      const [states, contexts, attention] = tf.split(out, [H, H, S], 2);
      return { logits: this.outputLayer(states, contexts), attention: attention as tf.Tensor3D };
    });
  }

  /** The same as `forward`, written step by step with plain tfjs ops (the reference the fast path is tested against). */
  forwardStepByStep(batch: Pick<BatchTensors, "src" | "srcMask" | "tgtIn">): DecoderOutput {
    return tf.tidy(() => {
      const { states: encStates, final } = this.encodeStepByStep(batch.src, batch.srcMask);
      const enc = this.prepareFrom(encStates, final, batch.srcMask);
      const T = batch.tgtIn.shape[1];
      const embProj = tf.unstack(this.embeddingProjection(batch.tgtIn), 1);
      let s: tf.Tensor = enc.final;
      const states: tf.Tensor[] = [];
      const contexts: tf.Tensor[] = [];
      const weights: tf.Tensor[] = [];
      for (let t = 0; t < T; t++) {
        const out = this.decodeStep(s, embProj[t], enc);
        s = out.next;
        states.push(s);
        contexts.push(out.context);
        if (out.weights) weights.push(out.weights);
      }
      const logits = this.outputLayer(tf.stack(states, 1), tf.stack(contexts, 1));
      return { logits, attention: weights.length ? (tf.stack(weights, 1) as tf.Tensor3D) : undefined };
    });
  }

  /** Masked cross-entropy of the reference, averaged over its tokens. */
  loss(batch: BatchTensors): tf.Scalar {
    return tf.tidy(() => maskedCrossEntropy(this.forward(batch).logits, batch.tgtOut, batch.tgtMask));
  }

  /**
   * Greedy decoding: at each step feed back the most likely word. src [B, S] -> token ids per sentence
   * (up to <eos>), and for Bahdanau the attention weights [outputLen][S] of each sentence.
   */
  translate(src: tf.Tensor2D, srcMask: tf.Tensor2D, maxLen?: number): { ids: number[][]; attention: number[][][] | null } {
    const B = src.shape[0];
    const S = src.shape[1];
    const limit = maxLen ?? 2 * S + 10;
    const H = this.config.hidden;
    const ids: number[][] = Array.from({ length: B }, () => []);
    const attn: number[][][] | null = this.Wq ? Array.from({ length: B }, () => []) : null;
    const done = new Array<boolean>(B).fill(false);
    const enc = this.prepare(src, srcMask);
    let s: tf.Tensor = enc.final;
    let prev: tf.Tensor = tf.fill([B, 1], 1, "int32"); // <bos>
    try {
      for (let t = 0; t < limit && !done.every(Boolean); t++) {
        const result = tf.tidy(() => {
          const embProj = this.embeddingProjection(prev).reshape([B, 3 * H]);
          const out = this.decodeStep(s, embProj, enc);
          const logits = tf.add(tf.matMul(tf.concat([out.next, out.context], 1), this.Wo), this.bo);
          return { next: out.next, word: tf.argMax(logits, 1).reshape([B, 1]).cast("int32"), weights: out.weights };
        });
        tf.dispose([s === enc.final ? [] : s, prev]);
        s = result.next;
        prev = result.word;
        const words = result.word.dataSync();
        const w = result.weights ? (result.weights.arraySync() as number[][]) : null;
        result.weights?.dispose();
        for (let i = 0; i < B; i++) {
          if (done[i]) continue;
          if (words[i] === 2 /* <eos> */) done[i] = true;
          else ids[i].push(words[i]);
          if (attn && w) attn[i].push(w[i]);
        }
      }
    } finally {
      tf.dispose([s === enc.final ? [] : s, prev, enc]);
    }
    return { ids, attention: attn };
  }

  parameters(): tf.Variable[] {
    const ps = [...this.srcEmb.parameters(), ...this.tgtEmb.parameters(), ...this.encoder.parameters(), ...this.decoder.parameters()];
    if (this.Wq) ps.push(this.Wq, this.Wk!, this.v!);
    return [...ps, this.Wo, this.bo];
  }

  /** Parameters by stable names, for checkpoints. */
  namedParameters(): Record<string, tf.Variable> {
    const named: Record<string, tf.Variable> = {
      "srcEmb.weight": this.srcEmb.weight, "tgtEmb.weight": this.tgtEmb.weight,
      "encoder.W": this.encoder.W, "encoder.bW": this.encoder.bW, "encoder.U": this.encoder.U, "encoder.bU": this.encoder.bU,
      "decoder.W": this.decoder.W, "decoder.bW": this.decoder.bW, "decoder.U": this.decoder.U, "decoder.bU": this.decoder.bU,
      Wo: this.Wo, bo: this.bo,
    };
    if (this.Wq) Object.assign(named, { Wq: this.Wq, Wk: this.Wk!, v: this.v! });
    return named;
  }

  dispose(): void {
    for (const p of this.parameters()) p.dispose();
  }
}

/**
 * The input projections of embedded tokens, (table[ids]) W + b: [B, T] ids -> [B, T, 3H]. Computed as a
 * row lookup in (table W), a [vocab, 3H] matrix: for batch x length > vocab this is much less work than
 * embedding every token and multiplying (and so is its gradient). Same numbers up to float rounding.
 */
export function projectedLookup(table: tf.Tensor, W: tf.Tensor, b: tf.Tensor, ids: tf.Tensor): tf.Tensor3D {
  return tf.tidy(() => {
    const [B, T] = ids.shape;
    const rows = tf.gather(tf.matMul(table, W), ids.reshape([-1]) as tf.Tensor1D);
    return tf.add(rows, b).reshape([B, T, W.shape[1]!]) as tf.Tensor3D;
  });
}

/** Mean cross-entropy over the tokens where mask = 1. logits [B, T, V], targets [B, T] int32, mask [B, T]. */
export function maskedCrossEntropy(logits: tf.Tensor, targets: tf.Tensor, mask: tf.Tensor): tf.Scalar {
  return tf.tidy(() => {
    const V = logits.shape[logits.rank - 1];
    const logp = tf.logSoftmax(logits);
    const nll = tf.neg(tf.sum(tf.mul(logp, tf.oneHot(targets as tf.Tensor2D, V)), -1)); // [B, T]
    return tf.div(tf.sum(tf.mul(nll, mask)), tf.maximum(tf.sum(mask), 1)) as tf.Scalar;
  });
}
