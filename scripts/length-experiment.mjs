#!/usr/bin/env node
// The experiment of notebooks 01-02 and 08 (Bahdanau, Cho & Bengio 2014, Fig. 2, then the 2017 Transformer):
// train a plain RNN encoder-decoder, one with additive attention, and a Transformer with each of three position
// schemes, on the same data with the same Trainer, batches and budget; then score them all on the held-out test
// split and on sentences longer than any in training, bucketed by source length.
//
//   npm run length-experiment -- --out results.json                    retrain all five (two at a time), save
//                                                                       checkpoints to data/checkpoints/, score
//   npm run length-experiment -- --from-checkpoints --out results.json  score the committed checkpoints
//   npm run length-experiment -- --seeds 8,9                            train and score all five again with other
//        seeds (checkpoints to data/seed-checkpoints/, git-ignored); scores, with the committed seed's read from
//        data/results/length-experiment.json, and mean and spread per bucket to
//        data/results/length-experiment-seeds.json (rewritten after every run; runs already in it are skipped)
//   options: --steps N (default 3000)  --backend wasm|cpu  --only KIND[,KIND]  --checkpoints DIR  --seed N
//   kinds: plain, bahdanau, transformer-learned, transformer-sinusoidal, transformer-rope
// A seed s sets the initial weights (s) and the batch order (s + 4): the committed checkpoints are seed 7 (7 and 11).
import { createRequire } from "node:module";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const require = createRequire(import.meta.url);
const lib = { ...require("attention-lib"), ...require("attention-lib/internal") };
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** The command line's options (read in main, so that importing this file runs nothing). */
/** @type {Record<string, any>} */
let args = {};
/** @type {import("node:util").ParseArgsConfig["options"]} */
const OPTIONS = {
  out: { type: "string" },
  "from-checkpoints": { type: "boolean", default: false },
  steps: { type: "string", default: "3000" },
  backend: { type: "string", default: "wasm" },
  only: { type: "string" },
  checkpoints: { type: "string" },
  seed: { type: "string", default: "7" },
  seeds: { type: "string" },
  "train-only": { type: "boolean", default: false },
  "require-claims": { type: "boolean", default: false },
  "run-out": { type: "string" }, // internal: a seed run's child writes its scores here
};

/** The seed of the committed checkpoints. */
export const COMMITTED_SEED = 7;
/** Batch order seed = model seed + this (the committed run used 7 and 11). */
const BATCH_SEED_OFFSET = 4;
export const MODEL_SIZES = { embedding: 64, hidden: 128, attention: 128 };
/** The Transformer's size: a training step costs about what the RNNs' does here (~0.3 s on this wasm backend). */
export const TRANSFORMER_SIZES = { d: 32, heads: 2, hidden: 64, layers: 1, dropout: 0, maxLen: 128 }; // no dropout, like the RNNs
const SCHEMES = ["learned", "sinusoidal", "rope"];
const KINDS = ["plain", "bahdanau", ...SCHEMES.map((s) => `transformer-${s}`)];
const NAMES = { plain: "rnn", bahdanau: "attention", ...Object.fromEntries(SCHEMES.map((s) => [`transformer-${s}`, `transformer-${s}`])) };
/** The columns of the results, one per model. */
const COLUMNS = { plain: "rnn", bahdanau: "attention", ...Object.fromEntries(SCHEMES.map((s) => [`transformer-${s}`, `transformer_${s}`])) };

async function trainOne(kind, steps, dir, backend, seed) {
  await lib.setup({ backend, verbose: false });
  const corpus = lib.loadCorpus(join(ROOT, "data", "corpus"));
  const vocabs = lib.buildVocabularies(corpus.train);
  const sizes = { srcVocab: vocabs.src.size, tgtVocab: vocabs.tgt.size, seed };
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
    seed: seed + BATCH_SEED_OFFSET,
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
    seed,
    losses: trainer.losses,
    command:
      seed === COMMITTED_SEED ? `npm run length-experiment -- --steps ${steps}` : `npm run length-experiment -- --seeds ${seed} --steps ${steps}`,
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
  return { steps: run.steps, seconds: Math.round(run.seconds), final_loss: trainer.losses[trainer.losses.length - 1].loss };
}

function runChild(kind, steps, dir, backend, seed = COMMITTED_SEED, runOut = null) {
  return new Promise((res, rej) => {
    const child = spawn(
      process.execPath,
      [
        fileURLToPath(import.meta.url),
        ...["--only", kind, "--steps", String(steps), "--checkpoints", dir, "--backend", backend, "--seed", String(seed), "--train-only"],
        ...(runOut ? ["--run-out", runOut] : []),
      ],
      { stdio: "inherit" },
    );
    child.on("exit", (code) => (code === 0 ? res() : rej(new Error(`training ${kind} (seed ${seed}) failed (exit ${code})`))));
  });
}

/** One model's BLEU and accuracy per bucket on both splits, from its checkpoint in dir. */
async function scoreOne(kind, dir, backend) {
  await lib.setup({ backend, verbose: false });
  const corpus = lib.loadCorpus(join(ROOT, "data", "corpus"));
  const { model, vocabs } = lib.loadCheckpoint(join(dir, NAMES[kind]));
  const test = lib.scoreByLength(lib.translatePairs(model, vocabs, corpus.test, 100, { cache: true }), lib.LENGTH_BUCKETS);
  const long = lib.scoreByLength(lib.translatePairs(model, vocabs, lib.longSentences(corpus.train), 100, { cache: true }), lib.LONG_BUCKETS);
  model.dispose();
  return { test, long };
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

const SEEDS_FILE = join(ROOT, "data", "results", "length-experiment-seeds.json");
/** Longest first, so the last runs to finish are the short ones. */
const SEED_ORDER = ["bahdanau", "transformer-rope", "transformer-sinusoidal", "transformer-learned", "plain"];

/** mean, sample standard deviation (n - 1; 0 for one value), min and max. */
export function spread(values) {
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const sd = values.length > 1 ? Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (values.length - 1)) : 0;
  return { mean, sd, min: Math.min(...values), max: Math.max(...values) };
}

/** The committed seed's runs: scores from length-experiment.json, steps, seconds and loss from the checkpoints' notes. */
function committedRuns() {
  const res = JSON.parse(readFileSync(join(ROOT, "data", "results", "length-experiment.json"), "utf8"));
  return Object.fromEntries(
    KINDS.map((kind) => {
      const c = COLUMNS[kind];
      const notes = JSON.parse(readFileSync(join(ROOT, "data", "checkpoints", `${NAMES[kind]}.json`), "utf8")).notes;
      if (notes.steps === undefined || !notes.losses?.length)
        throw new Error(`length-experiment: data/checkpoints/${NAMES[kind]}.json has no training notes`);
      const column = (buckets, what) => buckets.map((b) => b[`${c}_${what}`]);
      return [
        kind,
        {
          seed: COMMITTED_SEED,
          steps: notes.steps,
          seconds: notes.seconds,
          final_loss: notes.losses[notes.losses.length - 1].loss,
          test_bleu: column(res.buckets, "bleu"),
          long_bleu: column(res.long.buckets, "bleu"),
          test_accuracy: column(res.buckets, "accuracy"),
          long_accuracy: column(res.long.buckets, "accuracy"),
        },
      ];
    }),
  );
}

/** The seeds file from the runs so far (committed seed included): per model its runs and mean and spread per bucket. */
export function seedsFile(extraRuns, steps) {
  const committed = committedRuns();
  const res = JSON.parse(readFileSync(join(ROOT, "data", "results", "length-experiment.json"), "utf8"));
  const bucketsOf = (rows) => rows.map((b) => ({ min_len: b.min_len, max_len: b.max_len, n: b.n }));
  const models = {};
  for (const kind of KINDS) {
    const runs = [committed[kind], ...extraRuns.filter((r) => r.kind === kind).map(({ kind: _, ...r }) => r)].sort((a, b) => a.seed - b.seed);
    const per = (split, i) => spread(runs.map((r) => r[`${split}_bleu`][i]));
    models[COLUMNS[kind]] = {
      kind,
      runs,
      summary: {
        seeds: runs.map((r) => r.seed),
        test: res.buckets.map((b, i) => ({ min_len: b.min_len, max_len: b.max_len, ...per("test", i) })),
        long: res.long.buckets.map((b, i) => ({ min_len: b.min_len, max_len: b.max_len, ...per("long", i) })),
        final_loss: spread(runs.map((r) => r.final_loss)),
      },
    };
  }
  return {
    about:
      "BLEU by source length of the five models of the length experiment, trained with several seeds. Seed s: initial weights from s, batch order from s + 4. " +
      `Seed ${COMMITTED_SEED} is the committed checkpoints (scores copied from length-experiment.json). summary: mean, sample standard deviation (sd, n - 1), min and max over the seeds, per bucket.`,
    // the seeds trained so far (8,9 when none is: the command that starts it)
    command: `npm run length-experiment -- --seeds ${[...new Set(extraRuns.map((r) => r.seed))].sort((a, b) => a - b).join(",") || "8,9"}`,
    steps,
    committed_seed: COMMITTED_SEED,
    // true once every model has 3 seeds or more
    complete: Object.values(models).every((m) => m.runs.length >= 3),
    test_buckets: bucketsOf(res.buckets),
    long_buckets: bucketsOf(res.long.buckets),
    models,
  };
}

/** The extra seeds' runs already in the seeds file. */
export function readExtraRuns(file) {
  if (!existsSync(file)) return [];
  const old = JSON.parse(readFileSync(file, "utf8"));
  return Object.values(old.models).flatMap((m) => m.runs.filter((r) => r.seed !== COMMITTED_SEED).map((r) => ({ kind: m.kind, ...r })));
}

function printSeeds(file) {
  for (const [split, name] of [
    ["test", "test split"],
    ["long", "longer than any training sentence"],
  ]) {
    console.log(`\n${name}: BLEU mean ± sd (min-max) over seeds`);
    for (const m of Object.values(file.models)) {
      const cells = m.summary[split].map((b) => `${b.mean.toFixed(3)} ± ${b.sd.toFixed(3)} (${b.min.toFixed(3)}-${b.max.toFixed(3)})`);
      console.log(`${m.kind.padEnd(22)} seeds ${m.summary.seeds.join(",").padEnd(7)} | ${cells.join(" | ")}`);
    }
  }
}

async function seedsMain(seeds, steps, backend, only) {
  const dir = resolve(args.checkpoints ?? join(ROOT, "data", "seed-checkpoints"));
  if (dir === resolve(ROOT, "data", "checkpoints"))
    throw new Error("--seeds never writes to data/checkpoints/ (the committed seed's); pick another --checkpoints DIR");
  const out = resolve(args.out ?? SEEDS_FILE);
  let extra = readExtraRuns(out);
  const done = (kind, seed) => extra.some((r) => r.kind === kind && r.seed === seed && r.steps === steps);
  const queue = [];
  for (const kind of SEED_ORDER.filter((k) => !only || only.includes(k)))
    for (const seed of seeds) {
      if (done(kind, seed)) console.log(`[seeds] ${kind} seed ${seed}: already in ${out}`);
      else queue.push({ kind, seed });
    }
  const write = () => {
    writeFileSync(out, JSON.stringify(seedsFile(extra, steps), null, 2) + "\n");
    console.log(`[seeds] wrote ${out}`);
  };
  const worker = async () => {
    while (queue.length) {
      const { kind, seed } = queue.shift();
      const sub = join(dir, `seed-${seed}`);
      mkdirSync(sub, { recursive: true });
      const runOut = join(sub, `${NAMES[kind]}.run.json`);
      await runChild(kind, steps, sub, backend, seed, runOut);
      const run = JSON.parse(readFileSync(runOut, "utf8"));
      // Read the file again: another --seeds command may have added runs since this one started.
      extra = [...readExtraRuns(out).filter((r) => !(r.kind === kind && r.seed === seed)), run];
      write();
    }
  };
  await Promise.all([worker(), worker()]); // two cores: two trainings at a time
  // Once more from the file: with every run already in it, this rewrites the summary and nothing is trained.
  extra = readExtraRuns(out);
  write();
  printSeeds(JSON.parse(readFileSync(out, "utf8")));
}

async function main() {
  args = parseArgs({ options: OPTIONS }).values;
  const backend = args.backend;
  const steps = Number(args.steps);
  if (!(Number.isSafeInteger(steps) && steps > 0)) throw new Error(`--steps must be a positive integer; got ${args.steps}`);
  const only = args.only?.split(",");
  for (const k of only ?? []) if (!KINDS.includes(k)) throw new Error(`--only must name some of ${KINDS.join(", ")}; got ${k}`);
  const seed = Number(args.seed);
  if (!(Number.isSafeInteger(seed) && seed >= 0)) throw new Error(`--seed must be a non-negative integer; got ${args.seed}`);
  if (args.seeds !== undefined) {
    const seeds = args.seeds.split(",").map(Number);
    for (const s of seeds)
      if (!(Number.isSafeInteger(s) && s >= 0 && s !== COMMITTED_SEED))
        throw new Error(`--seeds must list non-negative integers other than ${COMMITTED_SEED} (the committed checkpoints); got ${args.seeds}`);
    return seedsMain(seeds, steps, backend, only);
  }
  const dir = resolve(args.checkpoints ?? join(ROOT, "data", "checkpoints"));
  if (seed !== COMMITTED_SEED && dir === resolve(ROOT, "data", "checkpoints"))
    throw new Error(`--seed ${seed} would overwrite the committed checkpoints (seed ${COMMITTED_SEED}); give --checkpoints DIR`);
  if (!args["from-checkpoints"]) {
    if (only?.length === 1) {
      const run = await trainOne(only[0], steps, dir, backend, seed);
      if (args["run-out"]) {
        const scores = await scoreOne(only[0], dir, backend);
        const column = (buckets, what) => buckets.map((b) => b[what]);
        writeFileSync(
          args["run-out"],
          JSON.stringify({
            kind: only[0],
            seed,
            ...run,
            test_bleu: column(scores.test, "bleu"),
            long_bleu: column(scores.long, "bleu"),
            test_accuracy: column(scores.test, "accuracy"),
            long_accuracy: column(scores.long, "accuracy"),
          }) + "\n",
        );
        console.log(
          `[${only[0]}] seed ${seed} scored: test ${column(scores.test, "bleu")
            .map((v) => v.toFixed(3))
            .join(" ")}, long ${column(scores.long, "bleu")
            .map((v) => v.toFixed(3))
            .join(" ")}`,
        );
      }
    } else {
      // Two cores: two models at a time, each in its own process.
      const queue = [...(only ?? KINDS)];
      const worker = async () => {
        while (queue.length) await runChild(queue.shift(), steps, dir, backend, seed);
      };
      await Promise.all([worker(), worker()]);
    }
    if (args["train-only"]) return;
  }
  const res = await score(dir, backend);
  const ok = printTable(res);
  const out = args.out ?? null;
  if (out) {
    writeFileSync(out, JSON.stringify(res, null, 2) + "\n");
    console.log(`wrote ${out}`);
  }
  if (args["require-claims"] && !ok) process.exit(1);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  main().catch((e) => {
    console.error(`length-experiment: ${e.message}`);
    process.exit(1);
  });
