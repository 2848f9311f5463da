// Batches of sentence pairs: token ids padded to the longest sentence of the batch, with masks.
import * as tf from "@tensorflow/tfjs";
import { Generator } from "../core/random";
import { BOS_ID, type Vocabulary } from "./vocab";

export interface EncodedPair {
  src: number[]; // source ids, ending with <eos>
  tgt: number[]; // target ids, ending with <eos>
}

/** A batch as plain arrays (cheap to keep many); `toTensors` makes the tensors for one step. */
export interface Batch {
  size: number;
  srcLen: number;
  tgtLen: number;
  src: Int32Array; // [B, S] ids, <pad> after the end
  srcMask: Float32Array; // [B, S] 1 for tokens, 0 for padding
  tgtIn: Int32Array; // [B, T] <bos> y1 ... y(T-1): what the decoder reads (teacher forcing)
  tgtOut: Int32Array; // [B, T] y1 ... <eos>: what it must predict
  tgtMask: Float32Array; // [B, T]
  pairs: EncodedPair[];
}

export function encodePair(srcVocab: Vocabulary, tgtVocab: Vocabulary, src: string, tgt: string): EncodedPair {
  return { src: [...srcVocab.encode(src), srcVocab.eos], tgt: [...tgtVocab.encode(tgt), tgtVocab.eos] };
}

/** Pad the pairs into one batch. */
export function makeBatch(pairs: EncodedPair[]): Batch {
  if (pairs.length === 0) throw new Error("makeBatch: no sentence pairs");
  const B = pairs.length;
  const S = Math.max(...pairs.map((p) => p.src.length));
  const T = Math.max(...pairs.map((p) => p.tgt.length));
  const b: Batch = {
    size: B,
    srcLen: S,
    tgtLen: T,
    src: new Int32Array(B * S),
    srcMask: new Float32Array(B * S),
    tgtIn: new Int32Array(B * T),
    tgtOut: new Int32Array(B * T),
    tgtMask: new Float32Array(B * T),
    pairs,
  };
  pairs.forEach((p, i) => {
    p.src.forEach((id, j) => {
      b.src[i * S + j] = id;
      b.srcMask[i * S + j] = 1;
    });
    p.tgt.forEach((id, j) => {
      b.tgtOut[i * T + j] = id;
      b.tgtMask[i * T + j] = 1;
      b.tgtIn[i * T + j] = j === 0 ? BOS_ID : p.tgt[j - 1];
    });
  });
  return b;
}

/**
 * Batches of about `batchSize` pairs of similar source length (little padding), in a shuffled order.
 * Sorting by length within chunks of 50 batches keeps batches varied from one epoch to the next.
 */
export function makeBatches(pairs: EncodedPair[], batchSize: number, gen: Generator): Batch[] {
  const order = pairs.map((_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(gen.nextFloat64() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const chunk = batchSize * 50;
  const batches: Batch[] = [];
  for (let c = 0; c < order.length; c += chunk) {
    const part = order.slice(c, c + chunk).sort((x, y) => pairs[x].src.length - pairs[y].src.length);
    for (let k = 0; k < part.length; k += batchSize) batches.push(makeBatch(part.slice(k, k + batchSize).map((i) => pairs[i])));
  }
  for (let i = batches.length - 1; i > 0; i--) {
    const j = Math.floor(gen.nextFloat64() * (i + 1));
    [batches[i], batches[j]] = [batches[j], batches[i]];
  }
  return batches;
}

export type BatchTensors = {
  src: tf.Tensor2D; // [B, S] int32
  srcMask: tf.Tensor2D; // [B, S]
  tgtIn: tf.Tensor2D; // [B, T] int32
  tgtOut: tf.Tensor2D; // [B, T] int32
  tgtMask: tf.Tensor2D; // [B, T]
};

export function toTensors(b: Batch): BatchTensors {
  return {
    src: tf.tensor2d(b.src, [b.size, b.srcLen], "int32"),
    srcMask: tf.tensor2d(b.srcMask, [b.size, b.srcLen]),
    tgtIn: tf.tensor2d(b.tgtIn, [b.size, b.tgtLen], "int32"),
    tgtOut: tf.tensor2d(b.tgtOut, [b.size, b.tgtLen], "int32"),
    tgtMask: tf.tensor2d(b.tgtMask, [b.size, b.tgtLen]),
  };
}
