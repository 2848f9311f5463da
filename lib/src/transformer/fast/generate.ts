// Greedy decoding for the Transformer translator (what TransformerTranslator.translate computes), with and without
// the KV cache, for notebook 09's race between the two.
//
// Generating one word at a time is many tiny steps: at the length experiment's size (d 32) a word is ~12,000
// multiply-adds, far less than what tfjs spends dispatching the ~150 ops of a decoder pass. So the encoder runs once
// per sentence through the wing's kernels, its output and the weights are read once into arrays, and every decoder
// step is plain loops over them: no kernel calls per word. Both ways share that code, so their times compare the
// algorithms alone:
//   cache: true    each word goes through the decoder once; every self-attention keeps its keys and values, and
//                  the memory's keys and values are projected once per sentence
//   cache: false   every step runs the decoder over all the words so far again (and projects the memory again)
// The tests hold the logits of both to the readable model's within 1e-5, and the words to its translate.
import * as tf from "@tensorflow/tfjs";
import { BOS_ID, EOS_ID } from "../../seq2seq/vocab";
import type { Linear } from "../../core/linear";
import type { MultiHeadAttention } from "../../attention/multihead";
import type { LayerNorm } from "../blocks";
import type { TransformerTranslator } from "../model";
import { fastTransformerMemory } from "./index";

export type Vec = Float64Array;

/** A Linear's weights as arrays: W [out, in] row-major, b [out] (or null). */
export interface Lin {
  W: Float32Array;
  b: Float32Array | null;
  dIn: number;
  dOut: number;
}
export const lin = (l: Linear): Lin => ({
  W: l.weight.dataSync() as Float32Array,
  b: l.bias ? (l.bias.dataSync() as Float32Array) : null,
  dIn: l.dIn,
  dOut: l.dOut,
});

/** y = W x + b for one vector x [in] -> [out]. */
export function apply(l: Lin, x: ArrayLike<number>): Vec {
  const y = new Float64Array(l.dOut);
  for (let o = 0; o < l.dOut; o++) {
    let s = l.b ? l.b[o] : 0;
    const r = o * l.dIn;
    for (let i = 0; i < l.dIn; i++) s += l.W[r + i] * x[i];
    y[o] = s;
  }
  return y;
}

export interface Norm {
  g: Float32Array;
  b: Float32Array;
  eps: number;
}
export const normOf = (n: LayerNorm): Norm => ({ g: n.scale.dataSync() as Float32Array, b: n.shift.dataSync() as Float32Array, eps: n.eps });
export function norm(n: Norm, x: Vec): Vec {
  const d = x.length;
  let mean = 0;
  for (let j = 0; j < d; j++) mean += x[j];
  mean /= d;
  let v = 0;
  for (let j = 0; j < d; j++) v += (x[j] - mean) ** 2;
  const r = 1 / Math.sqrt(v / d + n.eps);
  const y = new Float64Array(d);
  for (let j = 0; j < d; j++) y[j] = (x[j] - mean) * r * n.g[j] + n.b[j];
  return y;
}

interface Attn {
  q: Lin;
  k: Lin;
  v: Lin;
  out: Lin;
  heads: number;
  hd: number;
  rope: boolean;
}
const attnOf = (m: MultiHeadAttention): Attn => ({
  q: lin(m.W_query),
  k: lin(m.W_key),
  v: lin(m.W_value),
  out: lin(m.out_proj),
  heads: m.numHeads,
  hd: m.headDim,
  rope: m.rope,
});

/** Turn each head's halves of x by position p (applyRope's rotate-half convention, ropeAngles' float32 angles). */
export function rope(x: Vec, heads: number, hd: number, p: number): void {
  const half = hd / 2;
  for (let i = 0; i < half; i++) {
    const angle = p * Math.pow(10000, (-2 * i) / hd);
    const c = Math.fround(Math.cos(angle));
    const s = Math.fround(Math.sin(angle));
    for (let h = 0; h < heads; h++) {
      const o = h * hd;
      const [x1, x2] = [x[o + i], x[o + half + i]];
      x[o + i] = x1 * c - x2 * s;
      x[o + half + i] = x2 * c + x1 * s;
    }
  }
}

/**
 * One query q [heads hd] over keys and values (one [kvHeads hd] vector each; query head h reads key/value head
 * floor(h / group)), keys before `first` or with visible[j] = 0 left out -> context [heads hd].
 */
export function attend(q: Vec, keys: Vec[], values: Vec[], heads: number, hd: number, visible: ArrayLike<number> | null, group = 1, first = 0): Vec {
  const out = new Float64Array(heads * hd);
  const s = new Float64Array(keys.length);
  const scale = 1 / Math.sqrt(hd);
  const seen = (j: number) => !(visible && visible[j] === 0);
  for (let h = 0; h < heads; h++) {
    const o = h * hd;
    const kv = Math.floor(h / group) * hd;
    let max = -Infinity;
    for (let j = first; j < keys.length; j++) {
      if (!seen(j)) continue;
      let dot = 0;
      for (let c = 0; c < hd; c++) dot += q[o + c] * keys[j][kv + c];
      s[j] = dot * scale;
      if (s[j] > max) max = s[j];
    }
    let sum = 0;
    for (let j = first; j < keys.length; j++) {
      if (!seen(j)) continue;
      s[j] = Math.exp(s[j] - max);
      sum += s[j];
    }
    for (let j = first; j < keys.length; j++) {
      if (!seen(j)) continue;
      const p = s[j] / sum;
      for (let c = 0; c < hd; c++) out[o + c] += p * values[j][kv + c];
    }
  }
  return out;
}

export function add(a: Vec, b: Vec): Vec {
  for (let j = 0; j < a.length; j++) a[j] += b[j];
  return a;
}

/** The decoder's weights as arrays, read once per translate call. */
function decoderWeights(model: TransformerTranslator) {
  return {
    blocks: model.decoder.map((b) => ({
      n1: normOf(b.norm1),
      self: attnOf(b.selfAttention),
      n2: normOf(b.norm2),
      cross: attnOf(b.crossAttention),
      n3: normOf(b.norm3),
      up: lin(b.feedForward.up),
      down: lin(b.feedForward.down),
    })),
    norm: normOf(model.decoderNorm),
    out: lin(model.out),
    emb: model.tgtEmb.weight.dataSync() as Float32Array,
    pos: model.tgtPositions ? (model.tgtPositions.weight.dataSync() as Float32Array) : null,
  };
}
type DecoderWeights = ReturnType<typeof decoderWeights>;

/** What one sentence's decoding keeps: per block, the self-attention's keys and values so far and the memory's. */
interface SentenceState {
  selfK: Vec[][];
  selfV: Vec[][];
  memK: Vec[][];
  memV: Vec[][];
  visible: Float32Array; // the source mask [S]
}

/** The memory's keys and values for every block: memory rows [S] of [d]. */
function memoryKV(w: DecoderWeights, memory: Vec[]): { memK: Vec[][]; memV: Vec[][] } {
  return {
    memK: w.blocks.map((b) => memory.map((m) => apply(b.cross.k, m))),
    memV: w.blocks.map((b) => memory.map((m) => apply(b.cross.v, m))),
  };
}

/** The word at position p (token id) through the decoder, appending its keys and values: -> logits [V]. */
function decodeWord(w: DecoderWeights, st: SentenceState, token: number, p: number, positions: string): Vec {
  const d = w.out.dIn;
  let y = new Float64Array(d);
  for (let j = 0; j < d; j++) y[j] = w.emb[token * d + j];
  if (positions === "learned") for (let j = 0; j < d; j++) y[j] += w.pos![p * d + j];
  if (positions === "sinusoidal") {
    for (let i = 0; i < d / 2; i++) {
      const angle = p / Math.pow(10000, (2 * i) / d);
      y[2 * i] += Math.fround(Math.sin(angle));
      y[2 * i + 1] += Math.fround(Math.cos(angle));
    }
  }
  w.blocks.forEach((b, l) => {
    const h = norm(b.n1, y);
    const [q, k, v] = [apply(b.self.q, h), apply(b.self.k, h), apply(b.self.v, h)];
    if (b.self.rope) {
      rope(q, b.self.heads, b.self.hd, p);
      rope(k, b.self.heads, b.self.hd, p);
    }
    st.selfK[l].push(k);
    st.selfV[l].push(v);
    y = add(y, apply(b.self.out, attend(q, st.selfK[l], st.selfV[l], b.self.heads, b.self.hd, null)));
    const qc = apply(b.cross.q, norm(b.n2, y));
    y = add(y, apply(b.cross.out, attend(qc, st.memK[l], st.memV[l], b.cross.heads, b.cross.hd, st.visible)));
    y = add(y, apply(b.down, relu(apply(b.up, norm(b.n3, y)))));
  });
  return apply(w.out, norm(w.norm, y));
}

export const relu = (x: Vec): Vec => {
  for (let j = 0; j < x.length; j++) if (x[j] < 0) x[j] = 0;
  return x;
};

const argmax = (x: Vec) => x.reduce((best, v, i) => (v > x[best] ? i : best), 0);

/**
 * TransformerTranslator.translate, the fast way: the same words (greedy, at most maxLen, default 2 S + 10 within the
 * model's position and context limits). Also returns each step's logits when `logits` is set (for the tests).
 */
export function fastTranslate(
  model: TransformerTranslator,
  src: tf.Tensor2D,
  srcMask: tf.Tensor2D,
  options: { maxLen?: number; cache?: boolean; logits?: boolean } = {},
): { ids: number[][]; logits: number[][][] } {
  const [B, S] = src.shape;
  const c = model.config;
  let limit = options.maxLen ?? 2 * S + 10;
  if (c.positions === "learned") limit = Math.min(limit, c.maxLen - 1);
  limit = Math.min(limit, c.contextLength - 1);
  const wasTraining = model.training;
  model.eval();
  try {
    const memory = tf.tidy(() => fastTransformerMemory(model, src, srcMask));
    const memRows = memory.dataSync() as Float32Array;
    memory.dispose();
    const masks = srcMask.arraySync();
    const w = decoderWeights(model);
    const d = c.d;
    const ids: number[][] = [];
    const logits: number[][][] = [];
    for (let s = 0; s < B; s++) {
      const mem = Array.from({ length: S }, (_, j) => Float64Array.from(memRows.subarray((s * S + j) * d, (s * S + j + 1) * d)));
      const fresh = (): SentenceState => ({
        selfK: w.blocks.map(() => []),
        selfV: w.blocks.map(() => []),
        ...memoryKV(w, mem),
        visible: Float32Array.from(masks[s]),
      });
      const written = [BOS_ID];
      const out: number[] = [];
      const steps: number[][] = [];
      let st = fresh();
      for (let t = 0; t < limit; t++) {
        let l: Vec;
        if (options.cache) l = decodeWord(w, st, written[t], t, c.positions);
        else {
          st = fresh(); // every word again, the memory projected again
          l = new Float64Array(0);
          for (let p = 0; p <= t; p++) l = decodeWord(w, st, written[p], p, c.positions);
        }
        if (options.logits) steps.push(Array.from(l));
        const next = argmax(l);
        written.push(next);
        if (next === EOS_ID) break;
        out.push(next);
      }
      ids.push(out);
      logits.push(steps);
    }
    return { ids, logits };
  } finally {
    if (wasTraining) model.train();
  }
}
