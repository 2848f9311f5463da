import * as assert from "assert";
import * as tf from "@tensorflow/tfjs";
import { mkdtempSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import {
  setup,
  Generator,
  loadCorpus,
  Vocabulary,
  Seq2Seq,
  corpusBleu,
  loadCheckpoint,
  translatePairs,
  translateSentence,
  scoreByLength,
  Trainer,
  buildVocabularies,
  encodeAll,
} from "attention-lib";
import {
  generateCorpus,
  generatePairs,
  makeBatch,
  makeBatches,
  toTensors,
  encodePair,
  GRU,
  maskedCrossEntropy,
  tokenAccuracy,
  trainStep,
  saveCheckpoint,
  fastForward,
  withFastKernels,
  TESTED_TFJS,
} from "attention-lib/internal";
import { assertClose, noLeak, assertThrowsMessage, checkGradients, ROOT } from "../helpers";

const data = (t: tf.Tensor) => Array.from(t.dataSync());

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
});
