#!/usr/bin/env node
// The project's benchmark: `npm run bench [-- --json FILE] [--runs N] [--backends wasm,cpu] [--case PREFIX[,PREFIX...]]`.
//   --reference   also time the readable code the speed wings replace (step-by-step decoders, readable generation)
//   --list        print the case families (the README's list is this output) and exit
// Issue 30's targets, where they stand and what bounds the ones not reached (kernel calls per step, where the CPU time
// goes): the README's Benchmarks section, from the run in bench/results.json.
//   --pytorch     also run bench/pytorch_step.py (same steps in PyTorch, CPU, one thread) when torch is installed
// Each case times one thing end to end and reports the median and minimum over `runs` repetitions,
// after two warm-up runs, and the median CPU time of this process (less disturbed than the wall clock when other
// work shares the machine; pytorch_step.py reports its own the same way). Numbers, not assertions: tests never
// time anything.
//
// mha-forward/*, attention-scaling/*: see below (notebook 07). train-step/gru-encdec, train-step/bahdanau: one training step (forward + backward + Adam update) of the
// translators of notebooks 01-02 at fixed sizes, the same as bench/pytorch_step.py runs in PyTorch:
// source and target vocabulary 64, embedding 64, hidden 128, batch 64, source and target length 24.
// train-step/transformer: the same step for notebook 08's Transformer at the size the length experiment trains
// (TRANSFORMER_SIZES: d 32, 2 heads, feed-forward 64, one encoder and one decoder block), same batch.
// attention-scaling/sliding-window/T=<n>: the memory-efficient module with a window of 256 (notebook 09).
// seq-scaling/<model>/T=<n>: one training step against the sentence length T (source = target = T, batch 8) for
// the GRU encoder-decoder (embedding 64, hidden 128: 222,784 parameters) and a Transformer of comparable size
// (SCALING_TRANSFORMER: d 64, 4 heads, feed-forward 256, 2 + 2 blocks: 246,080 parameters). The recurrence is
// sequential in T; self-attention is parallel, but its scores grow with T squared.
import { createRequire } from "node:module";
import { writeFileSync, readFileSync, mkdtempSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { parseArgs } from "node:util";
import { findPython } from "../scripts/python.mjs";
import { join, dirname } from "node:path";
import { tmpdir } from "node:os";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));

const require = createRequire(import.meta.url);
const lib = { ...require("attention-lib"), ...require("attention-lib/internal") };
const tf = require("@tensorflow/tfjs");

export const SIZES = { vocab: 64, embedding: 64, hidden: 128, batch: 64, srcLen: 24, tgtLen: 24 };

/** The command line (see the header): --backends, --case, --json, --runs, --list, --reference, --pytorch. */
const ARGS = parseArgs({
  options: {
    backends: { type: "string", default: "wasm,cpu" },
    case: { type: "string" },
    json: { type: "string" },
    runs: { type: "string" },
    list: { type: "boolean", default: false },
    reference: { type: "boolean", default: false },
    pytorch: { type: "boolean", default: false },
  },
}).values;

/** A fixed random batch: ids in 4..vocab-1, every sentence exactly srcLen / tgtLen tokens (ending in <eos>). */
function syntheticBatch({ batch = SIZES.batch, srcLen = SIZES.srcLen, tgtLen = SIZES.tgtLen } = {}) {
  const g = new lib.Generator(1234);
  const id = () => 4 + Math.floor(g.nextFloat64() * (SIZES.vocab - 4));
  const pairs = Array.from({ length: batch }, () => ({
    src: [...Array.from({ length: srcLen - 1 }, id), 2],
    tgt: [...Array.from({ length: tgtLen - 1 }, id), 2],
  }));
  return lib.toTensors(lib.makeBatch(pairs));
}

export const TRANSFORMER_SIZES = { d: 32, heads: 2, hidden: 64, layers: 1, dropout: 0 };
export const SCALING_TRANSFORMER = { d: 64, heads: 4, hidden: 256, layers: 2, dropout: 0 };
export const SEQ_T = [16, 32, 64, 128, 256];

/** The translator a case trains: "plain", "bahdanau", or a Transformer with the given sizes. */
function makeTranslator(kind, sizes = TRANSFORMER_SIZES) {
  const vocab = { srcVocab: SIZES.vocab, tgtVocab: SIZES.vocab, seed: 1 };
  return kind === "transformer"
    ? new lib.TransformerTranslator({ kind: "transformer", positions: "sinusoidal", ...sizes, ...vocab })
    : new lib.Seq2Seq({ kind, ...vocab, embedding: SIZES.embedding, hidden: SIZES.hidden });
}

function trainStepCase(kind, readable = false, shape = {}, sizes = TRANSFORMER_SIZES) {
  return () => {
    const model = makeTranslator(kind, sizes);
    const optimizer = tf.train.adam(1e-3);
    const batch = syntheticBatch(shape);
    return {
      run: () => {
        const loss = lib.trainStep(model, optimizer, batch, { fast: !readable });
        loss.dataSync(); // wait for the step to finish
        loss.dispose();
      },
      dispose: () => {
        tf.dispose(batch);
        optimizer.dispose();
        model.dispose();
      },
    };
  };
}

// mha-forward/*: one causal multi-head attention forward pass at GPT-2 small's width (batch 2, T 256, d 768,
// 12 heads, float32, evaluation mode), by each implementation of notebooks 06-07.
export const MHA = { batch: 2, tokens: 256, d: 768, heads: 12 };
const IMPLEMENTATIONS = {
  wrapper: (d, heads, T, gen) => new lib.MultiHeadAttentionWrapper(d, d / heads, T, 0, heads, { generator: gen }),
  MultiHeadAttention: (d, heads, T, gen) => new lib.MultiHeadAttention(d, d, T, 0, heads, { generator: gen }),
  fused: (d, heads, T, gen) => new lib.FusedMultiHeadAttention(d, d, T, 0, heads, { generator: gen }),
  "memory-efficient": (d, heads, T, gen) => new lib.MemoryEfficientAttention(d, d, T, 0, heads, { generator: gen, blockSize: 128 }),
  // Notebook 09: the memory-efficient module with a sliding window of 256 keys, skipping the key blocks outside it.
  "sliding-window": (d, heads, T, gen) => new lib.MemoryEfficientAttention(d, d, T, 0, heads, { generator: gen, blockSize: 128, window: 256 }),
};

// gqa-forward/kv=<n>: grouped-query attention at GPT-2 small's width (batch 2, T 256, d 768, 12 query heads) with 12
// (multi-head), 4 and 1 (multi-query) key/value heads; the same as PyTorch's scaled_dot_product_attention(enable_gqa).
export const GQA_KV = [12, 4, 1];
function gqaCase(kv) {
  return () => {
    const m = new lib.MultiHeadAttention(MHA.d, MHA.d, MHA.tokens, 0, MHA.heads, { kvHeads: kv, generator: new lib.Generator(1) }).eval();
    const x = tf.randomNormal([MHA.batch, MHA.tokens, MHA.d], 0, 1, "float32", 1);
    return forwardCase(m, x);
  };
}

// generate/transformer/<no-cache|kv-cache>/len=<n>: greedy decoding of n words (no early <eos>: the cases force
// the length) by a Transformer translator of the length experiment's size, batch 1, a 20-token source; without a
// cache every step runs the decoder over all the words so far, with one only over the newest (notebook 09). Both
// through the speed wing's decoder (transformer/fast/generate.ts: the same code either way, no kernel calls per
// word); generate/transformer/readable-<no-cache|kv-cache>/len=100 (with --reference): TransformerTranslator.translate.
export const GENERATE_LENGTHS = [25, 50, 100];
function generateCase(cache, length, readable = false) {
  return () => {
    const m = new lib.TransformerTranslator({
      kind: "transformer",
      srcVocab: SIZES.vocab,
      tgtVocab: SIZES.vocab,
      ...TRANSFORMER_SIZES,
      maxLen: 256,
      seed: 1,
    });
    // A model whose output layer never picks <eos> (id 2): its bias there is very negative.
    tf.tidy(() => m.out.bias.assign(m.out.bias.add(tf.oneHot([2], SIZES.vocab).reshape([-1]).mul(-1e4))));
    const src = tf.tensor2d([Array.from({ length: 20 }, (_, i) => 4 + (i % 50))], [1, 20], "int32");
    const mask = tf.ones([1, 20]);
    const translate = readable ? (...a) => m.translate(...a) : (...a) => lib.transformerWing.fastTranslate(m, ...a);
    return {
      run: () => {
        const out = translate(src, mask, { maxLen: length, cache });
        if (out.ids[0].length !== length) throw new Error(`generated ${out.ids[0].length} words, expected ${length}`);
      },
      dispose: () => {
        tf.dispose([src, mask]);
        m.dispose();
      },
    };
  };
}

// Notebook 09's GPT (scripts/gpt.mjs's size: d 32, 4 heads, feed-forward 128, one block; vocabulary 64 here).
// train-step/gpt: one training step on a batch of 32 sequences of 24 tokens, as bench/pytorch_step.py's GPT.
// generate/gpt/<no-cache|kv-cache>/len=<n>: n tokens written greedily from <bos> (no early <eos>), batch 1, with a
// context of 128; without the cache every step runs the model over all the tokens so far.
export const GPT_SIZES = { d: 32, heads: 4, hidden: 128, layers: 1, dropout: 0 };
const makeGpt = (contextLength) => new lib.GPT({ kind: "gpt", srcVocab: SIZES.vocab, tgtVocab: SIZES.vocab, ...GPT_SIZES, contextLength, seed: 1 });
function gptTrainStepCase() {
  return () => {
    const model = makeGpt(64);
    const optimizer = tf.train.adam(1e-3);
    const batch = syntheticBatch({ batch: 32, srcLen: 24, tgtLen: 24 });
    return {
      run: () => {
        const loss = lib.trainStep(model, optimizer, batch);
        loss.dataSync();
        loss.dispose();
      },
      dispose: () => {
        tf.dispose(batch);
        optimizer.dispose();
        model.dispose();
      },
    };
  };
}
// Through the speed wing's fastGenerate (gpt/fast/generate.ts: the same code with and without the cache, no kernel calls
// per token); generate/gpt/readable-<no-cache|kv-cache>/len=100 (with --reference): the readable generate.
function gptGenerateCase(cache, length, readable = false) {
  return () => {
    const m = makeGpt(128);
    const generate = readable ? lib.generate : lib.gptWing.fastGenerate;
    return {
      run: () => {
        const out = generate(m, [], { maxNew: length, cache, stopAtEos: false });
        if (out.ids.length !== length) throw new Error(`generated ${out.ids.length} tokens, expected ${length}`);
      },
      dispose: () => m.dispose(),
    };
  };
}

/** A case that times one forward pass of module m on input x (and frees both afterwards). */
function forwardCase(m, x) {
  return {
    run: () => {
      const y = m.forward(x);
      y.dataSync();
      y.dispose();
    },
    dispose: () => {
      x.dispose();
      m.dispose();
    },
  };
}

function attentionCase(impl, batch, tokens, d, heads) {
  return () => {
    const m = IMPLEMENTATIONS[impl](d, heads, tokens, new lib.Generator(1)).eval();
    const x = tf.randomNormal([batch, tokens, d], 0, 1, "float32", 1);
    return {
      ...forwardCase(m, x),
      /** Peak tensor bytes while one call runs, above what was allocated before it (tf.profile). */
      peakBytes: async () => {
        const before = tf.memory().numBytes;
        const p = await tf.profile(() => m.forward(x));
        tf.dispose(p.result);
        return p.peakBytes - before;
      },
    };
  };
}

/**
 * The multiply-adds of the whole multi-head forward (projections 4 b T d^2, scores and weighted values
 * 2 b T^2 d) as ONE plain 2-D product [b T, d] x [d, N]: what the backend does with that much arithmetic
 * when nothing else is in the way. An implementation's overhead is its ratio to this.
 */
function matmulFloorCase() {
  return () => {
    const { batch: b, tokens: T, d } = MHA;
    const N = (4 * b * T * d * d + 2 * b * T * T * d) / (b * T * d); // = 4d + 2T
    const a = tf.randomNormal([b * T, d], 0, 1, "float32", 1);
    const w = tf.randomNormal([d, N], 0, 1, "float32", 2);
    return {
      run: () => {
        const y = tf.matMul(a, w);
        y.dataSync();
        y.dispose();
      },
      dispose: () => tf.dispose([a, w]),
    };
  };
}

// module-call/<module>: one forward pass of a readable module at the book's sizes (the six-token running example,
// batch 2, d_in 3, d_out 2, 2 heads), where the time is per-op overhead and the blocking reads of the input
// checks, not arithmetic. What notebooks 05-06 and their exercise checks call again and again.
const BOOK_MODULES = {
  CausalAttention: (gen) => new lib.CausalAttention(3, 2, 6, 0, { generator: gen }),
  wrapper: (gen) => new lib.MultiHeadAttentionWrapper(3, 2, 6, 0, 2, { generator: gen }),
  MultiHeadAttention: (gen) => new lib.MultiHeadAttention(3, 2, 6, 0, 2, { generator: gen }),
};

function moduleCallCase(name) {
  return () => {
    const m = BOOK_MODULES[name](new lib.Generator(123)).eval();
    const x = tf.tidy(() => tf.stack([lib.exampleInputs(), tf.reverse(lib.exampleInputs(), 0)])); // [2, 6, 3], the book's batch
    return forwardCase(m, x);
  };
}

// attention-scaling/<implementation>/T=<n>: one head of width 64, batch 1, T from 128 to 8192 (cpu: to
// 2048, it is ~20x slower); median time and peak tensor bytes.
export const SCALING_T = [128, 256, 512, 1024, 2048, 4096, 8192];

export const CASES = {
  "mha-forward/matmul-floor": matmulFloorCase(),
  ...Object.fromEntries(
    Object.keys(IMPLEMENTATIONS).map((impl) => [`mha-forward/${impl}`, attentionCase(impl, MHA.batch, MHA.tokens, MHA.d, MHA.heads)]),
  ),
  ...Object.fromEntries(
    ["MultiHeadAttention", "fused", "memory-efficient"].flatMap((impl) =>
      SCALING_T.map((T) => [`attention-scaling/${impl}/T=${T}`, attentionCase(impl, 1, T, 64, 1)]),
    ),
  ),
  ...Object.fromEntries(SCALING_T.map((T) => [`attention-scaling/sliding-window/T=${T}`, attentionCase("sliding-window", 1, T, 64, 1)])),
  ...Object.fromEntries(GQA_KV.map((kv) => [`gqa-forward/kv=${kv}`, gqaCase(kv)])),
  ...Object.fromEntries(
    ["no-cache", "kv-cache"].flatMap((how) =>
      GENERATE_LENGTHS.map((n) => [`generate/transformer/${how}/len=${n}`, generateCase(how === "kv-cache", n)]),
    ),
  ),
  ...Object.fromEntries(
    ["no-cache", "kv-cache"].flatMap((how) => GENERATE_LENGTHS.map((n) => [`generate/gpt/${how}/len=${n}`, gptGenerateCase(how === "kv-cache", n)])),
  ),
  ...Object.fromEntries(
    ["no-cache", "kv-cache"].flatMap((how) => [
      [`generate/transformer/readable-${how}/len=100`, generateCase(how === "kv-cache", 100, true)],
      [`generate/gpt/readable-${how}/len=100`, gptGenerateCase(how === "kv-cache", 100, true)],
    ]),
  ),
  ...Object.fromEntries(Object.keys(BOOK_MODULES).map((name) => [`module-call/${name}`, moduleCallCase(name)])),
  "train-step/gru-encdec": trainStepCase("plain"),
  "train-step/bahdanau": trainStepCase("bahdanau"),
  "train-step/transformer": trainStepCase("transformer"),
  "train-step/gpt": gptTrainStepCase(),
  ...Object.fromEntries(
    [
      ["gru-encdec", "plain"],
      ["transformer", "transformer"],
    ].flatMap(([name, kind]) =>
      SEQ_T.map((T) => [`seq-scaling/${name}/T=${T}`, trainStepCase(kind, false, { batch: 8, srcLen: T, tgtLen: T }, SCALING_TRANSFORMER)]),
    ),
  ),
  // The same steps through the readable model, one op at a time (what the fast path replaces); with --reference.
  "train-step/gru-encdec/step-by-step": trainStepCase("plain", true),
  "train-step/bahdanau/step-by-step": trainStepCase("bahdanau", true),
};

/** PyTorch's numbers for the same steps, if PyTorch is installed (bench/pytorch_step.py). */
function pytorchCases(only) {
  const out = join(mkdtempSync(join(tmpdir(), "bench-")), "pytorch.json");
  const py = findPython(["torch"]);
  if (py) {
    const r = spawnSync(py, [join(HERE, "pytorch_step.py"), "--json", out, ...(only ? ["--only", only.join(",")] : [])], { encoding: "utf8" });
    if (r.status === 0) {
      process.stdout.write(r.stdout);
      return JSON.parse(readFileSync(out, "utf8")).cases;
    }
    process.stderr.write(r.stderr);
  }
  console.log("PyTorch comparison skipped: no python3 with torch (Debian/Ubuntu: apt-get install python3-torch)");
  return [];
}

const medianOf = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** The case families, in order: each family's members with their sizes written as <n> (the README's list). */
export function caseFamilies() {
  const families = new Map();
  for (const name of Object.keys(CASES)) {
    const [head, ...rest] = name.split("/");
    if (!families.has(head)) families.set(head, new Set());
    families.get(head).add(rest.map((p) => p.replace(/=.*$/, "=<n>")).join("/"));
  }
  return [...families].map(([head, members]) => `${head}/{${[...members].join(", ")}}`);
}

async function main() {
  if (ARGS.list) {
    for (const f of caseFamilies()) console.log(f);
    return;
  }
  const backends = String(ARGS.backends).split(",");
  const only = ARGS.case?.split(","); // name prefixes, e.g. train-step,mha-forward
  const out = ARGS.json;
  const results = [];
  const reference = ARGS.reference;
  const baseline = JSON.parse(readFileSync(join(HERE, "baseline.json"), "utf8"));
  for (const [name, make] of Object.entries(CASES)) {
    if (only && !only.some((p) => name.startsWith(p))) continue;
    if ((name.endsWith("/step-by-step") || name.includes("/readable-")) && !reference) continue;
    for (const backend of backends) {
      const T = Number(/T=(\d+)$/.exec(name)?.[1] ?? 0);
      if (backend === "cpu" && T > 2048) continue;
      if (backend === "cpu" && name.startsWith("seq-scaling/") && T > 64) continue; // the cpu backend is ~10x slower
      await lib.setup({ backend, verbose: false });
      const slow =
        T >= 2048 ||
        (backend === "cpu" && name.startsWith("mha-forward/")) ||
        (name.startsWith("seq-scaling/") && T >= 128) ||
        name.startsWith("generate/");
      const runs = Number(ARGS.runs ?? (slow ? "3" : backend === "cpu" ? "5" : "15"));
      const c = make();
      try {
        c.run();
      } catch (e) {
        c.dispose();
        console.log(`${name.padEnd(40)} ${backend.padEnd(5)} refused: ${e.message.split(";")[0]}`);
        continue;
      }
      c.run();
      const times = [];
      const cpu = [];
      for (let i = 0; i < runs; i++) {
        const c0 = process.cpuUsage();
        const t0 = process.hrtime.bigint();
        c.run();
        times.push(Number(process.hrtime.bigint() - t0) / 1e6);
        const used = process.cpuUsage(c0);
        cpu.push((used.user + used.system) / 1000);
      }
      const peak = c.peakBytes ? await c.peakBytes() : undefined;
      c.dispose();
      times.sort((a, b) => a - b);
      const median = medianOf(times);
      const row = {
        name,
        backend,
        ms_median: Math.round(median * 10) / 10,
        ms_min: Math.round(times[0] * 10) / 10,
        cpu_ms_median: Math.round(medianOf(cpu) * 10) / 10,
        runs,
        ...(peak !== undefined ? { peak_bytes: peak } : {}),
      };
      results.push(row);
      const before = baseline[backend]?.[name];
      const floor = results.find((r) => r.name === "mha-forward/matmul-floor" && r.backend === backend);
      const ratio = before
        ? `   ${(before / row.ms_median).toFixed(1)}x faster than the first implementation (${before} ms)`
        : name.startsWith("mha-forward/") && floor && floor !== row
          ? `   ${(row.ms_median / floor.ms_median).toFixed(2)}x the matmul floor`
          : "";
      const mem = peak !== undefined ? `   peak ${(peak / 2 ** 20).toFixed(1)} MiB` : "";
      console.log(
        `${name.padEnd(40)} ${backend.padEnd(5)} median ${row.ms_median.toFixed(1).padStart(8)} ms   min ${row.ms_min.toFixed(1).padStart(8)} ms   cpu ${row.cpu_ms_median.toFixed(1).padStart(8)} ms   (${runs} runs)${mem}${ratio}`,
      );
    }
  }
  if (ARGS.pytorch) {
    for (const p of pytorchCases(only)) {
      results.push(p);
      // Same case name: the same work. PyTorch's own multi-head modules are compared with each of ours.
      const same = p.name.startsWith("mha-forward/torch")
        ? (x) => x.name.startsWith("mha-forward/") && x.name !== "mha-forward/matmul-floor"
        : (x) => x.name === p.name;
      for (const r of results.filter((x) => same(x) && !x.backend.startsWith("pytorch"))) {
        const cpuRatio = p.cpu_ms_median ? `, ${(r.cpu_ms_median / p.cpu_ms_median).toFixed(2)}x its CPU time (${p.cpu_ms_median} ms)` : "";
        console.log(
          `${r.name.padEnd(40)} ${r.backend.padEnd(5)} is ${(r.ms_median / p.ms_median).toFixed(2)}x the time of PyTorch's ${p.name} (${p.ms_median} ms)${cpuRatio}`,
        );
      }
    }
  }
  if (out) {
    writeFileSync(out, JSON.stringify({ cases: results }, null, 2) + "\n");
    console.log(`wrote ${out}`);
  }
}

main().catch((e) => {
  console.error(`bench: ${e.message}`);
  process.exit(1);
});
