// The whole public API called carelessly, one kind of bad input across every module: too large, empty, int32,
// non-finite, disposed, strings for numbers. Each gets a clear error that names the function, what was wrong and
// what was expected; never a silent NaN, a hang, a raw TypeError, a wasm trap, or a leak, and the backend still
// computes afterwards. A module's own refusals live in its own test file (causal.test.ts, seq2seq.test.ts, ...).
import * as assert from "assert";
import * as tf from "@tensorflow/tfjs";
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
  formatTensor,
  heatmap,
  exampleInputs,
  splitHeads,
  FusedMultiHeadAttention,
  MemoryEfficientAttention,
} from "attention-lib";
import { refuses, withTensors } from "../helpers";

describe("a careless learner gets clear errors, never NaN, a hang or a broken backend", function () {
  this.timeout(60000);
  before(() => setup({ backend: "wasm", verbose: false }));

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

  describe("strings where numbers or switches belong", () => {
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
