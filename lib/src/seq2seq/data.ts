// The translation corpus on disk (data/corpus/*.tsv: English <TAB> French, one pair a line).
import { generatePairs } from "./grammar";
import type { SentencePair } from "./grammar";
import { Vocabulary } from "./vocab";
import { encodePair, type EncodedPair } from "./batch";
import { platform } from "../core/platform";
import { checkPositiveInt, describeValue } from "../core/checks";

export const SPLITS = ["train", "valid", "test"] as const;
export type Split = (typeof SPLITS)[number];

export function writeTsv(file: string, pairs: SentencePair[]): void {
  platform().writeFile(file, pairs.map((p) => `${p.en}\t${p.fr}\n`).join(""));
}

export function readTsv(file: string): SentencePair[] {
  if (!platform().exists(file)) {
    throw new Error(`corpus file not found: ${file}. Regenerate the corpus with \`npm run make-corpus\` in the course folder.`);
  }
  // Lines may end in \n or \r\n (a file saved on Windows); neither ending belongs to the last word.
  return platform()
    .readText(file)
    .split(/\r?\n/)
    .filter((l) => l.length > 0)
    .map((line, i) => {
      const parts = line.split("\t");
      if (parts.length !== 2) throw new Error(`${file}:${i + 1}: expected "english<TAB>french", got ${JSON.stringify(line.slice(0, 80))}`);
      return { en: parts[0], fr: parts[1] };
    });
}

export function saveCorpus(dir: string, corpus: Record<Split, SentencePair[]>): void {
  for (const s of SPLITS) writeTsv(`${dir}/${s}.tsv`, corpus[s]);
}

export function loadCorpus(dir: string): Record<Split, SentencePair[]> {
  if (typeof dir !== "string" || dir === "")
    throw new Error(`loadCorpus: dir must be the corpus folder's path (a string), got ${describeValue(dir)}`);
  for (const s of SPLITS)
    if (!platform().exists(`${dir}/${s}.tsv`))
      throw new Error(`loadCorpus: corpus file not found: ${dir}/${s}.tsv. Regenerate the corpus with \`npm run make-corpus\` in the course folder.`);
  return Object.fromEntries(SPLITS.map((s) => [s, readTsv(`${dir}/${s}.tsv`)])) as Record<Split, SentencePair[]>;
}

/** Source and target vocabularies from the training split. */
export function buildVocabularies(train: SentencePair[]): { src: Vocabulary; tgt: Vocabulary } {
  checkPairs(train, "buildVocabularies", "train");
  if (train.length === 0) throw new Error("buildVocabularies: no sentence pairs; expected the training pairs (corpus.train) to take the words from");
  return { src: Vocabulary.fromSentences(train.map((p) => p.en)), tgt: Vocabulary.fromSentences(train.map((p) => p.fr)) };
}

export function encodeAll(pairs: SentencePair[], vocabs: { src: Vocabulary; tgt: Vocabulary }): EncodedPair[] {
  checkPairs(pairs, "encodeAll", "pairs");
  if (!vocabs || !(vocabs.src instanceof Vocabulary) || !(vocabs.tgt instanceof Vocabulary))
    throw new Error("encodeAll: vocabs must be { src, tgt } vocabularies (from buildVocabularies, or a checkpoint's .vocabs)");
  return pairs.map((p) => encodePair(vocabs.src, vocabs.tgt, p.en, p.fr));
}

/** Sentence pairs as the corpus holds them: an array of { en, fr } strings. */
function checkPairs(pairs: unknown, fn: string, name: string): asserts pairs is SentencePair[] {
  if (!Array.isArray(pairs))
    throw new Error(`${fn}: ${name} must be an array of { en, fr } sentence pairs (e.g. corpus.train), got ${describeValue(pairs)}`);
  const i = pairs.findIndex((p) => typeof p !== "object" || p === null || typeof p.en !== "string" || typeof p.fr !== "string");
  if (i >= 0)
    throw new Error(`${fn}: pair ${i} of ${name} must be { en, fr } with two strings, got ${JSON.stringify(pairs[i]) ?? describeValue(pairs[i])}`);
}

/**
 * Sentences longer than any in `train` (more clauses than the corpus allows), for testing whether a translator
 * copes with lengths it never saw: `count` of them, from the course's grammar with its own seed.
 */
export function longSentences(train: SentencePair[], count = 200, seed = 2026): SentencePair[] {
  checkPairs(train, "longSentences", "train");
  if (train.length === 0) throw new Error("longSentences: no training pairs; expected corpus.train, whose longest sentence the new ones must exceed");
  checkPositiveInt(count, "longSentences", "count");
  const longest = Math.max(...train.map((p) => p.en.split(" ").length));
  const seen = new Set(train.map((p) => p.en));
  const out: SentencePair[] = [];
  for (let round = 0; out.length < count && round < 20; round++) {
    for (const p of generatePairs(1000, seed + round, seen, 9)) {
      if (p.en.split(" ").length > longest && out.length < count) out.push(p);
      seen.add(p.en);
    }
  }
  return out;
}

/** One length bucket of the length experiment: its range, its sentence count, and `<model>_bleu`, `<model>_accuracy` per model. */
export type LengthResultBucket = { min_len: number; max_len: number; n: number } & Record<string, number>;

/** What `npm run length-experiment` wrote: BLEU by length on the test split, and on sentences longer than any in training. */
export interface LengthExperimentResults {
  split: string;
  buckets: LengthResultBucket[];
  long: { sentences: number; longest_training_sentence: number; buckets: LengthResultBucket[] };
}

/** Read the length experiment's results (notebook 08: `loadLengthExperiment("../data/results/length-experiment.json")`). */
export function loadLengthExperiment(file: string): LengthExperimentResults {
  const fn = "loadLengthExperiment";
  if (typeof file !== "string" || file === "")
    throw new Error(`${fn}: expected a path such as "../data/results/length-experiment.json", got ${String(file)}`);
  if (!platform().exists(file)) throw new Error(`${fn}: ${file} not found; \`npm run length-experiment\` writes it (see data/README.md)`);
  let r: LengthExperimentResults;
  try {
    r = JSON.parse(platform().readText(file)) as LengthExperimentResults;
  } catch (e) {
    throw new Error(`${fn}: ${file} is not valid JSON (${(e as Error).message})`);
  }
  const ok = (b: unknown) =>
    Array.isArray(b) && b.every((x) => typeof x?.min_len === "number" && typeof x?.max_len === "number" && typeof x?.n === "number");
  if (r === null || typeof r !== "object" || !ok(r.buckets) || !ok(r.long?.buckets)) {
    throw new Error(
      `${fn}: ${file} does not hold the length experiment's results (expected buckets and long.buckets, each a list of {min_len, max_len, n, ...})`,
    );
  }
  return r;
}
