// What the GPT learns from (notebook 09): the English side of the course's corpus, next word after next word.
import * as tf from "@tensorflow/tfjs";
import type { SentencePair } from "../seq2seq/grammar";
import type { Vocabulary } from "../seq2seq/vocab";
import { makeBatch, toTensors, type EncodedPair } from "../seq2seq/batch";
import type { GPT } from "./model";

/**
 * Each English sentence as a training pair for the Trainer: the target is the sentence and <eos> (read after <bos>,
 * predicted word by word); the source, which a GPT never reads, is the same ids (the Trainer sorts batches by it).
 */
export function languageModelPairs(pairs: SentencePair[], vocab: Vocabulary): EncodedPair[] {
  if (!Array.isArray(pairs) || pairs.length === 0) throw new Error("languageModelPairs: no sentences; expected corpus.train (or valid, test)");
  return pairs.map((p) => {
    const ids = [...vocab.encode(p.en), vocab.eos];
    return { src: ids, tgt: ids };
  });
}

/** The mean next-word loss (nats per token, <eos> included) over `pairs`, in evaluation mode, batches of `batchSize`. */
export function languageModelLoss(model: GPT, pairs: EncodedPair[], batchSize = 100): number {
  if (!Array.isArray(pairs) || pairs.length === 0) throw new Error("languageModelLoss: no pairs; expected languageModelPairs(corpus.valid, vocab)");
  const wasTraining = model.training;
  model.eval();
  let total = 0;
  let tokens = 0;
  try {
    for (let i = 0; i < pairs.length; i += batchSize) {
      const batch = toTensors(makeBatch(pairs.slice(i, i + batchSize)));
      const n = batch.tgtMask.sum().dataSync()[0];
      const loss = model.loss(batch);
      total += loss.dataSync()[0] * n;
      tokens += n;
      tf.dispose([loss, batch]);
    }
  } finally {
    if (wasTraining) model.train();
  }
  return total / tokens;
}
