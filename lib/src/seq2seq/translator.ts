// What every translator of the course offers the training loop, the scoring and the checkpoints: the RNN
// encoder-decoders of notebooks 01-02 (./model.ts) and the Transformer of notebook 08 (../transformer/).
import type * as tf from "@tensorflow/tfjs";
import type { Module } from "../core/module";
import type { BatchTensors } from "./batch";

export interface TranslatorConfig {
  /** "plain" and "bahdanau" (Seq2Seq), "transformer" (TransformerTranslator). */
  kind: string;
  srcVocab: number;
  tgtVocab: number;
  seed?: number;
}

export interface Translator extends Module {
  readonly config: TranslatorConfig;
  /**
   * Where a training batch comes in: every check loss() makes before it computes (ids within the vocabularies, 0/1
   * masks that leave a token per sentence, lengths the model takes). trainStep makes them before a speed wing's loss.
   */
  checkBatch(batch: BatchTensors): void;
  /** Masked cross-entropy of the reference under teacher forcing, averaged over its tokens. */
  loss(batch: BatchTensors): tf.Scalar;
  /**
   * Greedy decoding: src [B, S] int32, srcMask [B, S] -> token ids per sentence (up to <eos>), and attention if any:
   * [sentence][output word, the <eos> step included][source token] (Bahdanau's weights, always; the Transformer's
   * with `attention: true`: its last decoder block's cross-attention averaged over its heads, every block and head in
   * crossAttention).
   */
  translate(
    src: tf.Tensor2D,
    srcMask: tf.Tensor2D,
    options?: { maxLen?: number; cache?: boolean; attention?: boolean },
  ): { ids: number[][]; attention: number[][][] | null; crossAttention?: number[][][][][] | null };
  /** Parameters by stable names, for checkpoints. */
  namedParameters(): Record<string, tf.Variable>;
  /** Training mode (dropout on) or evaluation mode. */
  training?: boolean;
}
