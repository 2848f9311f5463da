#!/usr/bin/env node
// Regenerate data/corpus/{train,valid,test}.tsv from the seeded grammar (bit for bit the committed files),
// and print the length histogram that data/README.md shows.
//   npm run make-corpus            write the files
//   npm run make-corpus -- --check  only compare with the committed files (exit 1 if they differ)
import { createRequire } from "node:module";
import { readFileSync, existsSync } from "node:fs";
import { join, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const lib = { ...require("attention-lib"), ...require("attention-lib/internal") };
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const DIR = join(ROOT, "data", "corpus");

const corpus = lib.generateCorpus();
const check = process.argv.includes("--check");
let same = true;
for (const split of lib.SPLITS) {
  const text = corpus[split].map((p) => `${p.en}\t${p.fr}\n`).join("");
  const file = join(DIR, `${split}.tsv`);
  if (check) {
    const ok = existsSync(file) && readFileSync(file, "utf8") === text;
    console.log(`${split}: ${ok ? "identical" : "DIFFERS"}`);
    same &&= ok;
  }
}
if (check) process.exit(same ? 0 : 1);
lib.saveCorpus(DIR, corpus);

const lens = corpus.train.map((p) => p.en.split(" ").length);
const bins = new Map();
for (const n of lens) {
  const b = Math.floor(n / 5) * 5;
  bins.set(b, (bins.get(b) ?? 0) + 1);
}
console.log(`train ${corpus.train.length}, valid ${corpus.valid.length}, test ${corpus.test.length} pairs in ${DIR}`);
const vocabs = lib.buildVocabularies(corpus.train);
console.log(`vocabulary: English ${vocabs.src.size}, French ${vocabs.tgt.size} (with 4 special tokens)`);
console.log("English length (tokens) | train pairs");
for (const b of [...bins.keys()].sort((x, y) => x - y)) {
  const n = bins.get(b);
  console.log(`${String(b).padStart(2)}-${String(b + 4).padEnd(2)} | ${String(n).padStart(5)} ${"#".repeat(Math.round(n / 100))}`);
}
