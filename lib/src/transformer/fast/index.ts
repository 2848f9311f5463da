// The Transformer's speed wing: what TransformerTranslator.forward and .loss (../model.ts) compute, with ~10x fewer
// kernel calls, so that it trains in a notebook's seconds. Nothing here changes what is computed; the tests hold it to
// the readable model (logits, loss and gradients within 1e-5). The readable modules do not know it exists: it reads
// their weights, and registers its loss for the Trainer in FAST_LOSSES (../../fast/training.ts).
//   - every activation is a 2-D matrix [B T, d]: no reshapes, head splits or merges between the ops
//   - one product for queries, keys and values (their weights concatenated; the memory's keys and values in one too)
//   - all heads of an attention in one kernel (./kernels.ts), causal mask and key mask applied there, no mask tensors
//   - layer norm and the masked cross-entropy as one kernel each, with their gradients by hand
//   - the sinusoidal position table made once per length and kept
//   kernels.ts   the fused kernels and their gradients
//   generate.ts  greedy decoding with and without the KV cache, no kernel calls per word
import * as tf from "@tensorflow/tfjs";
import type { BatchTensors } from "../../seq2seq/batch";
import type { Translator } from "../../seq2seq/translator";
import { FAST_LOSSES, fastPathAvailable } from "../../fast/training";
import { withFastKernels } from "../../fast/wasmkernels";
import { sinusoidalPositions } from "../../attention/positions";
import type { Linear } from "../../core/linear";
import type { MultiHeadAttention } from "../../attention/multihead";
import type { DecoderBlock, EncoderBlock, FeedForward, LayerNorm } from "../blocks";
import type { TransformerTranslator } from "../model";
import { crossAttention, crossEntropy, layerNorm, registerTransformerKernels, ropeQK, selfAttention } from "./kernels";

export { layerNorm, selfAttention, crossAttention, ropeQK, crossEntropy, registerTransformerKernels } from "./kernels";
export { fastTranslate } from "./generate";

/** x [N, d_in] -> [N, d_out], as Linear.forward. */
export function linear(l: Linear, x: tf.Tensor): tf.Tensor2D {
  const y = tf.matMul(x, l.weight, false, true);
  return (l.bias ? tf.add(y, l.bias) : y) as tf.Tensor2D;
}

/** Several Linears over the same input as one product: their weights and biases side by side. */
function linears(ls: Linear[], x: tf.Tensor): tf.Tensor2D {
  const W = tf.concat(
    ls.map((l) => l.weight),
    0,
  );
  const y = tf.matMul(x, W, false, true);
  if (!ls[0].bias) return y as tf.Tensor2D;
  return tf.add(
    y,
    tf.concat(
      ls.map((l) => l.bias!),
      0,
    ),
  ) as tf.Tensor2D;
}

export const norm = (n: LayerNorm, x: tf.Tensor) => layerNorm(x, n.scale, n.shift, n.eps);
export const feedForward = (f: FeedForward, x: tf.Tensor) => linear(f.down, tf.relu(linear(f.up, x)));

/**
 * The sinusoidal table of positions 0 .. T-1, [T, d]: the top rows of ONE table per backend instance and width, kept
 * and grown (doubled, the old one freed) when a longer sentence comes. One kept tensor per width, however many
 * sentence lengths a training run meets (a table per length grew with every new length: a re-run notebook kept more).
 */
const SINUSOIDS = new WeakMap<object, Map<number, tf.Tensor2D>>();
function sinusoids(T: number, d: number): tf.Tensor2D {
  const backend = tf.backend();
  if (!SINUSOIDS.has(backend)) SINUSOIDS.set(backend, new Map());
  const tables = SINUSOIDS.get(backend)!;
  let t = tables.get(d);
  if (!t || t.isDisposed || t.shape[0] < T) {
    const rows = Math.max(T, 2 * (t && !t.isDisposed ? t.shape[0] : 32));
    if (t && !t.isDisposed) t.dispose();
    tables.set(d, (t = tf.keep(sinusoidalPositions(rows, d))));
  }
  return T === t.shape[0] ? t : (t.slice([0, 0], [T, d]) as tf.Tensor2D);
}

/** Whether the wing computes what this MultiHeadAttention does: everything but MLA's latent and GQA with rope. */
export function attentionCovered(m: MultiHeadAttention): boolean {
  return m.kvLatent === null && !(m.rope && m.numKvHeads !== m.numHeads);
}

/** Self-attention of one MultiHeadAttention over x [B T, d] (the block's normed input) -> [B T, d]. */
export function selfAttend(m: MultiHeadAttention, x: tf.Tensor, B: number, T: number, keyMask: tf.Tensor | null): tf.Tensor2D {
  let qkv = linears([m.W_query, m.W_key, m.W_value], x); // [B T, d + 2 kvHeads head_dim]
  if (m.rope) qkv = ropeQK(qkv, B, T, m.numHeads, m.headDim);
  const shape = { B, Tq: T, heads: m.numHeads, kvHeads: m.numKvHeads, hd: m.headDim, causal: m.causal, window: m.window };
  return linear(m.out_proj, selfAttention(qkv, keyMask, shape));
}

/** Cross-attention: queries from x [B T, d], keys and values from memory [B S, d] -> [B T, d]. */
function crossAttend(m: MultiHeadAttention, x: tf.Tensor, memory: tf.Tensor, B: number, T: number, S: number, keyMask: tf.Tensor): tf.Tensor2D {
  const q = linear(m.W_query, x);
  const kv = linears([m.W_key, m.W_value], memory); // [B S, 2 d]
  const context = crossAttention(q, kv, keyMask, { B, Tq: T, Tk: S, heads: m.numHeads, hd: m.headDim, causal: false });
  return linear(m.out_proj, context);
}

function encoderBlock(blk: EncoderBlock, x: tf.Tensor, B: number, S: number, srcMask: tf.Tensor): tf.Tensor {
  const a = tf.add(x, selfAttend(blk.selfAttention, norm(blk.norm1, x), B, S, srcMask));
  return tf.add(a, feedForward(blk.feedForward, norm(blk.norm2, a)));
}

function decoderBlock(blk: DecoderBlock, y: tf.Tensor, memory: tf.Tensor, B: number, T: number, S: number, srcMask: tf.Tensor): tf.Tensor {
  const a = tf.add(y, selfAttend(blk.selfAttention, norm(blk.norm1, y), B, T, null));
  const c = tf.add(a, crossAttend(blk.crossAttention, norm(blk.norm2, a), memory, B, T, S, srcMask));
  return tf.add(c, feedForward(blk.feedForward, norm(blk.norm3, c)));
}

/** Token embeddings plus positions: ids [B, T] -> [B T, d] (TransformerTranslator's embed, rows looked up). */
function embed(model: TransformerTranslator, ids: tf.Tensor, table: tf.Tensor, learned: tf.Tensor | null): tf.Tensor {
  const [B, T] = ids.shape;
  const d = model.config.d;
  const x = tf.gather(table, ids.reshape([-1]) as tf.Tensor1D); // [B T, d]
  const positions = model.config.positions;
  if (positions === "rope") return x;
  const pos = positions === "learned" ? learned!.slice([0, 0], [T, d]) : sinusoids(T, d);
  return tf.add(x.reshape([B, T, d]), pos).reshape([B * T, d]);
}

/** Whether the wing computes what the readable model does for these settings: it draws no dropout masks. */
export function transformerWingCovers(model: TransformerTranslator): boolean {
  return !(model.training && model.config.dropout > 0) && fastPathAvailable();
}

/** The encoder's output (TransformerTranslator.encode) the fast way: src [B, S], srcMask [B, S] -> memory [B S, d]. */
export function fastTransformerMemory(model: TransformerTranslator, src: tf.Tensor, srcMask: tf.Tensor): tf.Tensor2D {
  checkCovered(model, "fastTransformerMemory");
  return withFastKernels(() =>
    tf.tidy(() => {
      const [B, S] = src.shape;
      let x = embed(model, src, model.srcEmb.weight, model.srcPositions?.weight ?? null);
      for (const blk of model.encoder) x = encoderBlock(blk, x, B, S!, srcMask);
      return norm(model.encoderNorm, x);
    }),
  );
}

function checkCovered(model: TransformerTranslator, fn: string): void {
  if (!fastPathAvailable())
    throw new Error(`${fn}: the fast path runs on the wasm and cpu backends, not '${tf.getBackend()}'; use the readable model`);
  if (!transformerWingCovers(model))
    throw new Error(`${fn}: the wing draws no dropout masks; use the readable model in training mode with dropout > 0`);
  registerTransformerKernels();
}

/**
 * TransformerTranslator.forward (teacher forcing), the fast way: logits [B T, V] (rows in the order of [B, T]).
 * The batch is taken as given (the Trainer's batches are checked where they are made).
 */
export function fastTransformerLogits(model: TransformerTranslator, batch: Pick<BatchTensors, "src" | "srcMask" | "tgtIn">): tf.Tensor2D {
  checkCovered(model, "fastTransformerLogits");
  return withFastKernels(() =>
    tf.tidy(() => {
      const { src, srcMask, tgtIn } = batch;
      const [B, S] = src.shape;
      const T = tgtIn.shape[1]!;
      const memory = fastTransformerMemory(model, src, srcMask);
      let y = embed(model, tgtIn, model.tgtEmb.weight, model.tgtPositions?.weight ?? null);
      for (const blk of model.decoder) y = decoderBlock(blk, y, memory, B, T, S, srcMask);
      return linear(model.out, norm(model.decoderNorm, y));
    }),
  );
}

/** TransformerTranslator.loss, the fast way (the masked cross-entropy as one kernel). */
export function fastTransformerLoss(model: TransformerTranslator, batch: BatchTensors): tf.Scalar {
  return withFastKernels(() => tf.tidy(() => crossEntropy(fastTransformerLogits(model, batch), batch.tgtOut, batch.tgtMask)));
}

FAST_LOSSES.transformer = (model: Translator, batch: BatchTensors) => {
  const m = model as TransformerTranslator;
  return transformerWingCovers(m) ? fastTransformerLoss(m, batch) : null;
};
