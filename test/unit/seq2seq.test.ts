import * as assert from "assert";
import * as tf from "@tensorflow/tfjs";
import { mkdtempSync, readFileSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { createHash } from "crypto";
import {
  Generator,
  Seq2Seq,
  Trainer,
  Vocabulary,
  buildVocabularies,
  corpusBleu,
  encodeAll,
  loadCheckpoint,
  loadCorpus,
  longSentences,
  scoreByLength,
  setup,
  translatePairs,
  translateSentence,
} from "attention-lib";
import {
  Embedding,
  GRU,
  TESTED_TFJS,
  clipByGlobalNorm,
  encodePair,
  fastForward,
  generateCorpus,
  generatePairs,
  makeBatch,
  makeBatches,
  maskedCrossEntropy,
  saveCheckpoint,
  toTensors,
  tokenAccuracy,
  trainStep,
  withFastKernels,
} from "attention-lib/internal";
import { data, ROOT, assertClose, assertThrowsMessage, checkGradients, noLeak, refuses, withTensors } from "../helpers";

describe("seq2seq translators (notebooks 01 and 02)", function () {
  this.timeout(120000);
  before(() => setup({ backend: "wasm", verbose: false }));

  describe("corpus", () => {
    it("is deterministic: the same seed gives the same sentences, and the committed files are what the grammar makes", () => {
      const a = generatePairs(50, 3);
      assert.deepStrictEqual(generatePairs(50, 3), a);
      assert.notDeepStrictEqual(generatePairs(50, 4), a);
      const committed = loadCorpus(join(ROOT, "data", "corpus"));
      const regenerated = generateCorpus();
      for (const split of ["train", "valid", "test"] as const) {
        assert.strictEqual(committed[split].length, regenerated[split].length, split);
        assert.ok(
          committed[split].every((p, i) => p.en === regenerated[split][i].en && p.fr === regenerated[split][i].fr),
          `${split} differs`,
        );
      }
      const inTest = new Set(committed.test.map((p) => p.en));
      assert.ok(
        committed.train.every((p) => !inTest.has(p.en)),
        "no test sentence is in train",
      );
    });

    it("puts French adjectives after the noun and makes them agree; lengths run from 4 to 45+", () => {
      const pairs = generatePairs(3000, 5);
      const withRed = pairs.find((p) => / the red song /.test(` ${p.en} `));
      assert.ok(withRed, "some sentence says 'the red song'");
      assert.match(withRed!.fr, /la chanson rouge/);
      const white = pairs.find((p) => /\bwhite flowers\b/.test(p.en));
      assert.match(white!.fr, /fleurs blanches/);
      const lens = pairs.map((p) => p.en.split(" ").length);
      assert.ok(Math.min(...lens) <= 5 && Math.max(...lens) >= 45, `lengths ${Math.min(...lens)}..${Math.max(...lens)}`);
    });
  });

  describe("careless corpus helpers", () => {
    const pairs = [
      { en: "the cat sleeps .", fr: "le chat dort ." },
      { en: "a dog runs .", fr: "un chien court ." },
    ];
    const t = (source: string) => ({ source, reference: "le chat", output: "le chat", attention: null });
    it("buildVocabularies, encodeAll and longSentences refuse what is not sentence pairs, no pairs, and a count that is not a positive integer", () => {
      const cases: [() => unknown, RegExp][] = [
        [() => buildVocabularies([]), /^buildVocabularies: no sentence pairs; expected the training pairs \(corpus\.train\)/],
        [
          () => buildVocabularies(3 as never),
          /^buildVocabularies: train must be an array of \{ en, fr \} sentence pairs \(e\.g\. corpus\.train\), got 3$/,
        ],
        [
          () => buildVocabularies([{ source: "a", target: "b" }] as never),
          /^buildVocabularies: pair 0 of train must be \{ en, fr \} with two strings, got \{"source":"a","target":"b"\}$/,
        ],
        [() => encodeAll(3 as never, buildVocabularies(pairs)), /^encodeAll: pairs must be an array of \{ en, fr \}/],
        [() => encodeAll(pairs, undefined as never), /^encodeAll: vocabs must be \{ src, tgt \} vocabularies/],
        [() => longSentences(pairs, 0), /^longSentences: count must be a positive integer, got 0$/],
        [() => longSentences(pairs, -1), /^longSentences: count must be a positive integer, got -1$/],
        [() => longSentences(pairs, 1.5), /^longSentences: count must be a positive integer, got 1\.5$/],
        [() => longSentences(pairs, "5" as never), /^longSentences: count must be a positive integer, got the string "5"$/],
        [() => longSentences([], 1), /^longSentences: no training pairs; expected corpus\.train/],
        [() => longSentences([null] as never, 1), /^longSentences: pair 0 of train must be \{ en, fr \} with two strings, got null$/],
        [
          () => Vocabulary.fromSentences("a b" as never),
          /^Vocabulary\.fromSentences: expected an array of sentences, got one string \(wrap it: \[sentence\]\)$/,
        ],
        [() => loadCorpus("/nonexistent-corpus"), /^loadCorpus: corpus file not found: \/nonexistent-corpus\/train\.tsv\. Regenerate the corpus/],
        [() => loadCorpus(3 as never), /^loadCorpus: dir must be the corpus folder's path \(a string\), got 3$/],
      ];
      for (const [call, pattern] of cases) refuses(call, pattern);
      const long = longSentences(pairs, 2);
      assert.strictEqual(long.length, 2);
      assert.ok(long.every((p) => p.en.split(" ").length > 4));
    });

    it("scoreByLength refuses buckets that are inverted, not whole numbers >= 1 or not pairs, and translations of another shape", () => {
      const cases: [() => unknown, RegExp][] = [
        [() => scoreByLength([t("a b")], [[5, 1]]), /^scoreByLength: bucket 0 \[5, 1\] is inverted; expected min <= max \(both inclusive\)$/],
        [
          () =>
            scoreByLength(
              [],
              [
                [1, 9],
                [0.5, 3],
              ],
            ),
          /^scoreByLength: bucket 1 must be \[min, max\], two whole numbers of tokens >= 1, got \[0\.5, 3\]$/,
        ],
        [() => scoreByLength([], [[NaN, 3]]), /^scoreByLength: bucket 0 must be .*, got \[NaN, 3\]$/],
        [() => scoreByLength([], [[0, 3]]), /^scoreByLength: bucket 0 must be .*, got \[0, 3\]$/],
        [() => scoreByLength([], [[1]] as never), /^scoreByLength: bucket 0 must be .*, got \[1\]$/],
        [() => scoreByLength([], []), /^scoreByLength: buckets must be a non-empty array of \[min, max\] lengths like LENGTH_BUCKETS, got \[\]$/],
        [() => scoreByLength([], 3 as never), /^scoreByLength: buckets must be .*, got 3$/],
        [
          () => scoreByLength(3 as never, [[1, 9]]),
          /^scoreByLength: translations must be an array of \{ source, reference, output \} \(from translatePairs\), got 3$/,
        ],
        [
          () => scoreByLength([{ source: "a" }] as never, [[1, 9]]),
          /^scoreByLength: translation 0 must be \{ source, reference, output \} with strings/,
        ],
      ];
      for (const [call, pattern] of cases) refuses(call, pattern);
      // A one-length bucket is fine; an empty bucket scores 0 with n = 0.
      assert.deepStrictEqual(
        scoreByLength(
          [t("a b"), t("a b c")],
          [
            [2, 2],
            [5, 9],
          ],
        ),
        [
          { min_len: 2, max_len: 2, n: 1, bleu: 0, accuracy: 1 },
          { min_len: 5, max_len: 9, n: 0, bleu: 0, accuracy: 0 },
        ],
      );
    });
  });

  describe("vocabulary and batches", () => {
    const vocab = Vocabulary.fromSentences(["the cat sleeps .", "a dog runs ."]);
    it("maps unknown words to <unk>, decodes up to <eos>, and rejects empty input", () => {
      assert.deepStrictEqual(vocab.tokens.slice(0, 6), ["<pad>", "<bos>", "<eos>", "<unk>", "the", "cat"]);
      assert.deepStrictEqual(vocab.encode("The zebra sleeps."), [4, 3, 6, 7]);
      assert.deepStrictEqual(vocab.unknownWords("the zebra sleeps ."), ["zebra"]);
      assert.deepStrictEqual(vocab.decode([1, 4, 5, 2, 6]), ["the", "cat"]);
      assertThrowsMessage(() => vocab.encode("   "), /Vocabulary.encode: the sentence is empty; expected at least one word/);
    });

    it("pads to the longest sentence with masks; the decoder reads <bos> + the reference shifted by one", () => {
      const b = makeBatch([encodePair(vocab, vocab, "the cat sleeps .", "a dog ."), encodePair(vocab, vocab, "a dog .", "the cat sleeps .")]);
      assert.deepStrictEqual([b.size, b.srcLen, b.tgtLen], [2, 5, 5]);
      assert.deepStrictEqual(Array.from(b.srcMask), [1, 1, 1, 1, 1, 1, 1, 1, 1, 0]);
      assert.deepStrictEqual(Array.from(b.tgtIn.slice(0, 5)), [1, 8, 9, 7, 0]);
      assert.deepStrictEqual(Array.from(b.tgtOut.slice(0, 5)), [8, 9, 7, 2, 0]);
      const batches = makeBatches(
        Array.from({ length: 10 }, () => encodePair(vocab, vocab, "the cat .", "a dog .")),
        4,
        new Generator(1),
      );
      assert.deepStrictEqual(batches.map((x) => x.size).sort(), [2, 4, 4]);
    });
  });

  describe("models", () => {
    const cfg = { srcVocab: 12, tgtVocab: 10, embedding: 6, hidden: 8, attention: 5, seed: 3 };
    const batchOf = () =>
      makeBatch([
        { src: [4, 5, 6, 7, 2], tgt: [4, 5, 2] },
        { src: [8, 9, 2], tgt: [6, 7, 8, 2] },
      ]);

    it("give logits [B, T, V]; Bahdanau's attention [B, T, S] is 0 on padding and sums to 1", () => {
      for (const kind of ["plain", "bahdanau"] as const) {
        const m = new Seq2Seq({ kind, ...cfg });
        const t = toTensors(batchOf());
        const out = noLeak(() => m.forward(t), kind === "bahdanau" ? 2 : 1);
        assert.deepStrictEqual(out.logits.shape, [2, 4, 10]);
        if (kind === "bahdanau") {
          assert.deepStrictEqual(out.attention!.shape, [2, 4, 5]);
          const w = out.attention!.arraySync() as number[][][];
          for (const row of w[1]) {
            assert.deepStrictEqual(row.slice(3), [0, 0], "padding gets exactly zero weight");
            assert.ok(Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-5);
          }
        } else assert.strictEqual(out.attention, undefined);
        tf.dispose([out.logits, out.attention ?? [], t]);
        m.dispose();
      }
    });

    for (const backend of ["wasm", "cpu"] as const) {
      it(`the fast training path equals the readable model on ${backend}: outputs and gradients within 1e-5`, async () => {
        await setup({ backend, verbose: false });
        try {
          for (const kind of ["plain", "bahdanau"] as const) {
            const m = new Seq2Seq({ kind, ...cfg });
            const t = toTensors(batchOf());
            const fast = fastForward(m, t);
            const slow = m.forward(t);
            assertClose(data(fast.logits), data(slow.logits), 1e-5, `${kind} logits`);
            if (kind === "bahdanau") assertClose(data(fast.attention!), data(slow.attention!), 1e-5, "attention");
            const r = tf.randomUniform(fast.logits.shape, -1, 1, "float32", 3);
            const gFast = withFastKernels(
              () => tf.variableGrads(() => tf.sum(tf.mul(fastForward(m, t).logits, r)) as tf.Scalar, m.parameters()).grads,
            );
            const gSlow = tf.variableGrads(() => tf.sum(tf.mul(m.forward(t).logits, r)) as tf.Scalar, m.parameters()).grads;
            for (const p of m.parameters()) assertClose(data(gFast[p.name]), data(gSlow[p.name]), 1e-5, `${kind} gradient of ${p.name}`);
            tf.dispose([fast.logits, fast.attention ?? [], slow.logits, slow.attention ?? [], r, gFast, gSlow, t]);
            m.dispose();
          }
        } finally {
          await setup({ backend: "wasm", verbose: false });
        }
      });
    }

    it("the fast path's kernels are in place only while it runs, and it is tested against this tfjs", () => {
      assert.strictEqual(tf.version.tfjs, TESTED_TFJS, "tfjs changed: re-run the fast path's equality tests, then update TESTED_TFJS");
      const stock = ["Slice", "Unpack", "SplitV", "GatherV2", "Sum", "BatchMatMul"].map((k) => tf.getKernel(k, "wasm")!.kernelFunc);
      const m = new Seq2Seq({ kind: "bahdanau", ...cfg });
      const t = toTensors(batchOf());
      const opt = tf.train.adam(1e-2);
      let inside: unknown[] = [];
      withFastKernels(() => {
        inside = ["Slice", "Unpack", "SplitV", "GatherV2", "Sum", "BatchMatMul"].map((k) => tf.getKernel(k, "wasm")!.kernelFunc);
        assert.ok(tf.getKernel("UnsortedSegmentSum", "wasm"), "the gradient of gather has a kernel inside");
      });
      inside.forEach((f, i) => assert.notStrictEqual(f, stock[i], "replaced inside"));
      trainStep(m, opt, t).dispose();
      assert.throws(
        () =>
          withFastKernels(() => {
            throw new Error("boom");
          }),
        /boom/,
      );
      const after = ["Slice", "Unpack", "SplitV", "GatherV2", "Sum", "BatchMatMul"].map((k) => tf.getKernel(k, "wasm")!.kernelFunc);
      after.forEach((f, i) => assert.strictEqual(f, stock[i], "the stock kernel is back, also after a throw"));
      assert.strictEqual(tf.getKernel("UnsortedSegmentSum", "wasm"), undefined);
      tf.dispose(t);
      opt.dispose();
      m.dispose();
    });

    it("trains through the readable model too (fast: false), to the same loss as the fast path", () => {
      const t = toTensors(batchOf());
      const losses = [true, false].map((fast) => {
        const m = new Seq2Seq({ kind: "bahdanau", ...cfg });
        const opt = tf.train.adam(1e-2);
        for (let i = 0; i < 5; i++) trainStep(m, opt, t, { fast }).dispose();
        const l = m.loss(t);
        const v = l.dataSync()[0];
        tf.dispose([l]);
        opt.dispose();
        m.dispose();
        return v;
      });
      assert.ok(Math.abs(losses[0] - losses[1]) < 1e-4, `fast ${losses[0]} vs readable ${losses[1]}`);
      tf.dispose(t);
    });

    it("the masked loss ignores padded target positions", () => {
      const logits = tf.tensor3d([
        [
          [2, 0, 0],
          [0, 2, 0],
        ],
      ]);
      const targets = tf.tensor2d([[0, 2]], [1, 2], "int32");
      const full = maskedCrossEntropy(logits, targets, tf.tensor2d([[1, 1]]));
      const first = maskedCrossEntropy(logits, targets, tf.tensor2d([[1, 0]]));
      const ce0 = -Math.log(Math.exp(2) / (Math.exp(2) + 2));
      const ce1 = -Math.log(1 / (Math.exp(2) + 2));
      assertClose(data(first), [ce0], 1e-5);
      assertClose(data(full), [(ce0 + ce1) / 2], 1e-5);
      tf.dispose([logits, targets, full, first]);
    });

    it("finite-difference gradient check of the GRU and of the attention decoder", async () => {
      await setup({ backend: "cpu", verbose: false });
      try {
        const gen = new Generator(5);
        const gru = new GRU(3, 4, gen);
        const x = tf.tensor3d(
          Array.from({ length: 2 * 5 * 3 }, (_, i) => Math.sin(i)),
          [2, 5, 3],
        );
        const h0 = tf.tensor2d(
          Array.from({ length: 8 }, (_, i) => Math.cos(i) / 2),
          [2, 4],
        );
        const mask = tf.tensor2d([
          [1, 1, 1, 1, 1],
          [1, 1, 1, 0, 0],
        ]);
        const r = tf.tensor3d(
          Array.from({ length: 40 }, (_, i) => Math.cos(3 * i)),
          [2, 5, 4],
        );
        checkGradients(() => tf.sum(tf.mul(gru.run(x, h0, mask).states, r)) as tf.Scalar, gru.parameters(), "GRU");
        const m = new Seq2Seq({ kind: "bahdanau", ...cfg });
        const t = toTensors(batchOf());
        checkGradients(() => m.loss(t), m.parameters(), "Bahdanau");
        tf.dispose([x, h0, mask, r, t]);
        gru.dispose();
        m.dispose();
      } finally {
        await setup({ backend: "wasm", verbose: false });
      }
    });

    it("one training step lowers the loss, leaks nothing, and repeated steps learn a tiny task", () => {
      const m = new Seq2Seq({ kind: "bahdanau", ...cfg });
      const opt = tf.train.adam(0.05);
      const t = toTensors(batchOf());
      const first = trainStep(m, opt, t);
      const l0 = data(first)[0];
      first.dispose();
      const second = noLeak(() => trainStep(m, opt, t), 1);
      second.dispose();
      for (let i = 0; i < 40; i++) trainStep(m, opt, t).dispose();
      const after = m.loss(t);
      assert.ok(data(after)[0] < l0 / 4, `loss ${l0} -> ${data(after)[0]}`);
      tf.dispose([after, t]);
      opt.dispose();
      m.dispose();
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

    it("Seq2Seq: an empty batch or sentence, a mask that hides a whole sentence or is not 0/1, bad translate options", () => {
      const m = new Seq2Seq({ kind: "bahdanau", srcVocab: 10, tgtVocab: 12, embedding: 4, hidden: 4 });
      try {
        const ids = (rows: number[][], width = rows[0].length) => tf.tensor2d(rows.flat(), [rows.length, width], "int32");
        const sources: [string, () => tf.Tensor[], RegExp][] = [
          ["a batch of 0", () => [ids([], 3), tf.zeros([0, 3])], /src is an empty batch \(shape \[0, 3\]\); expected at least one sentence$/],
          ["0 tokens", () => [ids([[]], 0), tf.zeros([1, 0])], /src has no tokens \(shape \[1, 0\]\); expected at least one token per sentence$/],
          [
            "an all-zero mask row",
            () => [
              ids([
                [3, 4],
                [5, 6],
              ]),
              tf.tensor2d([
                [1, 1],
                [0, 0],
              ]),
            ],
            /srcMask hides every token of sentence 1; expected at least one 1 in each sentence$/,
          ],
          ["a mask of 2", () => [ids([[3, 4]]), tf.tensor2d([[1, 2]])], /srcMask holds 2; expected only 1 \(keep\) and 0 \(hide\)$/],
          ["a NaN mask", () => [ids([[3, 4]]), tf.tensor2d([[NaN, 1]])], /srcMask holds NaN; expected only 1/],
        ];
        for (const [, make, pattern] of sources) {
          withTensors(
            () => [...make(), ids([[1]])],
            (s, mask, tgtIn) => {
              refuses(() => m.translate(s as tf.Tensor2D, mask as tf.Tensor2D), new RegExp(`^Seq2Seq\\.translate: ${pattern.source}`));
              refuses(() => m.encode(s, mask), new RegExp(`^Seq2Seq\\.encode: ${pattern.source}`));
              refuses(
                () => m.forward({ src: s as tf.Tensor2D, srcMask: mask as tf.Tensor2D, tgtIn: tgtIn as tf.Tensor2D }),
                new RegExp(`^Seq2Seq\\.forward: ${pattern.source}`),
              );
            },
          );
        }
        const options: [unknown, RegExp][] = [
          [{ maxLen: 0 }, /^Seq2Seq\.translate: maxLen must be a positive integer, got 0$/],
          [{ maxLen: -1 }, /^Seq2Seq\.translate: maxLen must be a positive integer, got -1$/],
          [{ maxLen: 1.5 }, /^Seq2Seq\.translate: maxLen must be a positive integer, got 1\.5$/],
          [{ maxLen: "3" }, /^Seq2Seq\.translate: maxLen must be a positive integer, got the string "3"$/],
          [{ cache: "yes" }, /^Seq2Seq\.translate: the option cache must be true or false, got the string "yes"$/],
          [3, /^Seq2Seq\.translate: options must be an object like \{ maxLen: 20 \}, got 3$/],
        ];
        withTensors(
          () => [
            ids([
              [3, 4, 0],
              [5, 0, 0],
            ]),
            tf.tensor2d([
              [1, 1, 0],
              [1, 0, 0],
            ]),
          ],
          (s, mask) => {
            for (const [o, pattern] of options) refuses(() => m.translate(s as tf.Tensor2D, mask as tf.Tensor2D, o as never), pattern);
            // Padding after each sentence's tokens, int32 and bool masks too, still translate.
            const out = m.translate(s as tf.Tensor2D, mask as tf.Tensor2D, { maxLen: 2, cache: false });
            assert.strictEqual(out.ids.length, 2);
            assert.ok(out.ids.every((row) => row.length <= 2));
            assert.deepStrictEqual(out.attention![1][0].slice(1), [0, 0]); // padding gets no weight
            for (const dtype of ["int32", "bool"] as const) {
              const typed = mask.cast(dtype);
              assert.deepStrictEqual(m.translate(s as tf.Tensor2D, typed as tf.Tensor2D, { maxLen: 2 }).ids, out.ids);
              typed.dispose();
            }
          },
        );
      } finally {
        m.dispose();
      }
    });

    it("Seq2Seq: a target with no words or another batch size than the source, and loss targets that do not fit tgtIn", () => {
      const m = new Seq2Seq({ kind: "bahdanau", srcVocab: 10, tgtVocab: 12, embedding: 4, hidden: 4 });
      const ids = (rows: number[][], width = rows[0].length) => tf.tensor2d(rows.flat(), [rows.length, width], "int32");
      const src = ids([[3, 4, 2]]);
      const srcMask = tf.ones([1, 3]) as tf.Tensor2D;
      try {
        const targets: [() => tf.Tensor, RegExp][] = [
          [
            () => ids([[]], 0),
            /^Seq2Seq\.forward: tgtIn has no tokens \(shape \[1, 0\]\); expected at least one token per sentence \(<bos> first\)$/,
          ],
          [() => ids([[1], [1]]), /^Seq2Seq\.forward: tgtIn has 2 sentences and src 1; expected one target sentence per source sentence$/],
          [() => ids([], 2), /^Seq2Seq\.forward: tgtIn has 0 sentences and src 1/],
        ];
        for (const [make, pattern] of targets)
          withTensors(
            () => [make()],
            (tgtIn) => refuses(() => m.forward({ src, srcMask, tgtIn: tgtIn as tf.Tensor2D }), pattern),
          );
        const losses: [() => tf.Tensor[], RegExp][] = [
          [
            () => [ids([[5, 2]]), tf.ones([1, 3])],
            /^Seq2Seq\.loss: tgtMask has shape \[1, 3\], tgtIn \[1, 2\]; expected one value per target token$/,
          ],
          [
            () => [ids([[5, 2, 2]]), tf.ones([1, 2])],
            /^Seq2Seq\.loss: tgtOut has shape \[1, 3\], tgtIn \[1, 2\]; expected one value per target token$/,
          ],
          [() => [ids([[5, 12]]), tf.ones([1, 2])], /^Seq2Seq\.loss: tgtOut holds the id 12, outside the vocabulary's ids 0\.\.11/],
          [() => [ids([[5, 2]]), tf.tensor2d([[1, 2]])], /^Seq2Seq\.loss: tgtMask holds 2; expected only 1 \(keep\) and 0 \(hide\)$/],
        ];
        withTensors(
          () => [ids([[1, 5]])],
          (tgtIn) => {
            for (const [make, pattern] of losses)
              withTensors(make, (tgtOut, tgtMask) =>
                refuses(
                  () => m.loss({ src, srcMask, tgtIn: tgtIn as tf.Tensor2D, tgtOut: tgtOut as tf.Tensor2D, tgtMask: tgtMask as tf.Tensor2D }),
                  pattern,
                ),
              );
            refuses(() => m.loss({ src, srcMask, tgtIn } as never), /^Seq2Seq\.loss: tgtOut must be a tf\.Tensor, got undefined$/);
            // What fits gives a finite loss.
            withTensors(
              () => [ids([[5, 2]]), tf.ones([1, 2])],
              (tgtOut, tgtMask) => {
                const l = m.loss({ src, srcMask, tgtIn: tgtIn as tf.Tensor2D, tgtOut: tgtOut as tf.Tensor2D, tgtMask: tgtMask as tf.Tensor2D });
                assert.ok(Number.isFinite(data(l)[0]) && data(l)[0] > 0);
                l.dispose();
              },
            );
          },
        );
      } finally {
        tf.dispose([src, srcMask]);
        m.dispose();
      }
    });

    it("clipByGlobalNorm scales by maxNorm / sqrt(sum of squares), and leaves small gradients alone", () => {
      const grads = { a: tf.tensor1d([3]), b: tf.tensor1d([4]) }; // global norm 5
      const big = clipByGlobalNorm(grads, 1);
      assertClose(data(big.norm), [5], 1e-6);
      assertClose([...data(big.grads.a), ...data(big.grads.b)], [0.6, 0.8], 1e-5);
      const small = clipByGlobalNorm(grads, 10);
      assertClose([...data(small.grads.a), ...data(small.grads.b)], [3, 4], 1e-5);
      tf.dispose([grads, big.grads, big.norm, small.grads, small.norm]);
    });

    it("Trainer: options and pairs that are not what it expects, a second run at once, and a time limit", async () => {
      const pairs = generatePairs(30, 5);
      const vocabs = buildVocabularies(pairs);
      const encoded = encodeAll(pairs, vocabs);
      const m = new Seq2Seq({ kind: "plain", srcVocab: vocabs.src.size, tgtVocab: vocabs.tgt.size, embedding: 8, hidden: 8 });
      assertThrowsMessage(() => new Trainer(m, encoded, null as never), /^Trainer: options must be an object such as \{ steps: 300 \}$/);
      assertThrowsMessage(() => new Trainer(m, encoded, { steps: 2, seed: -1 }), /^Trainer: seed must be a non-negative integer, got -1$/);
      assertThrowsMessage(() => new Trainer(m, encoded, { steps: 2, seed: 1.5 }), /^Trainer: seed must be a non-negative integer, got 1.5$/);
      assert.doesNotThrow(() => new Trainer(m, encoded, { steps: 2, seed: 0 }).dispose());
      assertThrowsMessage(
        () => new Trainer(m, encoded, { steps: 2, onReport: 5 as never }),
        /^Trainer: onReport must be a function \(step, loss\) => \.\.\.$/,
      );
      assertThrowsMessage(
        () => new Trainer(m, [{ src: [], tgt: [2] }], { steps: 2 }),
        /^Trainer: pair 0 has no source ids; expected \{ src: number\[\], tgt: number\[\] \} from encodeAll$/,
      );
      const t = new Trainer(m, encoded, { steps: 100000, maxSeconds: 0.3, batchSize: 8 });
      const first = t.run();
      await assert.rejects(t.run(), /^Error: Trainer.run: this trainer is already running; wait for it, or call stop\(\)$/);
      const r = await first;
      assert.ok(r.stoppedEarly && !r.interrupted && r.steps > 0 && r.steps < 100000 && r.seconds >= 0.3 && r.seconds < 5, JSON.stringify(r));
      t.dispose();
      m.dispose();
    });

    it("the translator: its kind, the GRU's input size, and greedy decoding stops at <eos>", () => {
      assertThrowsMessage(
        () => new Seq2Seq({ kind: "lstm" as never, srcVocab: 5, tgtVocab: 5, embedding: 2, hidden: 2 }),
        /^Seq2Seq: kind must be 'plain' or 'bahdanau', got 'lstm'$/,
      );
      const gru = new GRU(3, 4, new Generator(1));
      const x = tf.ones([2, 5]);
      assertThrowsMessage(() => gru.projectInputs(x), /^GRU: inputs have size 5 \(shape \[2, 5\]\), expected 3$/);
      x.dispose();
      gru.dispose();
      const before = tf.memory().numTensors;
      const emb = new Embedding(5, 2, new Generator(1));
      emb.dispose();
      assert.strictEqual(tf.memory().numTensors, before, "Embedding.dispose frees its table");
      const ck = loadCheckpoint(join(ROOT, "data", "checkpoints", "attention"));
      const t = translateSentence(ck.model, ck.vocabs, "the white song sees a strong house .");
      assert.strictEqual(t.attention!.length, t.output.split(" ").length + 1, "one attention row per word and one for <eos>, then it stops");
      ck.model.dispose();
    });
  });

  describe("BLEU", () => {
    it("is 1 for a perfect translation and 0 when no 4-gram matches", () => {
      const s = ["le", "chat", "dort", "ici", "."];
      assert.strictEqual(corpusBleu([s], [s]).bleu, 1);
      assert.strictEqual(corpusBleu([["le", "chat", "dort", "."]], [["un", "chien", "court", "vite", "."]]).bleu, 0);
    });
    it("applies the brevity penalty exp(1 - r/c) to short candidates", () => {
      const d = corpusBleu([["a", "b", "c", "d"]], [["a", "b", "c", "d", "e"]]);
      assert.deepStrictEqual(d.precisions, [1, 1, 1, 1]);
      assertClose([d.brevityPenalty, d.bleu], [Math.exp(-0.25), Math.exp(-0.25)], 1e-12);
    });
    it("clips repeated words and sums counts over the corpus before dividing", () => {
      const d = corpusBleu([["the", "the", "the", "the"]], [["the", "cat", "is", "here"]]);
      assert.strictEqual(d.precisions[0], 1 / 4);
      // two sentences: p1 = (4 + 2) / (4 + 4), p2 = (3 + 0) / (3 + 3), p3 = 2 / 4, p4 = 1 / 2
      const c = corpusBleu(
        [
          ["a", "b", "c", "d"],
          ["w", "x", "y", "z"],
        ],
        [
          ["a", "b", "c", "d"],
          ["x", "w", "q", "r"],
        ],
      );
      assertClose(c.precisions, [6 / 8, 3 / 6, 2 / 4, 1 / 2], 1e-12);
      assertClose([c.bleu], [Math.exp((Math.log(0.75) + 3 * Math.log(0.5)) / 4)], 1e-12);
      assert.strictEqual(tokenAccuracy([["a", "x", "c"]], [["a", "b", "c", "d"]]), 0.5);
    });

    it("corpusBleu needs one candidate per reference", () => {
      assertThrowsMessage(() => corpusBleu([["a"]], []), /^corpusBleu: 1 candidates for 0 references; expected one candidate per reference$/);
    });

    it("corpusBleu refuses sentences that are not token lists, a maxN that is not a positive integer, and nothing to score", () => {
      const cases: [() => unknown, RegExp][] = [
        [
          () => corpusBleu(["a b"] as never, [["a", "b"]]),
          /^corpusBleu: candidate 0 must be a list of tokens \(strings\), got a string \(split it into tokens first: tokenize\(sentence\)\)$/,
        ],
        [() => corpusBleu([["a"]], [null] as never), /^corpusBleu: reference 0 must be a list of tokens \(strings\), got null$/],
        [() => corpusBleu([["a", 3]] as never, [["a"]]), /^corpusBleu: candidate 0 must be a list of tokens/],
        [() => corpusBleu(3 as never, [["a"]]), /^corpusBleu: candidates must be an array of token lists like \[\["the", "cat"\]\], got 3$/],
        [() => corpusBleu([["a"]], [["a"]], 0), /^corpusBleu: maxN \(the longest n-gram counted\) must be a positive integer, got 0$/],
        [() => corpusBleu([["a"]], [["a"]], -1), /^corpusBleu: maxN .* must be a positive integer, got -1$/],
        [() => corpusBleu([["a"]], [["a"]], 1.5), /^corpusBleu: maxN .* must be a positive integer, got 1\.5$/],
        [() => corpusBleu([["a"]], [["a"]], "4" as never), /^corpusBleu: maxN .* must be a positive integer, got the string "4"$/],
        [() => corpusBleu([], []), /^corpusBleu: no sentences to score; expected at least one candidate and its reference$/],
      ];
      for (const [call, pattern] of cases) refuses(call, pattern);
      assert.strictEqual(corpusBleu([["a", "b"]], [["a", "b"]], 1).bleu, 1); // maxN 1: unigram precision
    });
  });

  describe("checkpoints and translating", () => {
    it("round-trip: a loaded model translates exactly like the saved one", () => {
      const corpus = generatePairs(30, 9);
      const vocabs = buildVocabularies(corpus);
      const m = new Seq2Seq({ kind: "bahdanau", srcVocab: vocabs.src.size, tgtVocab: vocabs.tgt.size, embedding: 8, hidden: 16, seed: 4 });
      const dir = mkdtempSync(join(tmpdir(), "ckpt-"));
      saveCheckpoint(join(dir, "m"), m, vocabs, { steps: 0 });
      const back = loadCheckpoint(join(dir, "m"));
      assert.deepStrictEqual(back.vocabs.tgt.tokens, vocabs.tgt.tokens);
      assert.deepStrictEqual(back.notes, { steps: 0 });
      const a = translatePairs(m, vocabs, corpus.slice(0, 5));
      const b = noLeak(() => translatePairs(back.model, back.vocabs, corpus.slice(0, 5)));
      assert.deepStrictEqual(
        b.map((t) => t.output),
        a.map((t) => t.output),
      );
      const words = b[0].output.split(" ").filter(Boolean).length;
      assert.ok([words, words + 1].includes(b[0].attention!.length), "one attention row per output word (and <eos>)");
      assertThrowsMessage(
        () => loadCheckpoint(join(dir, "none")),
        /loadCheckpoint: .*none.json is missing. Restore .*`git checkout -- data\/checkpoints`.*`npm run length-experiment`/,
      );
      m.dispose();
      back.model.dispose();
    });

    it("translates sentences with unknown words, scores by length, and says clearly when the input is empty", () => {
      const corpus = generatePairs(40, 2);
      const vocabs = buildVocabularies(corpus);
      const m = new Seq2Seq({ kind: "plain", srcVocab: vocabs.src.size, tgtVocab: vocabs.tgt.size, embedding: 8, hidden: 16 });
      const t = translateSentence(m, vocabs, "the zebra sleeps .");
      assert.strictEqual(typeof t.output, "string");
      assertThrowsMessage(() => translateSentence(m, vocabs, ""), /the sentence is empty/);
      const trainer = new Trainer(m, encodeAll(corpus, vocabs), { steps: 3, batchSize: 8 });
      return trainer.run().then((r) => {
        assert.strictEqual(r.steps, 3);
        trainer.dispose();
        const scored = scoreByLength(translatePairs(m, vocabs, corpus), [
          [1, 15],
          [16, 1000],
        ]);
        assert.strictEqual(scored[0].n + scored[1].n, 40);
        m.dispose();
      });
    });
  });

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

    it("ATTENTION_TRAIN_SECONDS caps a run's seconds, whatever maxSeconds says", async () => {
      const m = model();
      process.env.ATTENTION_TRAIN_SECONDS = "0.5";
      try {
        const t = new Trainer(m, encoded, { steps: 1e6, maxSeconds: 1000, batchSize: 8 });
        const r = await t.run();
        assert.ok(r.stoppedEarly && r.steps < 1e6 && r.seconds < 30, `${r.steps} steps in ${r.seconds} s`);
        t.dispose();
      } finally {
        delete process.env.ATTENTION_TRAIN_SECONDS;
        m.dispose();
      }
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
        for (const [name, parameters, buffers] of [
          ["rnn", 12, 0],
          ["attention", 15, 0],
          ["transformer-learned", 52, 1], // notebook 08: learned positions add a table per side; the decoder's causal mask
          ["transformer-sinusoidal", 50, 1],
          ["transformer-rope", 50, 1],
        ] as const) {
          const ck = noLeak(() => loadCheckpoint(join(ROOT, "data", "checkpoints", name)), parameters + buffers);
          assert.strictEqual(ck.model.parameters().length, parameters);
          ck.model.dispose();
        }
      });
    });
  });
});
