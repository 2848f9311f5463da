// Training loops and the length experiment of notebooks 01-02.
import * as tf from "@tensorflow/tfjs";
import { Generator } from "../random";
import { makeBatch, makeBatches, toTensors, type Batch, type EncodedPair } from "./batch";
import { corpusBleu, tokenAccuracy } from "./metrics";
import type { Seq2Seq } from "./model";
import { trainStep } from "./train";
import type { Vocabulary } from "./vocab";
import type { SentencePair } from "./grammar";

export interface TrainOptions {
  /** Stop after this many steps. */
  steps: number;
  /** ... or after this many seconds, whichever comes first. */
  maxSeconds?: number;
  batchSize?: number;
  learningRate?: number;
  clipNorm?: number;
  seed?: number;
  /** Called every `reportEvery` steps with the mean loss since the last report. */
  onReport?: (step: number, loss: number) => void;
  reportEvery?: number;
}

/**
 * Trains a translator with Adam on shuffled, length-bucketed batches. `stop()` ends it after the current
 * step: interrupting a notebook cell that awaits `run()` does not stop the loop itself, so call
 * `trainer.stop()` from another cell.
 */
export class Trainer {
  private stopped = false;
  private readonly optimizer: tf.AdamOptimizer;
  step = 0;
  readonly losses: { step: number; loss: number }[] = [];

  constructor(readonly model: Seq2Seq, readonly pairs: EncodedPair[], private readonly options: TrainOptions) {
    if (pairs.length === 0) throw new Error("Trainer: no training pairs");
    this.optimizer = tf.train.adam(options.learningRate ?? 2e-3);
  }

  stop(): void {
    this.stopped = true;
  }

  /** Run until `steps`, `maxSeconds` or stop(). Yields to the event loop between steps. */
  async run(): Promise<{ steps: number; seconds: number; stoppedEarly: boolean }> {
    const o = this.options;
    const gen = new Generator(o.seed ?? 1);
    const every = o.reportEvery ?? 10;
    const start = Date.now();
    let batches: Batch[] = [];
    let acc: tf.Scalar[] = [];
    this.stopped = false;
    const report = () => {
      if (acc.length === 0) return;
      const mean = tf.tidy(() => tf.mean(tf.stack(acc)).dataSync()[0]);
      tf.dispose(acc);
      acc = [];
      this.losses.push({ step: this.step, loss: mean });
      o.onReport?.(this.step, mean);
    };
    while (this.step < o.steps && !this.stopped && (o.maxSeconds === undefined || (Date.now() - start) / 1000 < o.maxSeconds)) {
      if (batches.length === 0) batches = makeBatches(this.pairs, o.batchSize ?? 64, gen);
      const t = toTensors(batches.pop()!);
      acc.push(trainStep(this.model, this.optimizer, t, o.clipNorm ?? 1));
      tf.dispose(t);
      this.step++;
      if (this.step % every === 0) {
        report();
        await new Promise((r) => setImmediate(r)); // let live plots and stop() through
      }
    }
    report();
    return { steps: this.step, seconds: (Date.now() - start) / 1000, stoppedEarly: this.step < o.steps };
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}

export interface Translation {
  source: string;
  reference: string;
  output: string;
  /** [output word][source word] attention weights (Bahdanau), over the source words plus <eos>. */
  attention: number[][] | null;
}

/** Greedy translations of sentence pairs, in batches. */
export function translatePairs(model: Seq2Seq, vocabs: { src: Vocabulary; tgt: Vocabulary }, pairs: SentencePair[], batchSize = 100): Translation[] {
  const out: Translation[] = [];
  for (let i = 0; i < pairs.length; i += batchSize) {
    const chunk = pairs.slice(i, i + batchSize);
    const b = makeBatch(chunk.map((p) => ({ src: [...vocabs.src.encode(p.en), vocabs.src.eos], tgt: [vocabs.tgt.eos] })));
    const src = tf.tensor2d(b.src, [b.size, b.srcLen], "int32");
    const mask = tf.tensor2d(b.srcMask, [b.size, b.srcLen]);
    const { ids, attention } = model.translate(src, mask);
    tf.dispose([src, mask]);
    chunk.forEach((p, k) => {
      const srcLen = b.pairs[k].src.length;
      out.push({
        source: p.en,
        reference: p.fr,
        output: vocabs.tgt.decode(ids[k]).join(" "),
        attention: attention ? attention[k].map((row) => row.slice(0, srcLen)) : null,
      });
    });
  }
  return out;
}

/**
 * Attention weights [target word][source word] while the decoder reads the reference translation
 * (teacher forcing): the rows are the reference's words plus <eos>, the columns the source's plus <eos>.
 */
export function teacherForcedAttention(model: Seq2Seq, vocabs: { src: Vocabulary; tgt: Vocabulary }, pair: SentencePair): number[][] {
  if (!model.Wq) throw new Error("teacherForcedAttention: this model has no attention (kind 'plain')");
  const b = makeBatch([{ src: [...vocabs.src.encode(pair.en), vocabs.src.eos], tgt: [...vocabs.tgt.encode(pair.fr), vocabs.tgt.eos] }]);
  const t = toTensors(b);
  const out = model.forward(t);
  const w = (out.attention!.arraySync() as number[][][])[0];
  tf.dispose([t, out.logits, out.attention!]);
  return w;
}

/** Translate one English sentence (unknown words become <unk>). */
export function translateSentence(model: Seq2Seq, vocabs: { src: Vocabulary; tgt: Vocabulary }, sentence: string): Translation {
  return translatePairs(model, vocabs, [{ en: sentence, fr: "" }], 1)[0];
}

export interface LengthBucket {
  min_len: number;
  max_len: number;
  n: number;
  bleu: number;
  accuracy: number;
}

/** BLEU and token accuracy per source-length bucket [min, max]: inclusive, in source tokens (words and the full stop). */
export function scoreByLength(translations: Translation[], buckets: [number, number][]): LengthBucket[] {
  return buckets.map(([lo, hi]) => {
    const inB = translations.filter((t) => {
      const n = t.source.split(" ").length;
      return n >= lo && n <= hi;
    });
    const cands = inB.map((t) => t.output.split(" ").filter(Boolean));
    const refs = inB.map((t) => t.reference.split(" "));
    return { min_len: lo, max_len: hi, n: inB.length, bleu: corpusBleu(cands, refs).bleu, accuracy: tokenAccuracy(cands, refs) };
  });
}

/** The buckets of the length experiment; the last one is "30 and longer". */
export const LENGTH_BUCKETS: [number, number][] = [
  [1, 9],
  [10, 19],
  [20, 29],
  [30, 1000],
];
