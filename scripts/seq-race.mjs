#!/usr/bin/env node
// Notebook 08's race in time: one training step (forward, backward, Adam update) of the GRU encoder-decoder and of a
// Transformer of comparable size against the sentence length T, each on its fastest path (trainStep), on wasm, and
// the part of the Transformer's step that is its T x T attention (scores, softmax, weighted sum, and their
// gradients, six times: self-attention in 2 encoder and 2 decoder blocks, cross-attention in 2).
// Sizes as the bench's seq-scaling cases (bench/run.mjs): batch 8, source = target = T, vocabulary 64; GRU embedding
// 64, hidden 128; Transformer d 64, 4 heads, feed-forward 256, 2 + 2 blocks.
// Times are CPU time of this process (process.cpuUsage), the minimum over the runs: wasm runs on one thread, so CPU
// time is the step's time on an idle core even when other work shares the machine; wall time is kept beside it.
//   node scripts/seq-race.mjs [--out data/results/seq-race.json] [--lengths 16,32,64,128,256]
// (T = 512 stopped with "memory access out of bounds" on wasm here.)
import { createRequire } from "node:module";
import { writeFileSync } from "node:fs";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
const lib = { ...require("attention-lib"), ...require("attention-lib/internal") };
const tf = require("@tensorflow/tfjs");

const args = parseArgs({
  options: {
    out: { type: "string", default: join(ROOT, "data", "results", "seq-race.json") },
    lengths: { type: "string", default: "16,32,64,128,256" },
  },
}).values;
const LENGTHS = args.lengths.split(",").map(Number);
const VOCAB = 64,
  BATCH = 8;
const GRU = { embedding: 64, hidden: 128 };
const TRANSFORMER = { d: 64, heads: 4, hidden: 256, layers: 2, dropout: 0 };
const ATTENTIONS_PER_STEP = 6;

function batchOf(T) {
  const g = new lib.Generator(1234);
  const id = () => 4 + Math.floor(g.nextFloat64() * (VOCAB - 4));
  const pairs = Array.from({ length: BATCH }, () => ({
    src: [...Array.from({ length: T - 1 }, id), 2],
    tgt: [...Array.from({ length: T - 1 }, id), 2],
  }));
  return lib.toTensors(lib.makeBatch(pairs));
}

function makeModel(kind) {
  const vocab = { srcVocab: VOCAB, tgtVocab: VOCAB, seed: 1 };
  return kind === "transformer"
    ? new lib.TransformerTranslator({ kind: "transformer", positions: "sinusoidal", maxLen: 1024, contextLength: 1024, ...TRANSFORMER, ...vocab })
    : new lib.Seq2Seq({ kind: "plain", ...vocab, ...GRU });
}

/** Minimum CPU and wall milliseconds of fn over `runs` calls, after one warm-up call. */
function time(fn, runs) {
  fn();
  let cpu = Infinity,
    wall = Infinity;
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage(),
      t0 = performance.now();
    fn();
    const c = process.cpuUsage(c0);
    cpu = Math.min(cpu, (c.user + c.system) / 1000);
    wall = Math.min(wall, performance.now() - t0);
  }
  return { cpu_ms: Math.round(cpu * 10) / 10, wall_ms: Math.round(wall * 10) / 10 };
}

function stepTime(kind, T, runs) {
  const model = makeModel(kind),
    optimizer = tf.train.adam(1e-3),
    batch = batchOf(T);
  const r = time(() => {
    const loss = lib.trainStep(model, optimizer, batch);
    loss.dataSync();
    loss.dispose();
  }, runs);
  tf.dispose(batch);
  optimizer.dispose();
  model.dispose();
  return r;
}

/** One causal attention's T x T part with its gradient, at the Transformer's shapes: q, k, v [8, 4, T, 16]. */
function scoresTime(T, runs) {
  const hd = TRANSFORMER.d / TRANSFORMER.heads;
  const [q, k, v] = [1, 2, 3].map((s) => tf.randomNormal([BATCH, TRANSFORMER.heads, T, hd], 0, 1, "float32", s));
  const future = tf.tidy(() => tf.sub(1, tf.linalg.bandPart(tf.ones([T, T]), -1, 0)).mul(-1e9));
  const core = (q, k, v) => tf.matMul(tf.softmax(tf.add(tf.div(tf.matMul(q, k, false, true), Math.sqrt(hd)), future)), v);
  const grads = tf.grads(core);
  const r = time(() => {
    const g = grads([q, k, v]);
    g.forEach((t) => t.dataSync());
    tf.dispose(g);
  }, runs);
  tf.dispose([q, k, v, future]);
  return r;
}

async function main() {
  await lib.setup({ backend: "wasm", verbose: false });
  const rows = [];
  for (const T of LENGTHS) {
    const runs = T >= 256 ? 3 : 5;
    const gru = stepTime("plain", T, runs);
    const transformer = stepTime("transformer", T, runs);
    const scores = scoresTime(T, runs);
    const row = {
      T,
      gru,
      transformer,
      scores_one_attention: scores,
      scores_share: Math.round(((ATTENTIONS_PER_STEP * scores.cpu_ms) / transformer.cpu_ms) * 1000) / 1000,
    };
    rows.push(row);
    console.log(
      `T=${String(T).padStart(4)}  GRU ${gru.cpu_ms.toFixed(0).padStart(7)} ms  Transformer ${transformer.cpu_ms.toFixed(0).padStart(7)} ms  ` +
        `T x T part ${(ATTENTIONS_PER_STEP * scores.cpu_ms).toFixed(0).padStart(6)} ms (${(100 * row.scores_share).toFixed(0)}%)   (CPU ms; wall ${gru.wall_ms} / ${transformer.wall_ms})`,
    );
  }
  const count = (kind) => {
    const m = makeModel(kind);
    const n = lib.countParameters(m);
    m.dispose();
    return n;
  };
  const out = {
    about:
      "One training step (forward, backward, Adam update, trainStep: each model's fastest path) against the sentence length T, on tfjs-wasm (one thread). " +
      "cpu_ms: the process's CPU time, the minimum over the runs (the step's time on an idle core); wall_ms: wall time, the minimum (longer when other work shares the machine). " +
      `scores_one_attention: the T x T part of one attention (scores, causal softmax, weighted sum and their gradients) at the Transformer's shapes; scores_share: ${ATTENTIONS_PER_STEP} of them (2 + 2 self-attentions, 2 cross-attentions) as a share of the Transformer's step (CPU time).`,
    command: "node scripts/seq-race.mjs",
    batch: BATCH,
    vocabulary: VOCAB,
    gru: { ...GRU, parameters: count("plain") },
    transformer: { ...TRANSFORMER, parameters: count("transformer") },
    rows,
  };
  writeFileSync(args.out, JSON.stringify(out, null, 2) + "\n");
  console.log(`wrote ${args.out}`);
}

main().catch((e) => {
  console.error(`seq-race: ${e.message}`);
  process.exit(1);
});
