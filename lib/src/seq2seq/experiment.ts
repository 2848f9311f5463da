// Using a trained translator: greedy translations, attention under teacher forcing, and the length
// experiment's scoring of notebooks 01-02.
import * as tf from "@tensorflow/tfjs";
import { makeBatch, toTensors } from "./batch";
import { corpusBleu, tokenAccuracy } from "./metrics";
import type { Seq2Seq } from "./model";
import type { Translator } from "./translator";
import { checkAlive } from "../core/module";
import { describeValue } from "../core/checks";
import { Vocabulary } from "./vocab";
import type { SentencePair } from "./grammar";
import { withFastKernels } from "../fast/wasmkernels";

export interface Translation {
  source: string;
  reference: string;
  output: string;
  /** [output word][source word] attention weights (Bahdanau), over the source words plus <eos>. */
  attention: number[][] | null;
}

/** The vocabularies must be the ones the model was built with (at least in size). */
function checkVocabularies(model: Translator, vocabs: { src: Vocabulary; tgt: Vocabulary }, fn: string): void {
  if (!vocabs || !(vocabs.src instanceof Vocabulary) || !(vocabs.tgt instanceof Vocabulary)) {
    throw new Error(`${fn}: vocabs must be { src, tgt } vocabularies (from buildVocabularies, or a checkpoint's .vocabs)`);
  }
  if (vocabs.src.size !== model.config.srcVocab || vocabs.tgt.size !== model.config.tgtVocab) {
    throw new Error(
      `${fn}: the vocabularies have ${vocabs.src.size} and ${vocabs.tgt.size} words, but the model was built for ${model.config.srcVocab} and ${model.config.tgtVocab}; use the vocabularies that came with the model`,
    );
  }
}

/** Greedy translations of sentence pairs, in batches; `options.cache` decodes with a KV cache where the model has one (notebook 09). */
export function translatePairs(
  model: Translator,
  vocabs: { src: Vocabulary; tgt: Vocabulary },
  pairs: SentencePair[],
  batchSize = 100,
  options: { cache?: boolean } = {},
): Translation[] {
  checkAlive(model, "translatePairs");
  if (!Array.isArray(pairs)) throw new Error("translatePairs: pairs must be an array of { en, fr }, e.g. corpus.test");
  checkVocabularies(model, vocabs, "translatePairs");
  const out: Translation[] = [];
  for (let i = 0; i < pairs.length; i += batchSize) {
    const chunk = pairs.slice(i, i + batchSize);
    const b = makeBatch(chunk.map((p) => ({ src: [...vocabs.src.encode(p.en), vocabs.src.eos], tgt: [vocabs.tgt.eos] })));
    const src = tf.tensor2d(b.src, [b.size, b.srcLen], "int32");
    const mask = tf.tensor2d(b.srcMask, [b.size, b.srcLen]);
    let result: ReturnType<Translator["translate"]>;
    try {
      // With the fast wing's kernels in place: the same numbers, 2-3x faster on wasm.
      result = withFastKernels(() => model.translate(src, mask, options));
    } finally {
      tf.dispose([src, mask]);
    }
    const { ids, attention } = result;
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
  checkAlive(model, "teacherForcedAttention");
  checkVocabularies(model, vocabs, "teacherForcedAttention");
  if (!model.W_query) throw new Error("teacherForcedAttention: this model has no attention (kind 'plain')");
  const b = makeBatch([{ src: [...vocabs.src.encode(pair.en), vocabs.src.eos], tgt: [...vocabs.tgt.encode(pair.fr), vocabs.tgt.eos] }]);
  const t = toTensors(b);
  const out = model.forward(t);
  const w = (out.attention!.arraySync() as number[][][])[0];
  tf.dispose([t, out.logits, out.attention!]);
  return w;
}

/** Translate one English sentence (unknown words become <unk>). */
export function translateSentence(model: Translator, vocabs: { src: Vocabulary; tgt: Vocabulary }, sentence: string): Translation {
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
  checkTranslations(translations, "scoreByLength");
  checkBuckets(buckets, "scoreByLength");
  return buckets.map(([lo, hi]) => {
    const inB = translations.filter((t) => {
      const n = t.source.split(" ").length;
      return n >= lo && n <= hi;
    });
    const cands = inB.map((t) => t.output.split(" ").filter(Boolean));
    const refs = inB.map((t) => t.reference.split(" "));
    // An empty bucket scores 0 (its n says why).
    const bleu = inB.length === 0 ? 0 : corpusBleu(cands, refs).bleu;
    return { min_len: lo, max_len: hi, n: inB.length, bleu, accuracy: tokenAccuracy(cands, refs) };
  });
}

/** Translations as translatePairs() returns them: an array of { source, reference, output } strings. */
function checkTranslations(translations: unknown, fn: string): asserts translations is Translation[] {
  if (!Array.isArray(translations))
    throw new Error(
      `${fn}: translations must be an array of { source, reference, output } (from translatePairs), got ${describeValue(translations)}`,
    );
  const i = translations.findIndex(
    (t) =>
      typeof t !== "object" || t === null || !["source", "reference", "output"].every((k) => typeof (t as Record<string, unknown>)[k] === "string"),
  );
  if (i >= 0)
    throw new Error(
      `${fn}: translation ${i} must be { source, reference, output } with strings (from translatePairs), got ${JSON.stringify(translations[i])}`,
    );
}

/** Length buckets: an array of [min, max] source lengths, whole numbers of tokens with 1 <= min <= max (like LENGTH_BUCKETS). */
function checkBuckets(buckets: unknown, fn: string): asserts buckets is [number, number][] {
  if (!Array.isArray(buckets) || buckets.length === 0)
    throw new Error(
      `${fn}: buckets must be a non-empty array of [min, max] lengths like LENGTH_BUCKETS, got ${Array.isArray(buckets) ? "[]" : describeValue(buckets)}`,
    );
  buckets.forEach((b, i) => {
    const ok = Array.isArray(b) && b.length === 2 && b.every((v) => Number.isInteger(v) && v >= 1);
    if (!ok)
      throw new Error(
        `${fn}: bucket ${i} must be [min, max], two whole numbers of tokens >= 1, got ${Array.isArray(b) ? `[${b.map(describeValue).join(", ")}]` : describeValue(b)}`,
      );
    if (b[0] > b[1]) throw new Error(`${fn}: bucket ${i} [${b[0]}, ${b[1]}] is inverted; expected min <= max (both inclusive)`);
  });
}

/** The buckets of the long sentences (longSentences): all longer than any training sentence (55 tokens). */
export const LONG_BUCKETS: [number, number][] = [
  [56, 64],
  [65, 72],
  [73, 1000],
];

/** The buckets of the length experiment; the last one is "30 and longer". */
export const LENGTH_BUCKETS: [number, number][] = [
  [1, 9],
  [10, 19],
  [20, 29],
  [30, 1000],
];
