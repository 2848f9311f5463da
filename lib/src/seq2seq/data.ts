// The translation corpus on disk (data/corpus/*.tsv: English <TAB> French, one pair a line).
import { generatePairs } from "./grammar";
import { existsSync, readFileSync, writeFileSync, mkdirSync } from "fs";
import { join } from "path";
import type { SentencePair } from "./grammar";
import { Vocabulary } from "./vocab";
import { encodePair, type EncodedPair } from "./batch";

export const SPLITS = ["train", "valid", "test"] as const;
export type Split = (typeof SPLITS)[number];

export function writeTsv(file: string, pairs: SentencePair[]): void {
  writeFileSync(file, pairs.map((p) => `${p.en}\t${p.fr}\n`).join(""));
}

export function readTsv(file: string): SentencePair[] {
  if (!existsSync(file)) {
    throw new Error(`corpus file not found: ${file}. Regenerate the corpus with \`npm run make-corpus\` in the course folder.`);
  }
  // Lines may end in \n or \r\n (a file saved on Windows); neither ending belongs to the last word.
  return readFileSync(file, "utf8")
    .split(/\r?\n/)
    .filter((l) => l.length > 0)
    .map((line, i) => {
      const parts = line.split("\t");
      if (parts.length !== 2) throw new Error(`${file}:${i + 1}: expected "english<TAB>french", got ${JSON.stringify(line.slice(0, 80))}`);
      return { en: parts[0], fr: parts[1] };
    });
}

export function saveCorpus(dir: string, corpus: Record<Split, SentencePair[]>): void {
  mkdirSync(dir, { recursive: true });
  for (const s of SPLITS) writeTsv(join(dir, `${s}.tsv`), corpus[s]);
}

export function loadCorpus(dir: string): Record<Split, SentencePair[]> {
  return Object.fromEntries(SPLITS.map((s) => [s, readTsv(join(dir, `${s}.tsv`))])) as Record<Split, SentencePair[]>;
}

/** Source and target vocabularies from the training split. */
export function buildVocabularies(train: SentencePair[]): { src: Vocabulary; tgt: Vocabulary } {
  return { src: Vocabulary.fromSentences(train.map((p) => p.en)), tgt: Vocabulary.fromSentences(train.map((p) => p.fr)) };
}

export function encodeAll(pairs: SentencePair[], vocabs: { src: Vocabulary; tgt: Vocabulary }): EncodedPair[] {
  return pairs.map((p) => encodePair(vocabs.src, vocabs.tgt, p.en, p.fr));
}

/**
 * Sentences longer than any in `train` (more clauses than the corpus allows), for testing whether a translator
 * copes with lengths it never saw: `count` of them, from the course's grammar with its own seed.
 */
export function longSentences(train: SentencePair[], count = 200, seed = 2026): SentencePair[] {
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
