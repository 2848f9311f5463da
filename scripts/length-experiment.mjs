#!/usr/bin/env node
// The experiment of notebooks 01-02 (Bahdanau, Cho & Bengio 2014, Fig. 2): train a plain RNN
// encoder-decoder and one with additive attention on the same data with the same budget, then score both
// on the held-out test split, bucketed by source length.
//
//   npm run length-experiment -- --out results.json                    retrain both (in parallel), save
//                                                                       checkpoints to data/checkpoints/, score
//   npm run length-experiment -- --from-checkpoints --out results.json  score the committed checkpoints
//   options: --steps N (default 3000)  --backend wasm|cpu  --only plain|bahdanau  --checkpoints DIR
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
const KINDS = ["plain", "bahdanau"];
const NAMES = { plain: "rnn", bahdanau: "attention" };

async function trainOne(kind, steps, dir, backend) {
  await lib.setup({ backend, verbose: false });
  const corpus = lib.loadCorpus(join(ROOT, "data", "corpus"));
  const vocabs = lib.buildVocabularies(corpus.train);
  const model = new lib.Seq2Seq({ kind, srcVocab: vocabs.src.size, tgtVocab: vocabs.tgt.size, ...MODEL_SIZES, seed: 7 });
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

export async function score(dir, backend) {
  await lib.setup({ backend, verbose: false });
  const corpus = lib.loadCorpus(join(ROOT, "data", "corpus"));
  const results = {};
  for (const kind of KINDS) {
    const { model, vocabs } = lib.loadCheckpoint(join(dir, NAMES[kind]));
    results[kind] = lib.scoreByLength(lib.translatePairs(model, vocabs, corpus.test), lib.LENGTH_BUCKETS);
    model.dispose();
  }
  const buckets = results.plain.map((b, i) => ({
    min_len: b.min_len,
    max_len: b.max_len,
    n: b.n,
    rnn_bleu: b.bleu,
    attention_bleu: results.bahdanau[i].bleu,
    rnn_accuracy: b.accuracy,
    attention_accuracy: results.bahdanau[i].accuracy,
  }));
  return { split: "test", buckets };
}

function printTable(res) {
  console.log("\nsource length | sentences | RNN BLEU | attention BLEU");
  for (const b of res.buckets) {
    const range = b.max_len >= 1000 ? `${b.min_len}+` : `${b.min_len}-${b.max_len}`;
    console.log(
      `${range.padStart(13)} | ${String(b.n).padStart(9)} | ${b.rnn_bleu.toFixed(3).padStart(8)} | ${b.attention_bleu.toFixed(3).padStart(14)}`,
    );
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
  const only = option("only", null);
  if (only && !KINDS.includes(only)) throw new Error(`--only must be one of ${KINDS.join(", ")}`);
  if (!flag("from-checkpoints")) {
    if (only) await trainOne(only, steps, dir, backend);
    else await Promise.all(KINDS.map((k) => runChild(k, steps, dir, backend))); // two cores: one model each
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
