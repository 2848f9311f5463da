#!/usr/bin/env node
// The experiment of notebooks 01-02 and 08 (Bahdanau, Cho & Bengio 2014, Fig. 2, then the 2017 Transformer):
// train a plain RNN encoder-decoder, one with additive attention, and a Transformer with each of three position
// schemes, on the same data with the same Trainer, batches and budget; then score them all on the held-out test
// split and on sentences longer than any in training, bucketed by source length.
//
//   npm run length-experiment -- --out results.json                    retrain all five (two at a time), save
//                                                                       checkpoints to data/checkpoints/, score
//   npm run length-experiment -- --from-checkpoints --out results.json  score the committed checkpoints
//   options: --steps N (default 3000)  --backend wasm|cpu  --only KIND[,KIND]  --checkpoints DIR
//   kinds: plain, bahdanau, transformer-learned, transformer-sinusoidal, transformer-rope
import { createRequire } from "node:module";
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const lib = { ...require("attention-lib"), ...require("attention-lib/internal") };
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = process.argv[i + 1];
  if (v === undefined || v.startsWith("--")) throw new Error(`--${name} needs a value`);
  return v;
}
const flag = (name) => process.argv.includes(`--${name}`);

export const MODEL_SIZES = { embedding: 64, hidden: 128, attention: 128 };
/** The Transformer's size: a training step costs about what the RNNs' does here (~0.3 s on this wasm backend). */
export const TRANSFORMER_SIZES = { d: 32, heads: 2, hidden: 64, layers: 1, dropout: 0, maxLen: 128 }; // no dropout, like the RNNs
const SCHEMES = ["learned", "sinusoidal", "rope"];
const KINDS = ["plain", "bahdanau", ...SCHEMES.map((s) => `transformer-${s}`)];
const NAMES = { plain: "rnn", bahdanau: "attention", ...Object.fromEntries(SCHEMES.map((s) => [`transformer-${s}`, `transformer-${s}`])) };
/** The columns of the results, one per model. */
const COLUMNS = { plain: "rnn", bahdanau: "attention", ...Object.fromEntries(SCHEMES.map((s) => [`transformer-${s}`, `transformer_${s}`])) };

async function trainOne(kind, steps, dir, backend) {
  await lib.setup({ backend, verbose: false });
  const corpus = lib.loadCorpus(join(ROOT, "data", "corpus"));
  const vocabs = lib.buildVocabularies(corpus.train);
  const sizes = { srcVocab: vocabs.src.size, tgtVocab: vocabs.tgt.size, seed: 7 };
  const model = kind.startsWith("transformer-")
    ? new lib.TransformerTranslator({ kind: "transformer", positions: kind.slice("transformer-".length), ...TRANSFORMER_SIZES, ...sizes })
    : new lib.Seq2Seq({ kind, ...sizes, ...MODEL_SIZES });
  // Snapshots of the attention on one test sentence while training (notebook 02 shows it sharpening).
  const probe = corpus.test.find((p) => p.en.split(" ").length >= 12 && p.en.split(" ").length <= 16);
  const snapshots = [];
  const snap = (step) => {
    if (kind === "bahdanau")
      snapshots.push({ step, attention: lib.teacherForcedAttention(model, vocabs, probe).map((r) => r.map((v) => Math.round(v * 1e4) / 1e4)) });
  };
  const SNAP_AT = new Set([50, 100, 200, 400, 800, 1600, 3200, 6400]);
  snap(0);
  const trainer = new lib.Trainer(model, lib.encodeAll(corpus.train, vocabs), {
    steps,
    batchSize: 64,
    learningRate: 2e-3,
    clipNorm: 1,
    seed: 11,
    reportEvery: 50,
    onReport: (step, loss) => {
      if (step % 100 === 0) console.log(`[${kind}] step ${step}  loss ${loss.toFixed(4)}  ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      if (SNAP_AT.has(step)) snap(step);
    },
  });
  const t0 = Date.now();
  const run = await trainer.run();
  const base = join(dir, NAMES[kind]);
  lib.saveCheckpoint(base, model, vocabs, {
    kind,
    steps: run.steps,
    seconds: Math.round(run.seconds),
    batchSize: 64,
    learningRate: 2e-3,
    clipNorm: 1,
    losses: trainer.losses,
    command: `npm run length-experiment -- --steps ${steps}`,
    probe:
      kind === "bahdanau"
        ? {
            ...probe,
            snapshots: [
              ...snapshots,
              ...(SNAP_AT.has(run.steps) ? [] : [{ step: run.steps, attention: lib.teacherForcedAttention(model, vocabs, probe) }]),
            ],
          }
        : undefined,
  });
  console.log(`[${kind}] saved ${base}.json/.bin after ${run.steps} steps, ${run.seconds.toFixed(0)} s`);
  trainer.dispose();
  model.dispose();
}

function runChild(kind, steps, dir, backend) {
  return new Promise((res, rej) => {
    const child = spawn(
      process.execPath,
      [fileURLToPath(import.meta.url), "--only", kind, "--steps", String(steps), "--checkpoints", dir, "--backend", backend, "--train-only"],
      { stdio: "inherit" },
    );
    child.on("exit", (code) => (code === 0 ? res() : rej(new Error(`training ${kind} failed (exit ${code})`))));
  });
}

/** BLEU and token accuracy of every model, by source length: the test split, and the long sentences. */
export async function score(dir, backend) {
  await lib.setup({ backend, verbose: false });
  const corpus = lib.loadCorpus(join(ROOT, "data", "corpus"));
  const long = lib.longSentences(corpus.train);
  const results = { test: {}, long: {} };
  for (const kind of KINDS) {
    const t0 = Date.now();
    const { model, vocabs } = lib.loadCheckpoint(join(dir, NAMES[kind]));
    // The Transformers decode with their KV cache: the same words (tested), several times faster.
    results.test[kind] = lib.scoreByLength(lib.translatePairs(model, vocabs, corpus.test, 100, { cache: true }), lib.LENGTH_BUCKETS);
    results.long[kind] = lib.scoreByLength(lib.translatePairs(model, vocabs, long, 100, { cache: true }), lib.LONG_BUCKETS);
    model.dispose();
    console.log(`[score] ${kind}: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  }
  const table = (byKind) =>
    byKind.plain.map((b, i) => {
      const row = { min_len: b.min_len, max_len: b.max_len, n: b.n };
      for (const kind of KINDS) row[`${COLUMNS[kind]}_bleu`] = byKind[kind][i].bleu;
      for (const kind of KINDS) row[`${COLUMNS[kind]}_accuracy`] = byKind[kind][i].accuracy;
      return row;
    });
  return {
    split: "test",
    buckets: table(results.test),
    long: { sentences: long.length, longest_training_sentence: 55, buckets: table(results.long) },
  };
}

function printTable(res) {
  for (const [name, buckets] of [
    ["test split", res.buckets],
    ["longer than any training sentence", res.long.buckets],
  ]) {
    console.log(`\n${name}\nsource length | sentences | ${KINDS.map((k) => COLUMNS[k].padStart(22)).join(" | ")}`);
    for (const b of buckets) {
      const range = b.max_len >= 1000 ? `${b.min_len}+` : `${b.min_len}-${b.max_len}`;
      console.log(
        `${range.padStart(13)} | ${String(b.n).padStart(9)} | ${KINDS.map((k) => b[`${COLUMNS[k]}_bleu`].toFixed(3).padStart(22)).join(" | ")}`,
      );
    }
  }
  const first = res.buckets[0];
  const last = res.buckets[res.buckets.length - 1];
  const checks = [
    [`attention keeps >= 0.8 of its short-sentence BLEU on ${last.min_len}+`, last.attention_bleu >= 0.8 * first.attention_bleu],
    [`the plain RNN keeps <= 0.6 of its short-sentence BLEU on ${last.min_len}+`, last.rnn_bleu <= 0.6 * first.rnn_bleu],
    [`attention >= plain + 0.2 on ${last.min_len}+`, last.attention_bleu >= last.rnn_bleu + 0.2],
  ];
  for (const [what, ok] of checks) console.log(`${ok ? "yes" : "NO "}  ${what}`);
  return checks.every(([, ok]) => ok);
}

async function main() {
  const backend = option("backend", "wasm");
  const dir = resolve(option("checkpoints", join(ROOT, "data", "checkpoints")));
  const steps = Number(option("steps", "3000"));
  const only = option("only", null)?.split(",");
  for (const k of only ?? []) if (!KINDS.includes(k)) throw new Error(`--only must name some of ${KINDS.join(", ")}; got ${k}`);
  if (!flag("from-checkpoints")) {
    if (only?.length === 1) await trainOne(only[0], steps, dir, backend);
    else {
      // Two cores: two models at a time, each in its own process.
      const queue = [...(only ?? KINDS)];
      const worker = async () => {
        while (queue.length) await runChild(queue.shift(), steps, dir, backend);
      };
      await Promise.all([worker(), worker()]);
    }
    if (flag("train-only")) return;
  }
  const res = await score(dir, backend);
  const ok = printTable(res);
  const out = option("out", null);
  if (out) {
    writeFileSync(out, JSON.stringify(res, null, 2) + "\n");
    console.log(`wrote ${out}`);
  }
  if (flag("require-claims") && !ok) process.exit(1);
}

main().catch((e) => {
  console.error(`length-experiment: ${e.message}`);
  process.exit(1);
});
