// Notebook 08: positions (against PyTorch), cross-attention, the blocks and the Transformer translator.
import * as assert from "assert";
import * as tf from "@tensorflow/tfjs";
import { mkdtempSync, readFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import {
  setup,
  sinusoidalPositions,
  applyRope,
  ropeAngles,
  LearnedPositions,
  LayerNorm,
  EncoderBlock,
  DecoderBlock,
  MultiHeadAttention,
  TransformerTranslator,
  Generator,
  loadCheckpoint,
  buildVocabularies,
  encodeAll,
  Trainer,
  translatePairs,
} from "attention-lib";
import { generatePairs, makeBatch, saveCheckpoint, toTensors } from "attention-lib/internal";
import { assertClose, assertThrowsMessage, checkGradients, data, noLeak, refuses, ROOT } from "../helpers";

type Ref = { shape: number[]; data: number[] };
const REF = JSON.parse(readFileSync(join(ROOT, "test", "fixtures", "positions-reference.json"), "utf8")) as Record<string, Ref>;
const t = (r: Ref) => tf.tensor(r.data, r.shape);

describe("the Transformer (notebook 08)", function () {
  this.timeout(120000);
  before(() => setup({ backend: "wasm", verbose: false }));

  describe("positions, against PyTorch 2.13", () => {
    it("sinusoidal encodings: the 2017 paper's, interleaved sin/cos, as PyTorch's tutorial computes them", () => {
      const pe = sinusoidalPositions(7, 8);
      assert.deepStrictEqual(pe.shape, [7, 8]);
      assertClose(data(pe), REF.sinusoidal.data, 1e-6, "sinusoidal");
      pe.dispose();
    });

    it("RoPE, rotate-half convention (Hugging Face's Llama), at offset 0 and 3", () => {
      const x = t(REF.x);
      const [r0, r3] = [applyRope(x), applyRope(x, 3)];
      assert.deepStrictEqual(r0.shape, [1, 2, 7, 8]);
      assertClose(data(r0), REF.rope.data, 1e-5, "rope");
      assertClose(data(r3), REF.rope_offset3.data, 1e-5, "rope offset 3");
      // A rotation keeps each vector's length.
      assertClose(data(tf.norm(r0, "euclidean", -1)), data(tf.norm(x, "euclidean", -1)), 1e-5, "lengths");
      tf.dispose([x, r0, r3]);
    });

    it("RoPE: the score of a query at i and a key at j depends only on i - j (PyTorch's numbers too)", () => {
      const [q, k] = [t(REF.q), t(REF.k)];
      const qs = applyRope(tf.tile(q.reshape([1, 8]), [7, 1]));
      const ks = applyRope(tf.tile(k.reshape([1, 8]), [7, 1]));
      const s = tf.matMul(qs, ks, false, true).arraySync() as number[][];
      assertClose(s.flat(), REF.rope_scores.data, 1e-5, "scores");
      for (let i = 1; i < 7; i++)
        for (let j = 1; j < 7; j++) assert.ok(Math.abs(s[i][j] - s[i - 1][j - 1]) < 1e-5, `score(${i}, ${j}) != score(${i - 1}, ${j - 1})`);
      assert.ok(Math.abs(s[3][1] - s[1][3]) > 1e-3, "i - j = 2 and j - i = 2 differ: the sign of the offset matters");
      tf.dispose([q, k, qs, ks]);
    });

    it("learned positions: one trainable vector per position, none beyond maxLen; bad sizes refused", () => {
      const p = new LearnedPositions(5, 4, new Generator(1));
      assert.deepStrictEqual(p.forward(3).shape, [3, 4]);
      assertThrowsMessage(() => p.forward(6), /LearnedPositions: 6 positions asked for, but only 5 were learned/);
      assertThrowsMessage(() => sinusoidalPositions(4, 5), /sinusoidalPositions: d must be even/);
      assertThrowsMessage(() => applyRope(tf.zeros([2, 3])), /applyRope: x must be \[\.\.\., T, headDim\] with an even headDim, got \[2, 3\]/);
      p.dispose();
    });
    it("positions refuse an offset or a count that is not a whole number, a generator that is not one, and rope on integers or nothing", () => {
      const p = new LearnedPositions(5, 4, new Generator(1));
      const cases: [() => unknown, RegExp][] = [
        [() => sinusoidalPositions(2, 4, -1), /^sinusoidalPositions: offset \(the position of the first row\) must be an integer >= 0, got -1$/],
        [() => sinusoidalPositions(2, 4, 1.5), /^sinusoidalPositions: offset .* must be an integer >= 0, got 1\.5$/],
        [() => sinusoidalPositions(2, 4, NaN), /^sinusoidalPositions: offset .* must be an integer >= 0, got NaN$/],
        [() => sinusoidalPositions(2, 4, "1" as never), /^sinusoidalPositions: offset .* must be an integer >= 0, got the string "1"$/],
        [() => ropeAngles(2, 4, -1), /^ropeAngles: offset \(the position of the first row\) must be an integer >= 0, got -1$/],
        [() => ropeAngles(2, 4, NaN), /^ropeAngles: offset .* got NaN$/],
        [() => new LearnedPositions(4, 2, 3 as never), /^LearnedPositions: the generator must be a Generator \(new Generator\(seed\)\), got 3$/],
        [() => new LearnedPositions(4, 2, undefined as never), /^LearnedPositions: the generator must be a Generator .*, got undefined$/],
        [() => p.forward(0), /^LearnedPositions: T \(the number of positions\) must be a positive integer, got 0$/],
        [() => p.forward(-1), /^LearnedPositions: T .* must be a positive integer, got -1$/],
        [() => p.forward(1.5), /^LearnedPositions: T .* must be a positive integer, got 1\.5$/],
        [() => p.forward(NaN), /^LearnedPositions: T .* must be a positive integer, got NaN$/],
        [() => p.forward("2" as never), /^LearnedPositions: T .* must be a positive integer, got the string "2"$/],
        [() => applyRope([[1, 2]] as never), /^applyRope: x must be a tf\.Tensor, got a plain array/],
      ];
      for (const [call, pattern] of cases) refuses(call, pattern);
      const [ints, empty] = [tf.ones([2, 4], "int32"), tf.zeros([0, 4])];
      refuses(() => applyRope(ints), /^applyRope: x holds int32 values; expected float32 numbers/);
      refuses(() => applyRope(empty), /^applyRope: x has an axis of size 0 \(shape \[0, 4\], \[\.\.\., T, headDim\]\)/);
      tf.dispose([ints, empty]);
      p.dispose();
    });
  });

  describe("word order and cross-attention, on notebook 06's MultiHeadAttention", () => {
    const encoderLike = (dIn: number, dOut: number, heads: number, seed: number) =>
      new MultiHeadAttention(dIn, dOut, 16, 0, heads, { causal: false, qkvBias: true, generator: new Generator(seed) });

    it("without positions, attention is permutation-equivariant: shuffled tokens give the same rows, shuffled; with positions it is not", () => {
      const attn = encoderLike(8, 8, 2, 3);
      const x = tf.randomNormal([1, 6, 8], 0, 1, "float32", 4);
      const order = [3, 0, 5, 1, 4, 2];
      const shuffled = tf.gather(x, order, 1);
      const out = attn.forward(x);
      const outShuffled = attn.forward(shuffled);
      assertClose(data(outShuffled), data(tf.gather(out, order, 1)), 1e-5, "equivariance");
      const pe = sinusoidalPositions(6, 8);
      const withPos = attn.forward(tf.add(x, pe));
      const shuffledWithPos = attn.forward(tf.add(shuffled, pe));
      const gap = tf.max(tf.abs(tf.sub(shuffledWithPos, tf.gather(withPos, order, 1)))).dataSync()[0];
      assert.ok(gap > 1e-2, `positions make order matter (gap ${gap})`);
      tf.dispose([x, shuffled, out, outShuffled, pe, withPos, shuffledWithPos]);
      attn.dispose();
    });

    it("with memory = the inputs, cross-attention is self-attention; a one-token change in the memory reaches every query", () => {
      const m = encoderLike(6, 8, 2, 5);
      const x = tf.randomNormal([2, 5, 6], 0, 1, "float32", 7);
      assertClose(data(m.forward(x, { memory: x })), data(m.forward(x)), 1e-6, "memory = x");
      const memory = tf.randomNormal([2, 4, 6], 0, 1, "float32", 8);
      const changed = tf.concat([memory.slice([0, 0, 0], [2, 3, 6]), tf.fill([2, 1, 6], 2)], 1);
      const gap = tf.min(tf.max(tf.abs(tf.sub(m.forward(x, { memory }), m.forward(x, { memory: changed }))), -1)).dataSync()[0];
      assert.ok(gap > 1e-4, `every query reads the whole memory (smallest change ${gap})`);
      tf.dispose([x, memory, changed]);
      m.dispose();
    });

    it("cross-attention reads another sequence: [b, T_q, d] against [b, T_k, d]; padding in the memory gets no weight", () => {
      const cross = encoderLike(4, 4, 2, 8);
      const x = tf.randomNormal([2, 3, 4], 0, 1, "float32", 9);
      const memory = tf.randomNormal([2, 5, 4], 0, 1, "float32", 10);
      const keyMask = tf.tensor2d([
        [1, 1, 1, 0, 0],
        [1, 1, 1, 1, 1],
      ]);
      const { weights, context } = cross.explain(x, { memory, keyMask });
      assert.deepStrictEqual(
        [weights.shape, context.shape],
        [
          [2, 2, 3, 5],
          [2, 3, 4],
        ],
      );
      assertClose(data(weights.slice([0, 0, 0, 3], [1, 2, 3, 2])), new Array(12).fill(0), 0, "padding's weights are exactly 0");
      assertClose(data(tf.sum(weights, -1)), new Array(12).fill(1), 1e-6, "rows sum to 1");
      const garbage = tf.concat([memory.slice([0, 0, 0], [2, 3, 4]), tf.fill([2, 2, 4], 50)], 1);
      const again = cross.forward(x, { memory: garbage, keyMask });
      assertClose(data(again.slice([0, 0, 0], [1, 3, 4])), data(context.slice([0, 0, 0], [1, 3, 4])), 1e-5, "padding changes nothing");
      tf.dispose([x, memory, keyMask, weights, context, garbage, again]);
      cross.dispose();
    });

    it("a key mask on causal self-attention hides both the future and the padding", () => {
      const m = new MultiHeadAttention(4, 4, 6, 0, 2, { generator: new Generator(30) });
      const x = tf.randomNormal([1, 5, 4], 0, 1, "float32", 31);
      const keyMask = tf.tensor2d([[1, 0, 1, 1, 0]]);
      const w = m.explain(x, { keyMask }).weights.arraySync() as number[][][][];
      for (const head of w[0])
        head.forEach((row, i) => row.forEach((v, j) => assert.ok(j > i || j === 1 || j === 4 ? v === 0 : v > 0, `weight (${i}, ${j}) = ${v}`)));
      tf.dispose([x, keyMask]);
      m.dispose();
    });

    it("refuses careless memory, key masks and rope by name, leaking nothing", () => {
      const cross = encoderLike(4, 4, 2, 20);
      const causal = new MultiHeadAttention(4, 4, 8, 0, 2, { generator: new Generator(21) });
      const [x, x2, wide, other, mem5, badMask, nan] = [
        tf.zeros([1, 3, 4]),
        tf.zeros([3, 4]),
        tf.zeros([1, 3, 5]),
        tf.zeros([2, 3, 4]),
        tf.zeros([1, 5, 4]),
        tf.ones([1, 3]),
        tf.fill([1, 3, 4], NaN),
      ];
      refuses(
        () => cross.forward(x2, { memory: x2 }),
        /MultiHeadAttention: with memory, keyMask or useCache the inputs must be a batch \[batch, tokens, d_in\], got shape \[3, 4\]/,
      );
      refuses(() => cross.forward(x, { memory: wide }), /MultiHeadAttention: memory has d_in = 5 .* expect d_in = 4/);
      refuses(
        () => cross.forward(other, { memory: x }),
        /MultiHeadAttention: memory has shape \[1, 3, 4\]; expected \[batch, T_k, d_in\] = \[2, T_k, 4\]/,
      );
      refuses(() => cross.forward(x, { memory: mem5, keyMask: badMask }), /MultiHeadAttention: keyMask has shape \[1, 3\]; expected .* \[1, 5\]/);
      refuses(() => causal.forward(x, { memory: mem5 }), /MultiHeadAttention: cross-attention \(memory\) needs a module built with causal: false/);
      refuses(() => cross.forward(x, { memory: nan }), /MultiHeadAttention: memory contains NaN or Infinity/);
      refuses(() => cross.forward(x, { useCache: "yes" as never }), /MultiHeadAttention: the option useCache must be true or false/);
      refuses(() => new MultiHeadAttention(6, 6, 4, 0, 2, { rope: true }), /MultiHeadAttention: rope turns pairs .* head_dim must be even, got 3/);
      refuses(() => applyRope(x, -1), /applyRope: offset .* non-negative integer, got -1/);
      tf.dispose([x, x2, wide, other, mem5, badMask, nan]);
      [cross, causal].forEach((m) => m.dispose());
    });
  });

  describe("the blocks refuse careless input by name", () => {
    it("LayerNorm: a width that is not a positive integer, an eps <= 0, inputs of another width, empty, int32 or NaN", () => {
      const ln = new LayerNorm(3);
      const cases: [() => unknown, RegExp][] = [
        [() => new LayerNorm(0), /^LayerNorm: d must be a positive integer, got 0$/],
        [() => new LayerNorm(1.5), /^LayerNorm: d must be a positive integer, got 1\.5$/],
        [() => new LayerNorm(3, -1), /^LayerNorm: eps must be a finite number greater than 0, got -1$/],
        [() => ln.forward([[1, 2, 3]] as never), /^LayerNorm: x must be a tf\.Tensor, got a plain array/],
      ];
      for (const [call, pattern] of cases) refuses(call, pattern);
      const [wide, empty, ints, nan] = [tf.zeros([2, 4]), tf.zeros([0, 3]), tf.zeros([2, 3], "int32"), tf.fill([2, 3], NaN)];
      refuses(() => ln.forward(wide), /^LayerNorm: x has shape \[2, 4\]; expected \[\.\.\., d\] with d = 3, the width it normalises$/);
      refuses(() => ln.forward(empty), /^LayerNorm: x has an axis of size 0 \(shape \[0, 3\], \[\.\.\., d\]\)/);
      refuses(() => ln.forward(ints), /^LayerNorm: x holds int32 values; expected float32 numbers/);
      refuses(() => ln.forward(nan), /^LayerNorm: x contains NaN or Infinity; expected finite numbers$/);
      tf.dispose([wide, empty, ints, nan]);
      ln.dispose();
    });

    it("EncoderBlock and DecoderBlock: sizes that are not positive integers, no generator, a decoder without memory or with options that are not an object", () => {
      const sizes = { d: 4, heads: 2, hidden: 8, dropout: 0, contextLength: 8, rope: false };
      const cases: [() => unknown, RegExp][] = [
        [() => new EncoderBlock({} as never, new Generator(0)), /^EncoderBlock: sizes\.d must be a positive integer, got undefined$/],
        [() => new EncoderBlock(3 as never, new Generator(0)), /^EncoderBlock: sizes must be an object like \{ d: 8, heads: 2, .*\}, got 3$/],
        [() => new DecoderBlock({ ...sizes, hidden: 0 }, new Generator(0)), /^DecoderBlock: sizes\.hidden must be a positive integer, got 0$/],
        [
          () => new DecoderBlock({ ...sizes, rope: "no" as never }, new Generator(0)),
          /^DecoderBlock: the option rope must be true or false, got the string "no"$/,
        ],
        [
          () => new EncoderBlock(sizes, undefined as never),
          /^EncoderBlock: the generator must be a Generator \(new Generator\(seed\)\), got undefined$/,
        ],
      ];
      for (const [call, pattern] of cases) refuses(call, pattern);
      const dec = new DecoderBlock(sizes, new Generator(0));
      const [x, memory, mask] = [tf.zeros([1, 3, 4]), tf.zeros([1, 5, 4]), tf.ones([1, 5])];
      refuses(
        () => dec.forward(x, undefined as never, mask),
        /^DecoderBlock: memory \(the encoder's output \[b, S, d\]\) must be a tf\.Tensor, got undefined$/,
      );
      refuses(() => dec.forward(x, memory, mask, 3 as never), /^DecoderBlock: options must be an object like \{ useCache: true \}, got 3$/);
      const out = dec.forward(x, memory, mask);
      assert.deepStrictEqual(out.shape, [1, 3, 4]);
      tf.dispose([x, memory, mask, out]);
      dec.dispose();
    });
  });

  describe("the translator", () => {
    const pairs = generatePairs(60, 11);
    const vocabs = buildVocabularies(pairs);
    const encoded = encodeAll(pairs, vocabs);
    const tiny = (positions: "learned" | "sinusoidal" | "rope", extra = {}) =>
      new TransformerTranslator({
        kind: "transformer",
        srcVocab: vocabs.src.size,
        tgtVocab: vocabs.tgt.size,
        d: 16,
        heads: 2,
        hidden: 16,
        layers: 1,
        dropout: 0,
        positions,
        seed: 3,
        ...extra,
      });

    it("gives logits [B, T, V]; the decoder is causal and the source's padding changes nothing, for each position scheme", () => {
      for (const positions of ["learned", "sinusoidal", "rope"] as const) {
        const m = tiny(positions);
        const b = toTensors(makeBatch(encoded.slice(0, 3)));
        const { logits } = m.forward(b);
        assert.deepStrictEqual(logits.shape, [3, b.tgtIn.shape[1], vocabs.tgt.size]);
        // Change the last target token: the logits of every earlier position stay.
        const T = b.tgtIn.shape[1]!;
        const tgt2 = tf.concat([b.tgtIn.slice([0, 0], [3, T - 1]), tf.fill([3, 1], 5, "int32")], 1) as tf.Tensor2D;
        const l2 = m.forward({ ...b, tgtIn: tgt2 }).logits;
        assertClose(data(l2.slice([0, 0, 0], [3, T - 1, -1])), data(logits.slice([0, 0, 0], [3, T - 1, -1])), 1e-4, `${positions}: causal`);
        // Pad the source with two more padding tokens: same logits.
        const src2 = tf.concat([b.src, tf.zeros([3, 2], "int32")], 1) as tf.Tensor2D;
        const mask2 = tf.concat([b.srcMask, tf.zeros([3, 2])], 1) as tf.Tensor2D;
        const l3 = m.forward({ src: src2, srcMask: mask2, tgtIn: b.tgtIn }).logits;
        assertClose(data(l3), data(logits), 1e-4, `${positions}: padding`);
        tf.dispose([b, logits, tgt2, l2, src2, mask2, l3]);
        m.dispose();
      }
    });

    it("finite-difference gradient check (rope, so that rotation and attention are both in the path)", () => {
      const m = tiny("rope", { d: 8, hidden: 8 });
      const b = toTensors(makeBatch(encoded.slice(0, 2)));
      const named = m.namedParameters();
      const some = ["encoder.0.selfAttention.W_query.weight", "decoder.0.crossAttention.W_key.weight", "decoder.0.norm3.scale", "out.bias"].map(
        (n) => named[n],
      );
      assert.ok(some.every(Boolean), "the named parameters exist");
      assert.ok(checkGradients(() => m.loss(b), some, "transformer") >= 12);
      tf.dispose(b);
      m.dispose();
    });

    it("trains with the course's Trainer (loss falls), translates greedily up to <eos>, and round-trips through a checkpoint", async () => {
      const m = tiny("sinusoidal");
      const trainer = new Trainer(m, encoded, { steps: 30, batchSize: 16, reportEvery: 10 });
      await trainer.run();
      assert.ok(trainer.losses[2].loss < trainer.losses[0].loss, `loss ${trainer.losses.map((l) => l.loss.toFixed(2))}`);
      trainer.dispose();
      const out = noLeak(() => translatePairs(m, vocabs, pairs.slice(0, 4)));
      assert.strictEqual(out.length, 4);
      for (const o of out) assert.ok(!o.output.includes("<eos>") && o.output.split(" ").length <= 2 * (o.source.split(" ").length + 1) + 10);
      const dir = mkdtempSync(join(tmpdir(), "transformer-"));
      saveCheckpoint(join(dir, "tiny"), m, vocabs, { steps: 30 });
      const loaded = loadCheckpoint<TransformerTranslator>(join(dir, "tiny"));
      assert.ok(loaded.model instanceof TransformerTranslator);
      assert.deepStrictEqual(
        translatePairs(loaded.model, loaded.vocabs, pairs.slice(0, 4)).map((o) => o.output),
        out.map((o) => o.output),
      );
      loaded.model.dispose();
      m.dispose();
    });

    it("greedy decoding with the KV cache gives the same words as without, for each position scheme, and frees the cache", async () => {
      for (const positions of ["learned", "sinusoidal", "rope"] as const) {
        const m = tiny(positions);
        const trainer = new Trainer(m, encoded, { steps: 15, batchSize: 16 });
        await trainer.run(); // a little training, so that the words are not all the same
        trainer.dispose();
        const b = toTensors(makeBatch(encoded.slice(0, 5)));
        const plain = m.translate(b.src, b.srcMask, { maxLen: 12 });
        const cached = noLeak(() => m.translate(b.src, b.srcMask, { maxLen: 12, cache: true }));
        assert.deepStrictEqual(cached.ids, plain.ids, `${positions}: the cache changes nothing`);
        tf.dispose(b);
        m.dispose();
      }
    });

    it("refuses bad configs and inputs clearly, and a source longer than the learned positions, leaking nothing", () => {
      const base = { kind: "transformer" as const, srcVocab: 10, tgtVocab: 10 };
      refuses(() => new TransformerTranslator(null as never), /TransformerTranslator: expected a config/);
      refuses(() => new TransformerTranslator({ ...base, positions: "absolute" as never }), /positions must be one of learned, sinusoidal, rope/);
      refuses(() => new TransformerTranslator({ ...base, d: 12, heads: 4 }), /must split into 4 heads of an even width/);
      refuses(() => new TransformerTranslator({ ...base, dropout: 1.5 }), /TransformerTranslator: .*dropout/);
      const m = new TransformerTranslator({ ...base, d: 8, heads: 2, layers: 1, positions: "learned", maxLen: 4 });
      const src = tf.tensor2d([[4, 5, 6, 7, 2]], [1, 5], "int32");
      const mask = tf.onesLike(src).toFloat() as tf.Tensor2D;
      refuses(() => m.translate(src, mask), /the source has 5 tokens, more than the 4 positions this model learned/);
      const [bad, one, bos] = [tf.tensor2d([[40]], [1, 1], "int32"), tf.ones([1, 1]) as tf.Tensor2D, tf.tensor2d([[1]], [1, 1], "int32")];
      refuses(() => m.forward({ src: bad, srcMask: one, tgtIn: bos }), /TransformerTranslator.forward: .*40/);
      tf.dispose([bad, one, bos, mask]);
      tf.dispose(src);
      m.dispose();
    });

    it("refuses a target with no words or another batch size, a mask that is not 0/1 or hides a sentence, bad translate options and loss targets", () => {
      const m = new TransformerTranslator({ kind: "transformer", srcVocab: 10, tgtVocab: 12, d: 8, heads: 2, hidden: 8, layers: 1, dropout: 0 });
      const ids = (rows: number[][], width = rows[0].length) => tf.tensor2d(rows.flat(), [rows.length, width], "int32");
      const [src, srcMask, tgtIn] = [ids([[3, 4, 2]]), tf.ones([1, 3]) as tf.Tensor2D, ids([[1, 5]])];
      const fwd = (t: tf.Tensor) => () => m.forward({ src, srcMask, tgtIn: t as tf.Tensor2D });
      const [empty, two, none] = [ids([[]], 0), ids([[1], [1]]), ids([], 2)];
      refuses(fwd(empty), /^TransformerTranslator\.forward: tgtIn has no tokens \(shape \[1, 0\]\); expected at least one token per sentence/);
      refuses(fwd(two), /^TransformerTranslator\.forward: tgtIn has 2 sentences and src 1; expected one target sentence per source sentence$/);
      refuses(fwd(none), /^TransformerTranslator\.forward: tgtIn has 0 sentences and src 1/);
      const [zeros, twos] = [tf.zeros([1, 3]) as tf.Tensor2D, tf.fill([1, 3], 2) as tf.Tensor2D];
      for (const [fn, call] of [
        ["forward", (mask: tf.Tensor2D) => m.forward({ src, srcMask: mask, tgtIn })],
        ["translate", (mask: tf.Tensor2D) => m.translate(src, mask, { maxLen: 2 })],
      ] as const) {
        refuses(() => call(zeros), new RegExp(`^TransformerTranslator\\.${fn}: srcMask hides every token of sentence 0`));
        refuses(() => call(twos), new RegExp(`^TransformerTranslator\\.${fn}: srcMask holds 2; expected only 1 \\(keep\\) and 0 \\(hide\\)$`));
      }
      const options: [unknown, RegExp][] = [
        [{ maxLen: 0 }, /^TransformerTranslator\.translate: maxLen must be a positive integer, got 0$/],
        [{ maxLen: 1.5 }, /^TransformerTranslator\.translate: maxLen must be a positive integer, got 1\.5$/],
        [{ maxLen: "3" }, /^TransformerTranslator\.translate: maxLen must be a positive integer, got the string "3"$/],
        [{ cache: "yes" }, /^TransformerTranslator\.translate: the option cache must be true or false, got the string "yes"$/],
        [3, /^TransformerTranslator\.translate: options must be an object like \{ maxLen: 20 \}, got 3$/],
      ];
      for (const [o, pattern] of options) refuses(() => m.translate(src, srcMask, o as never), pattern);
      const [out3, mask3, out12, fits] = [ids([[5, 2, 2]]), tf.ones([1, 3]) as tf.Tensor2D, ids([[5, 12]]), ids([[5, 2]])];
      const ones2 = tf.ones([1, 2]) as tf.Tensor2D;
      refuses(
        () => m.loss({ src, srcMask, tgtIn, tgtOut: out3, tgtMask: ones2 }),
        /^TransformerTranslator\.loss: tgtOut has shape \[1, 3\], tgtIn \[1, 2\]/,
      );
      refuses(() => m.loss({ src, srcMask, tgtIn, tgtOut: out12, tgtMask: ones2 }), /^TransformerTranslator\.loss: tgtOut holds the id 12, outside/);
      refuses(
        () => m.loss({ src, srcMask, tgtIn, tgtOut: fits, tgtMask: mask3 }),
        /^TransformerTranslator\.loss: tgtMask has shape \[1, 3\], tgtIn \[1, 2\]/,
      );
      refuses(() => m.loss({ src, srcMask, tgtIn } as never), /^TransformerTranslator\.loss: tgtOut must be a tf\.Tensor, got undefined$/);
      // What fits still runs: a finite loss, a translation of at most maxLen words.
      const l = m.loss({ src, srcMask, tgtIn, tgtOut: fits, tgtMask: ones2 });
      assert.ok(Number.isFinite(data(l)[0]) && data(l)[0] > 0);
      assert.ok(m.translate(src, srcMask, { maxLen: 2 }).ids[0].length <= 2);
      tf.dispose([l, src, srcMask, tgtIn, empty, two, none, zeros, twos, out3, mask3, out12, ones2, fits]);
      m.dispose();
    });
  });
});
