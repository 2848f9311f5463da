#!/usr/bin/env node
// Notebook 09's GPT and its variants: the same small decoder-only model trained on the English side of the course's
// corpus (next-word prediction) with 4, 2 and 1 key/value heads, with MLA, and with sliding windows of a few sizes;
// the same query heads, steps, batches and seed for all. Saves each to data/checkpoints/gpt*.json/.bin and its
// numbers (validation loss, cache bytes per token, time, loss curve) to data/results/gpt-variants.json.
//
//   npm run gpt                                   retrain all (two at a time), save checkpoints and results
//   npm run gpt -- --only gpt-kv1,gpt-window8     retrain some (results of the others stay in the file)
//   npm run gpt -- --from-checkpoints             recompute the results of the committed checkpoints, no training
//   options: --steps N (default 200)  --jobs N (default 2)  --backend wasm|cpu  --out FILE  --checkpoints DIR
import { createRequire } from "node:module";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const require = createRequire(import.meta.url);
const lib = { ...require("attention-lib"), ...require("attention-lib/internal") };
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * The base GPT (notebook 09): 4 query heads of 8, one block, a context of 64 tokens (the longest sentence is 60 with
 * <bos>). Small enough that each variant trains in a few minutes here beside other work.
 */
export const GPT_SIZES = { d: 32, heads: 4, hidden: 128, layers: 1, dropout: 0, contextLength: 64 };
/** What each variant changes; everything else is GPT_SIZES. */
export const VARIANTS = {
  gpt: {},
  "gpt-kv1": { kvHeads: 1 },
  "gpt-kv2": { kvHeads: 2 },
  "gpt-mla": { kvLatent: 16 }, // the latent as wide as MQA's one key and one value (2 x 8)
  "gpt-window4": { window: 4 },
  "gpt-window8": { window: 8 },
  "gpt-window16": { window: 16 },
};
export const TRAINING = { batchSize: 32, learningRate: 4e-3, clipNorm: 1, seed: 7, batchSeed: 11 };
/** @type {import("node:util").ParseArgsConfig["options"]} */
const OPTIONS = {
  steps: { type: "string", default: "200" },
  jobs: { type: "string", default: "2" },
  backend: { type: "string", default: "wasm" },
  only: { type: "string" },
  out: { type: "string", default: join(ROOT, "data", "results", "gpt-variants.json") },
  checkpoints: { type: "string", default: join(ROOT, "data", "checkpoints") },
  "from-checkpoints": { type: "boolean", default: false },
  child: { type: "boolean", default: false }, // internal: train the one variant of --only in this process
};

/** Bytes of the KV cache per token of context, float32, all layers: what the attention keeps per token. */
export function cacheBytesPerToken(config) {
  const headDim = config.d / config.heads;
  const perLayer = config.kvLatent ? config.kvLatent : 2 * (config.kvHeads ?? config.heads) * headDim; // numbers
  return perLayer * config.layers * 4;
}

function corpusAndVocab() {
  const corpus = lib.loadCorpus(join(ROOT, "data", "corpus"));
  const vocab = lib.buildVocabularies(corpus.train).src; // the course's English vocabulary
  return { corpus, vocab, vocabs: { src: vocab, tgt: vocab } };
}

/** One variant's numbers from its model: validation loss, cache bytes, parameters. */
function measure(model, corpus, vocab) {
  return {
    config: model.config,
    parameters: lib.countParameters(model),
    cache_bytes_per_token: cacheBytesPerToken(model.config),
    valid_loss: Math.round(lib.languageModelLoss(model, lib.languageModelPairs(corpus.valid, vocab)) * 1e4) / 1e4,
  };
}

async function trainOne(name, steps, dir) {
  const { corpus, vocab, vocabs } = corpusAndVocab();
  const model = new lib.GPT({ kind: "gpt", srcVocab: vocab.size, tgtVocab: vocab.size, ...GPT_SIZES, ...VARIANTS[name], seed: TRAINING.seed });
  const trainer = new lib.Trainer(model, lib.languageModelPairs(corpus.train, vocab), {
    steps,
    batchSize: TRAINING.batchSize,
    learningRate: TRAINING.learningRate,
    clipNorm: TRAINING.clipNorm,
    seed: TRAINING.batchSeed,
    reportEvery: 25,
    onReport: (step, loss) => {
      if (step % 25 === 0) console.log(`[${name}] step ${step}  loss ${loss.toFixed(4)}  ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    },
  });
  const t0 = Date.now();
  const run = await trainer.run();
  const notes = {
    variant: name,
    steps: run.steps,
    seconds: Math.round(run.seconds),
    ...TRAINING,
    losses: trainer.losses.map((l) => ({ step: l.step, loss: Math.round(l.loss * 1e4) / 1e4 })),
    command: `npm run gpt -- --only ${name} --steps ${steps}`,
  };
  lib.saveCheckpoint(join(dir, name), model, vocabs, notes);
  const result = {
    ...measure(model, corpus, vocab),
    steps: run.steps,
    seconds: notes.seconds,
    train_loss: notes.losses.at(-1).loss,
    losses: notes.losses,
  };
  console.log(
    `[${name}] saved ${join(dir, name)}.json/.bin after ${run.steps} steps, ${run.seconds.toFixed(0)} s; validation loss ${result.valid_loss}`,
  );
  trainer.dispose();
  model.dispose();
  return result;
}

/** Merge one variant's result into the results file as it is on disk now (another run may have added its own). */
function merge(out, name, result, steps) {
  const file = existsSync(out) ? JSON.parse(readFileSync(out, "utf8")) : null;
  const res = file ?? {
    description:
      "Notebook 09's GPT variants: next-word prediction on the English side of data/corpus (train split), validation loss on the valid split (nats per token, <eos> included); cache bytes per token are float32, all layers.",
    sizes: GPT_SIZES,
    training: { ...TRAINING, steps },
    variants: {},
  };
  res.variants[name] = result;
  res.variants = Object.fromEntries(
    Object.keys(VARIANTS)
      .filter((k) => k in res.variants)
      .map((k) => [k, res.variants[k]]),
  );
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(res, null, 1) + "\n");
}

function runChild(name, args) {
  return new Promise((res, rej) => {
    const child = spawn(
      process.execPath,
      [
        fileURLToPath(import.meta.url),
        "--child",
        "--only",
        name,
        "--steps",
        args.steps,
        "--backend",
        args.backend,
        "--out",
        args.out,
        "--checkpoints",
        args.checkpoints,
      ],
      { stdio: "inherit" },
    );
    child.on("exit", (code) => (code === 0 ? res() : rej(new Error(`training ${name} failed (exit ${code})`))));
  });
}

async function main() {
  /** @type {Record<string, any>} */
  const args = parseArgs({ options: OPTIONS }).values;
  const steps = Number(args.steps);
  if (!(Number.isInteger(steps) && steps > 0)) throw new Error(`gpt: --steps must be a positive integer, got ${args.steps}`);
  const names = args.only ? args.only.split(",") : Object.keys(VARIANTS);
  for (const n of names) if (!(n in VARIANTS)) throw new Error(`gpt: unknown variant '${n}'; expected some of ${Object.keys(VARIANTS).join(", ")}`);
  await lib.setup({ backend: args.backend, verbose: false });
  if (args.child) {
    merge(args.out, names[0], await trainOne(names[0], steps, args.checkpoints), steps);
    return;
  }
  if (args["from-checkpoints"]) {
    const { corpus, vocab } = corpusAndVocab();
    for (const name of names) {
      const { model, notes } = lib.loadCheckpoint(join(args.checkpoints, name));
      const result = {
        ...measure(model, corpus, vocab),
        steps: notes.steps,
        seconds: notes.seconds,
        train_loss: notes.losses.at(-1).loss,
        losses: notes.losses,
      };
      console.log(`[${name}] validation loss ${result.valid_loss}`);
      merge(args.out, name, result, notes.steps);
      model.dispose();
    }
    return;
  }
  const queue = [...names];
  const jobs = Math.max(1, Number(args.jobs));
  await Promise.all(
    Array.from({ length: jobs }, async () => {
      while (queue.length > 0) await runChild(queue.shift(), args);
    }),
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(e.message);
    process.exit(1);
  });
}
