// A careless learner: every kind of bad argument gets a clear error that names the function, what was
// wrong and what was expected; never a silent NaN, a hang, a raw TypeError, a wasm trap, or a leak. After
// every failed call the backend still computes.
import * as assert from "assert";
import * as tf from "@tensorflow/tfjs";
import { mkdtempSync, readFileSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { createHash } from "crypto";
import {
  setup,
  SelfAttentionV2,
  CausalAttention,
  MultiHeadAttention,
  MultiHeadAttentionWrapper,
  causalMask,
  lowerTriangle,
  attentionScores,
  attentionWeights,
  softmax,
  softmaxNaive,
  contextVectors,
  scaledDotProductAttention,
  dropout,
  Linear,
  normalizeBySum,
  simpleSelfAttention,
  show,
  formatTensor,
  print,
  barChart,
  lineChart,
  heatmap,
  headHeatmaps,
  headView,
  manualSeed,
  loadCorpus,
  Trainer,
  Seq2Seq,
  translateSentence,
  translatePairs,
  loadCheckpoint,
  exampleInputs,
  buildVocabularies,
  encodeAll,
  splitHeads,
  mergeHeads,
  principalComponents,
  LiveLineChart,
  FusedMultiHeadAttention,
  MemoryEfficientAttention,
} from "attention-lib";
import { saveCheckpoint, generatePairs } from "attention-lib/internal";
import { assertThrowsMessage, noLeak, ROOT } from "../helpers";

/** The backend still works: a 6x3 self-attention forward gives finite numbers. */
function backendWorks(): void {
  const x = exampleInputs();
  const sa = new SelfAttentionV2(3, 2);
  const out = sa.forward(x);
  assert.deepStrictEqual(out.shape, [6, 2]);
  assert.ok(Array.from(out.dataSync()).every(Number.isFinite));
  tf.dispose([x, out]);
  sa.dispose();
}

/** fn throws a message matching `pattern`, leaves no tensor behind, and the backend works afterwards. */
function refuses(fn: () => unknown, pattern: RegExp): void {
  noLeak(() => assertThrowsMessage(fn, pattern));
  backendWorks();
}

/** Run fn with its own tensors freed afterwards. */
function withTensors<T>(make: () => tf.Tensor[], fn: (...t: tf.Tensor[]) => T): T {
  const ts = make();
  try {
    return fn(...ts);
  } finally {
    tf.dispose(ts);
  }
}

describe("a careless learner gets clear errors, never NaN, a hang or a broken backend", function () {
  this.timeout(60000);
  before(() => setup({ backend: "wasm", verbose: false }));

  describe("the training loop", () => {
    const pairs = generatePairs(40, 3);
    const vocabs = buildVocabularies(pairs);
    const encoded = encodeAll(pairs, vocabs);
    const model = () => new Seq2Seq({ kind: "plain", srcVocab: vocabs.src.size, tgtVocab: vocabs.tgt.size, embedding: 8, hidden: 8 });

    it("refuses options that would loop forever, train on NaN or run zero steps", () => {
      const m = model();
      const cases: [object, RegExp][] = [
        [{ steps: 5, batchSize: 0 }, /Trainer: batchSize must be a positive integer, got 0/],
        [{ steps: 5, batchSize: -4 }, /Trainer: batchSize must be a positive integer, got -4/],
        [{ steps: 5, learningRate: NaN }, /Trainer: learningRate must be a finite number greater than 0, got NaN/],
        [{ steps: 5, learningRate: -1 }, /Trainer: learningRate must be a finite number greater than 0, got -1/],
        [{}, /Trainer: steps \(how many training steps to run\) must be a positive integer, got undefined/],
        [{ steps: 5, maxSeconds: NaN }, /Trainer: maxSeconds must be a finite number greater than 0, got NaN/],
        [{ steps: 5, clipNorm: 0 }, /Trainer: clipNorm must be a finite number greater than 0, got 0/],
        [{ steps: 5, reportEvery: 0.5 }, /Trainer: reportEvery must be a positive integer, got 0.5/],
      ];
      for (const [options, pattern] of cases) refuses(() => new Trainer(m, encoded, options as never), pattern);
      m.dispose();
    });

    it("refuses token ids outside the model's vocabulary before it starts, and a disposed model", async () => {
      const m = model();
      const bad = [{ src: [4, 9999, 2], tgt: [4, 2] }, ...encoded];
      refuses(() => new Trainer(m, bad, { steps: 2 }), /Trainer: pair 0 has source id 9999, but the model's source vocabulary has \d+ words/);
      refuses(() => new Trainer(m, [], { steps: 2 }), /Trainer: no training pairs/);
      const t = new Trainer(m, encoded, { steps: 2, batchSize: 8 });
      m.dispose();
      const before = tf.memory().numTensors;
      await assert.rejects(t.run(), /Trainer.run: this module was disposed \(its weights were freed\); build a new one/);
      assert.strictEqual(tf.memory().numTensors, before, "a failed run leaks nothing");
      t.dispose();
      refuses(() => new Trainer(m, encoded, { steps: 2 }), /Trainer: this module was disposed/);
    });

    it("a run ends by stop() after the current step, keeps what it learned, and reports it", async () => {
      const m = model();
      const t = new Trainer(m, encoded, {
        steps: 1000,
        batchSize: 8,
        reportEvery: 1,
        onReport: (step) => {
          if (step === 3) t.stop();
        },
      });
      const r = await t.run();
      assert.deepStrictEqual([r.steps, r.stoppedEarly, r.interrupted], [3, true, false]);
      assert.strictEqual(t.step, 3);
      t.dispose();
      m.dispose();
    });
  });

  describe("inputs too large to fit are refused before any work, quickly", () => {
    it("tens of thousands of tokens: self-attention, causal and multi-head modules, masks", () => {
      const long = tf.zeros([20000, 3]);
      const started = Date.now();
      const sa = new SelfAttentionV2(3, 2);
      refuses(
        () => sa.forward(long),
        /attentionScores: the attention scores \[20000, 20000\] would take 1\.5 GiB, more than the 512 MiB one call may use; use fewer tokens/,
      );
      // The causal modules build their mask once, for the context length: too long a context is refused up front.
      refuses(
        () => new CausalAttention(3, 2, 30000),
        /CausalAttention: the causal mask for context_length \[30000, 30000\] would take 3\.4 GiB.*shorter context_length.*notebook 07/,
      );
      refuses(() => new MultiHeadAttention(3, 4, 30000, 0, 2), /MultiHeadAttention: the causal mask for context_length \[30000, 30000\]/);
      const mha = new MultiHeadAttention(3, 4, 8192, 0, 2);
      const twoLong = tf.zeros([2, 8192, 3]);
      refuses(() => mha.forward(twoLong), /MultiHeadAttention: the attention scores \[2, 2, 8192, 8192\] would take 1\.0 GiB.*notebook 07/);
      tf.dispose(twoLong);
      refuses(() => causalMask(20000), /causalMask: a mask \[20000, 20000\] would take 1\.5 GiB/);
      refuses(() => lowerTriangle(20000), /lowerTriangle: a mask \[20000, 20000\] would take 1\.5 GiB/);
      // The score matrix fits, but the readable path holds about 12 of its size at once: 6 GiB, more than wasm has.
      const batch2 = tf.zeros([2, 8192, 3]);
      const ca8k = new CausalAttention(3, 2, 8192);
      refuses(
        () => ca8k.forward(batch2),
        /attentionScores: the attention scores \[2, 8192, 8192\] take 512 MiB, and this computation holds about 12 tensors of that size at once \(6\.0 GiB\), more than the 3\.0 GiB attention may use; use fewer tokens/,
      );
      tf.dispose(batch2);
      ca8k.dispose();
      assert.ok(Date.now() - started < 5000, `refused in ${Date.now() - started} ms`);
      tf.dispose(long);
      [sa, mha].forEach((m) => m.dispose());
    });
  });

  describe("empty, integer and non-finite inputs", () => {
    it("an empty batch, zero tokens, int32 inputs, on wasm", () => {
      const sa = new SelfAttentionV2(3, 2);
      withTensors(
        () => [tf.zeros([0, 6, 3])],
        (x) => refuses(() => sa.forward(x), /SelfAttentionV2: inputs is an empty batch \(shape \[0, 6, 3\]\); expected at least one sequence/),
      );
      withTensors(
        () => [tf.zeros([2, 0, 3])],
        (x) => refuses(() => sa.forward(x), /SelfAttentionV2: inputs is an empty sequence/),
      );
      withTensors(
        () => [tf.ones([6, 3], "int32")],
        (x) =>
          refuses(() => sa.forward(x), /SelfAttentionV2: inputs holds int32 values; expected float32 numbers \(convert with inputs.toFloat\(\)\)/),
      );
      withTensors(
        () => [tf.ones([6, 3], "int32")],
        (x) => refuses(() => simpleSelfAttention(x), /simpleSelfAttention: inputs holds int32 values/),
      );
      sa.dispose();
    });

    it("the function-style API refuses NaN and Infinity instead of returning NaN", () => {
      const nanT = () => [
        tf.tensor2d([
          [1, NaN],
          [0, 1],
        ]),
        tf.tensor2d([
          [1, 0],
          [0, 1],
        ]),
      ];
      withTensors(nanT, (bad, ok) =>
        refuses(() => attentionScores(bad, ok), /attentionScores: queries contains NaN or Infinity; expected finite numbers/),
      );
      withTensors(nanT, (bad, ok) => refuses(() => attentionScores(ok, bad), /attentionScores: keys contains NaN or Infinity/));
      withTensors(nanT, (bad, ok) => refuses(() => contextVectors(ok, bad), /contextVectors: values contains NaN or Infinity/));
      withTensors(nanT, (bad, ok) => refuses(() => scaledDotProductAttention(ok, ok, bad), /contextVectors: values contains NaN/));
      withTensors(nanT, (bad) =>
        refuses(() => softmax(bad), /softmax: scores contains NaN or \+Infinity; expected numbers \(-Infinity marks a masked entry\)/),
      );
      withTensors(nanT, (bad) => refuses(() => attentionWeights(bad), /softmax: scores contains NaN/));
      withTensors(nanT, (bad) => refuses(() => softmaxNaive(bad), /softmaxNaive: scores contains NaN or Infinity/));
      withTensors(nanT, (bad) => refuses(() => dropout(bad, 0.5), /dropout: x contains NaN or Infinity/));
      const lin = new Linear(3, 2);
      withTensors(
        () => [tf.tensor1d([Infinity, 1, 2])],
        (bad) => refuses(() => lin.forward(bad), /Linear: x contains NaN or Infinity/),
      );
      lin.dispose();
      withTensors(
        () => [
          tf.tensor2d([
            [-Infinity, -Infinity],
            [0, 1],
          ]),
        ],
        (s) => refuses(() => softmax(s), /softmax: a row of scores is -Infinity everywhere \(every key masked\)/),
      );
      withTensors(
        () => [
          tf.tensor2d([
            [1, -1],
            [1, 1],
          ]),
        ],
        (s) => refuses(() => normalizeBySum(s), /normalizeBySum: a row of scores sums to 0/),
      );
      withTensors(
        () => [tf.zeros([4, 0]), tf.zeros([4, 3])],
        (qk, v) => refuses(() => scaledDotProductAttention(qk, qk, v), /scaledDotProductAttention: keys have d_k = 0 \(shape \[4, 0\]\)/),
      );
      // -Infinity in scores is a mask, not an error: those weights are exactly 0.
      withTensors(
        () => [tf.tensor1d([0, -Infinity, 0])],
        (s) => {
          const w = softmax(s);
          assert.deepStrictEqual(Array.from(w.dataSync()), [0.5, 0, 0.5]);
          w.dispose();
        },
      );
    });
  });

  describe("disposed modules and tensors", () => {
    it("say so, instead of tfjs's message", () => {
      const ca = new CausalAttention(3, 2, 6);
      ca.dispose();
      withTensors(
        () => [exampleInputs()],
        (x) => refuses(() => ca.forward(x), /CausalAttention: this module was disposed \(its weights were freed\); build a new one/),
      );
      const lin = new Linear(3, 2);
      lin.dispose();
      withTensors(
        () => [exampleInputs()],
        (x) => refuses(() => lin.forward(x), /Linear: this module was disposed/),
      );
      const x = exampleInputs();
      x.dispose();
      refuses(() => softmax(x), /softmax: scores was already disposed/);
      refuses(() => heatmap(x), /heatmap: values was already disposed/);
      refuses(() => splitHeads(x, 2), /splitHeads: x was already disposed/);
      assert.strictEqual(formatTensor(x), "tensor(<disposed>)");
    });
  });

  describe("explain() leaks nothing, with or without a batch axis", () => {
    const modules: [string, () => CausalAttention | MultiHeadAttentionWrapper | MultiHeadAttention][] = [
      ["CausalAttention", () => new CausalAttention(3, 2, 6)],
      ["MultiHeadAttentionWrapper", () => new MultiHeadAttentionWrapper(3, 2, 6, 0, 2)],
      ["MultiHeadAttention", () => new MultiHeadAttention(3, 2, 6, 0, 2)],
    ];
    for (const [name, make] of modules) {
      it(name, () => {
        const m = make();
        for (const x of [exampleInputs(), tf.stack([exampleInputs(), exampleInputs()])]) {
          noLeak(() => tf.dispose(m.explain(x)));
          noLeak(() => tf.dispose(m.forward(x)));
          x.dispose();
        }
        m.dispose();
      });
    }
  });

  describe("plots and printing", () => {
    it("name the function and the argument that is wrong", () => {
      refuses(
        () => show(undefined as never),
        /show: expected a figure made by heatmap\(\), barChart\(\), lineChart\(\), vectorPlot\(\), ... \(an object with data and layout\), got undefined/,
      );
      refuses(() => show({} as never), /show: expected a figure .* got an object without data and layout/);
      refuses(() => formatTensor(undefined as never), /formatTensor: expected a tf.Tensor, got undefined/);
      refuses(() => barChart(undefined as never, [1, 2]), /barChart: labels must be an array of strings \(one per bar\), got undefined/);
      refuses(
        () => barChart(["a", "b"], undefined as never),
        /barChart: expected values \(a 1-D tensor or array\) or \{ name: values \}, got undefined/,
      );
      refuses(() => barChart(["a", "b"], ["x", "y"] as never), /barChart: values must hold numbers, but entry 0 is the string "x"/);
      refuses(
        () => heatmap([1, 2, 3] as never),
        /heatmap: values must be 2-D \[rows, columns\], but row 0 is the number 1 \(for one row of numbers, wrap it: \[values\]\)/,
      );
      refuses(() => heatmap(undefined as never), /heatmap: values must be a non-empty 2-D array or tensor \[rows, columns\], got undefined/);
      refuses(() => lineChart([{ name: "a", y: undefined as never }]), /lineChart: .*must be a 1-D tensor or an array of numbers, got undefined/);
      const w = tf.ones([2, 3, 3]);
      refuses(() => headHeatmaps(w, undefined as never), /headHeatmaps: tokens must be an array of strings \(one label per token\), got undefined/);
      refuses(() => headView(w, undefined as never), /headView: tokens must be an array of strings/);
      w.dispose();
      withTensors(
        () => [tf.scalar(1)],
        (one) => refuses(() => formatTensor(one, { precision: 200 }), /formatTensor: precision must be an integer from 0 to 16, got 200/),
      );
    });

    it("large inputs do not overflow the stack: a 400x400 heatmap with zmax, printing with threshold Infinity", () => {
      const big = tf.randomUniform([400, 400], 0, 1, "float32", 1);
      const fig = heatmap(big, { zmax: 1 });
      const trace = fig.data[0] as { zmin: number; zmax: number };
      assert.ok(trace.zmin >= 0 && trace.zmin < 0.01 && trace.zmax === 1, `zmin ${trace.zmin}, zmax ${trace.zmax}`);
      const text = formatTensor(big, { threshold: Infinity });
      assert.ok(!text.includes("..."), "nothing summarised");
      assert.strictEqual(text.match(/\d\.\d{4}/g)!.length, 160000, "every value printed");
      big.dispose();
    });

    it("print() of values of any kind does not throw", () => {
      const lines: string[] = [];
      const log = console.log;
      console.log = (s: string) => lines.push(s);
      try {
        print(undefined, null, { a: 1 }, [1, 2]);
      } finally {
        console.log = log;
      }
      assert.strictEqual(lines[0], "undefined null { a: 1 } [ 1, 2 ]");
    });

    it("manualSeed refuses seeds JavaScript cannot hold exactly", () => {
      refuses(
        () => manualSeed(2 ** 64),
        /manualSeed: the seed must be an integer from 0 to 2\^53 - 1, got 18446744073709552000 \(integers above 2\^53 - 1 lose digits/,
      );
      refuses(() => manualSeed(1.5), /manualSeed: the seed must be an integer from 0 to 2\^53 - 1, got 1.5$/);
    });
  });

  describe("files", () => {
    it("a corpus saved with Windows line endings reads the same", () => {
      const dir = mkdtempSync(join(tmpdir(), "crlf-"));
      for (const split of ["train", "valid", "test"])
        writeFileSync(join(dir, `${split}.tsv`), "the cat sleeps .\tle chat dort .\r\na dog runs .\tun chien court .\r\n");
      const corpus = loadCorpus(dir);
      assert.deepStrictEqual(corpus.train[1], { en: "a dog runs .", fr: "un chien court ." });
      assert.ok(!JSON.stringify(corpus).includes("\\r"));
    });

    describe("checkpoints are checked, and a failed load says which file and how to restore it", () => {
      const pairs = generatePairs(30, 9);
      const vocabs = buildVocabularies(pairs);
      let dir = "";
      let base = "";
      const json = () => readFileSync(`${base}.json`, "utf8");
      const bin = () => readFileSync(`${base}.bin`);
      let goodJson = "";
      let goodBin: Buffer = Buffer.alloc(0);
      const restoreHint =
        /Restore the committed checkpoints with `git checkout -- data\/checkpoints`, or retrain them with `npm run length-experiment`/;

      before(() => {
        dir = mkdtempSync(join(tmpdir(), "ckpt-"));
        base = join(dir, "m");
        const m = new Seq2Seq({ kind: "bahdanau", srcVocab: vocabs.src.size, tgtVocab: vocabs.tgt.size, embedding: 8, hidden: 16, seed: 4 });
        saveCheckpoint(base, m, vocabs, { steps: 0 });
        m.dispose();
        goodJson = json();
        goodBin = bin();
      });
      afterEach(() => {
        writeFileSync(`${base}.json`, goodJson);
        writeFileSync(`${base}.bin`, goodBin);
      });

      const damaged: [string, () => void, RegExp][] = [
        [
          "random bytes of the right size",
          () => writeFileSync(`${base}.bin`, Buffer.from(goodBin.map((_, i) => (i * 7919 + 13) & 255))),
          /m\.bin does not match the SHA-256 in its manifest/,
        ],
        [
          "a truncated .bin",
          () => writeFileSync(`${base}.bin`, goodBin.subarray(0, 1000)),
          /m\.bin has 1000 bytes; its manifest says \d+ \(a truncated or replaced file\)/,
        ],
        ["a truncated .json", () => writeFileSync(`${base}.json`, goodJson.slice(0, 200)), /m\.json is not valid JSON/],
        [
          "a vocabulary shorter than the config",
          () => {
            const m = JSON.parse(goodJson);
            m.vocabs.tgt = m.vocabs.tgt.slice(0, -3);
            writeFileSync(`${base}.json`, JSON.stringify(m));
          },
          /m\.json has vocabularies of \d+ and \d+ words, but its config says/,
        ],
        [
          "an older format",
          () => writeFileSync(`${base}.json`, goodJson.replace("attention-course-seq2seq/2", "attention-course-seq2seq/1")),
          /m\.json has format "attention-course-seq2seq\/1"; this course reads attention-course-seq2seq\/2/,
        ],
        [
          "a parameter missing from the manifest",
          () => {
            const m = JSON.parse(goodJson);
            m.parameters = m.parameters.filter((p: { name: string }) => p.name !== "v");
            writeFileSync(`${base}.json`, JSON.stringify(m));
          },
          /m\.json lists the parameters \[.*\]; a 'bahdanau' model has \[.*\bv\b.*\]/,
        ],
        [
          "NaN among the weights (with a matching checksum)",
          () => {
            const f = new Float32Array(goodBin.buffer.slice(goodBin.byteOffset, goodBin.byteOffset + goodBin.byteLength));
            f[5] = NaN;
            const m = JSON.parse(goodJson);
            m.bin.sha256 = createHash("sha256").update(new Uint8Array(f.buffer)).digest("hex");
            writeFileSync(`${base}.bin`, new Uint8Array(f.buffer));
            writeFileSync(`${base}.json`, JSON.stringify(m));
          },
          /m\.bin holds NaN or Infinity among its weights/,
        ],
        ["a missing .bin", () => writeFileSync(join(dir, "other.json"), goodJson), /other\.bin is missing/],
      ];
      for (const [what, damage, pattern] of damaged) {
        it(what, () => {
          damage();
          const target = what === "a missing .bin" ? join(dir, "other") : base;
          refuses(() => loadCheckpoint(target), pattern);
          refuses(() => loadCheckpoint(target), restoreHint);
        });
      }

      it("an intact one loads, and translating with a disposed model or the wrong vocabularies is refused without a leak", () => {
        const ck = loadCheckpoint(base);
        const other = buildVocabularies(generatePairs(200, 2));
        refuses(
          () => translateSentence(ck.model, other, "the cat sleeps ."),
          /translatePairs: the vocabularies have \d+ and \d+ words, but the model was built for/,
        );
        ck.model.dispose();
        refuses(() => translateSentence(ck.model, ck.vocabs, "the cat sleeps ."), /translatePairs: this module was disposed/);
        refuses(() => translatePairs(ck.model, ck.vocabs, undefined as never), /translatePairs: this module was disposed/);
      });

      it("the committed checkpoints carry their checksums and load", () => {
        for (const [name, parameters] of [
          ["rnn", 12],
          ["attention", 15],
        ] as const) {
          const ck = noLeak(() => loadCheckpoint(join(ROOT, "data", "checkpoints", name)), parameters);
          ck.model.dispose();
        }
      });
    });
  });

  describe("what still passed silently (issue 19): every refusal names the function, leaks nothing, leaves the backend working", () => {
    it("NaN and Infinity in the data of every figure builder, the live chart and principalComponents", () => {
      const nan = [0.1, NaN, 0.3];
      refuses(
        () =>
          heatmap([
            [1, 2],
            [3, Infinity],
          ]),
        /^heatmap: values holds Infinity at row 1, column 1; expected finite numbers/,
      );
      withTensors(
        () => [tf.tensor2d([[1, NaN]])],
        (t) => refuses(() => heatmap(t), /^heatmap: values holds NaN at entry 1; expected finite numbers/),
      );
      refuses(() => barChart(["a", "b", "c"], nan), /^barChart: values holds NaN at entry 1/);
      refuses(() => lineChart([{ name: "loss", y: [1, -Infinity] }]), /^lineChart: line 'loss' y holds -Infinity at entry 1/);
      refuses(() => lineChart([{ name: "loss", x: [0, NaN], y: [1, 2] }]), /^lineChart: line 'loss' x holds NaN at entry 1/);
      // A gap is written null (plotly draws no point there), never NaN.
      assert.deepStrictEqual(lineChart([{ name: "w", y: [0.5, 0.2, null, null] }]).data[0].y, [0.5, 0.2, null, null]);
      refuses(() => lineChart([{ name: "w", y: [0.5, NaN, null] }]), /^lineChart: line 'w' y \(apart from its gaps\) holds NaN at entry 1/);
      refuses(
        () =>
          headHeatmaps(
            [
              [
                [1, 0],
                [0.5, NaN],
              ],
            ],
            ["a", "b"],
          ),
        /^headHeatmaps: the weights of head 0 holds NaN at row 1, column 1/,
      );
      withTensors(
        () => [
          tf.tensor3d([
            [
              [1, 0],
              [Infinity, 0],
            ],
          ]),
        ],
        (t) => refuses(() => headView(t, ["a", "b"]), /^headView: the weights of head 0 holds Infinity at row 1, column 0/),
      );
      refuses(
        () =>
          principalComponents([
            [1, 2],
            [3, NaN],
            [0, 1],
          ]),
        /^principalComponents: x holds NaN at row 1, column 1/,
      );
      const chart = new LiveLineChart(["loss"]);
      refuses(() => chart.push("loss", 1, NaN), /^LiveLineChart\.push: the point \(1, NaN\) of line 'loss' is not two finite numbers/);
      refuses(() => chart.push("loss", "2" as unknown as number, 1), /^LiveLineChart\.push: the point \(2, 1\)/);
      assert.deepStrictEqual(chart.points, { loss: { x: [], y: [] } }, "a refused point is not kept");
    });

    it("Seq2Seq: no config, token ids outside the vocabulary, float32 ids, a rank-1 source, a mismatched mask", () => {
      refuses(
        () => new (Seq2Seq as unknown as new () => Seq2Seq)(),
        /^Seq2Seq: expected a config \{ kind: "plain" \| "bahdanau", srcVocab, tgtVocab, embedding, hidden \}, got undefined$/,
      );
      const m = new Seq2Seq({ kind: "bahdanau", srcVocab: 10, tgtVocab: 12, embedding: 4, hidden: 4 });
      try {
        const src = (ids: number[][], dtype: "int32" | "float32" = "int32") => tf.tensor2d(ids, [ids.length, ids[0].length], dtype);
        const cases: [() => tf.Tensor[], RegExp][] = [
          [
            () => [src([[3, 10, 2]]), tf.ones([1, 3])],
            /^Seq2Seq\.translate: src holds the id 10, outside the vocabulary's ids 0\.\.9; encode the words with the model's vocabulary$/,
          ],
          [() => [src([[3, -1, 2]]), tf.ones([1, 3])], /^Seq2Seq\.translate: src holds the id -1, outside/],
          [() => [src([[3, 4, 2]], "float32"), tf.ones([1, 3])], /^Seq2Seq\.translate: src holds float32 values; expected int32 token ids/],
          [
            () => [tf.tensor1d([3, 4, 2], "int32"), tf.ones([3])],
            /^Seq2Seq\.translate: src must have rank 2 \(\[batch, tokens\]\), got shape \[3\]$/,
          ],
          [
            () => [src([[3, 4, 2]]), tf.ones([1, 2])],
            /^Seq2Seq\.translate: srcMask has shape \[1, 2\], src \[1, 3\]; expected one mask value per source token$/,
          ],
        ];
        for (const [make, pattern] of cases)
          withTensors(make, (s, mask) => refuses(() => m.translate(s as tf.Tensor2D, mask as tf.Tensor2D), pattern));
        withTensors(
          () => [src([[3, 4, 2]]), tf.ones([1, 3]), src([[1, 12]])],
          (s, mask, tgtIn) =>
            refuses(
              () => m.forward({ src: s as tf.Tensor2D, srcMask: mask as tf.Tensor2D, tgtIn: tgtIn as tf.Tensor2D }),
              /^Seq2Seq\.forward: tgtIn holds the id 12, outside the vocabulary's ids 0\.\.11/,
            ),
        );
        // In range, it translates.
        withTensors(
          () => [src([[3, 9, 2]]), tf.ones([1, 3])],
          (s, mask) => assert.strictEqual(m.translate(s as tf.Tensor2D, mask as tf.Tensor2D, { maxLen: 3 }).ids.length, 1),
        );
      } finally {
        m.dispose();
      }
    });

    it("numbers and switches given as strings: dropout rates, sizes, causal and qkvBias", () => {
      refuses(
        () => new CausalAttention(3, 2, 6, "0.5" as unknown as number),
        /^CausalAttention: dropout must be in \[0, 1\), got the string "0\.5"$/,
      );
      refuses(
        () => new MultiHeadAttention(3, 2, 6, "0" as unknown as number, 2),
        /^MultiHeadAttention: dropout must be in \[0, 1\), got the string "0"$/,
      );
      refuses(
        () => new MultiHeadAttentionWrapper(3, 2, 6, "0.1" as unknown as number, 2),
        /^MultiHeadAttentionWrapper: dropout must be in \[0, 1\), got the string "0\.1"$/,
      );
      refuses(
        () => new FusedMultiHeadAttention(4, 4, 8, "0.1" as unknown as number, 2),
        /^FusedMultiHeadAttention: dropout must be in \[0, 1\), got the string "0\.1"$/,
      );
      refuses(() => new CausalAttention("3" as unknown as number, 2, 6), /^CausalAttention: d_in must be a positive integer, got the string "3"$/);
      refuses(
        () => new CausalAttention(3, 2, 6, 0, { causal: "false" as unknown as boolean }),
        /^CausalAttention: the option causal must be true or false, got the string "false"$/,
      );
      refuses(
        () => new MultiHeadAttention(3, 2, 6, 0, 2, { qkvBias: "true" as unknown as boolean }),
        /^MultiHeadAttention: the option qkvBias must be true or false, got the string "true"$/,
      );
      refuses(() => new MultiHeadAttention(3, 5, 6, 0, 2), /^MultiHeadAttention: d_out = 5 is not divisible by num_heads = 2/); // no mask left behind
      refuses(
        () => new MemoryEfficientAttention(4, 4, 8, 0, 2, { causal: 1 as unknown as boolean }),
        /^MemoryEfficientAttention: the option causal must be true or false, got 1$/,
      );
      withTensors(
        () => [tf.ones([2, 3])],
        (x) => refuses(() => dropout(x, "0.5" as unknown as number), /^dropout: the drop probability p must be in \[0, 1\), got the string "0\.5"$/),
      );
    });

    it("empty tensors: splitHeads and mergeHeads of an empty batch, softmax of [0, 3]", () => {
      withTensors(
        () => [tf.zeros([0, 6, 4])],
        (x) =>
          refuses(() => splitHeads(x, 2), /^splitHeads: x is empty \(shape \[0, 6, 4\]\); expected at least one sequence of at least one token$/),
      );
      withTensors(
        () => [tf.zeros([2, 0, 4])],
        (x) => refuses(() => splitHeads(x, 2), /^splitHeads: x is empty/),
      );
      withTensors(
        () => [tf.zeros([0, 2, 6, 2])],
        (x) => refuses(() => mergeHeads(x), /^mergeHeads: x is empty/),
      );
      for (const f of [softmax, softmaxNaive, normalizeBySum]) {
        withTensors(
          () => [tf.zeros([0, 3])],
          (x) => refuses(() => f(x), new RegExp(`^${f.name}: scores are empty \\(shape \\[0, 3\\]\\); expected at least one row of scores$`)),
        );
      }
    });
  });

  describe("inputs are checked once, where they come in", () => {
    /** How many times fn reads a tensor back (dataSync, arraySync, dataSync-based checks). */
    function readsDuring(fn: () => void): number {
      const proto = tf.Tensor.prototype as unknown as { dataSync: () => unknown };
      const original = proto.dataSync;
      let reads = 0;
      proto.dataSync = function (this: tf.Tensor) {
        reads++;
        return original.call(this);
      };
      try {
        fn();
      } finally {
        proto.dataSync = original;
      }
      return reads;
    }

    for (const [name, make] of [
      ["CausalAttention", () => new CausalAttention(3, 2, 6, 0.5)],
      ["MultiHeadAttentionWrapper", () => new MultiHeadAttentionWrapper(3, 2, 6, 0.5, 2)],
      ["MultiHeadAttention", () => new MultiHeadAttention(3, 2, 6, 0.5, 2)],
      ["FusedMultiHeadAttention", () => new FusedMultiHeadAttention(3, 2, 6, 0, 2)],
      ["MemoryEfficientAttention", () => new MemoryEfficientAttention(3, 2, 6, 0, 2)],
    ] as const) {
      it(`${name}.forward reads its input's values once (the finiteness check), however many inner steps check`, () => {
        const m = make();
        const x = tf.stack([exampleInputs(), exampleInputs()]);
        try {
          let y: tf.Tensor | undefined;
          assert.strictEqual(
            readsDuring(() => (y = m.forward(x))),
            1,
          );
          y!.dispose();
          // The check still refuses a bad input where it comes in, and the inner checks are back on afterwards.
          withTensors(
            () => [tf.fill([2, 6, 3], NaN)],
            (bad) => refuses(() => m.forward(bad), new RegExp(`^${name}: inputs contains NaN or Infinity`)),
          );
          withTensors(
            () => [tf.tensor2d([[NaN, 1]])],
            (bad) => refuses(() => softmax(bad), /^softmax: scores contains NaN/),
          );
        } finally {
          x.dispose();
          m.dispose();
        }
      });
    }
  });
});
