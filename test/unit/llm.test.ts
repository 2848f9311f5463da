// Notebook 09: grouped-query attention and sliding windows, each equal to what it replaces where it should be.
import * as assert from "assert";
import * as tf from "@tensorflow/tfjs";
import {
  setup,
  GroupedQueryAttention,
  MultiHeadAttention,
  MemoryEfficientAttention,
  FusedMultiHeadAttention,
  Generator,
  slidingWindowMask,
  causalMask,
  kvCacheBytesPerToken,
  countParameters,
} from "attention-lib";
import { assertClose, assertThrowsMessage, checkGradients, data, noLeak } from "../helpers";

describe("attention in today's LLMs (notebook 09)", function () {
  this.timeout(120000);
  before(() => setup({ backend: "wasm", verbose: false }));

  describe("sliding windows", () => {
    it("the mask: each query sees itself and the window - 1 keys before it; window >= T is the causal mask; T = 1", () => {
      const m = slidingWindowMask(5, 2).arraySync() as unknown as (number | boolean)[][];
      assert.deepStrictEqual(
        m.map((r) => r.map((h) => (h ? 0 : 1)).join("")),
        ["10000", "11000", "01100", "00110", "00011"],
      );
      for (const w of [5, 9]) assert.deepStrictEqual(data(slidingWindowMask(5, w)), data(causalMask(5)));
      assert.deepStrictEqual(data(slidingWindowMask(1, 3)), [0]);
      assertThrowsMessage(() => slidingWindowMask(4, 0), /slidingWindowMask: window must be a positive integer, got 0/);
    });

    it("MultiHeadAttention with a window >= T equals the causal one; the memory-efficient and fused modules equal it with any window, for blocks that do not divide T", () => {
      const x = tf.randomNormal([2, 11, 8], 0, 1, "float32", 3);
      const make = (window?: number) => new MultiHeadAttention(8, 8, 11, 0, 2, { generator: new Generator(4), window });
      const causal = make();
      const wide = make(11);
      assertClose(data(wide.forward(x)), data(causal.forward(x)), 1e-6, "window 11 = causal");
      for (const window of [1, 3, 5]) {
        const readable = make(window);
        const expected = data(readable.forward(x));
        for (const blockSize of [2, 3, 4, 11]) {
          const me = new MemoryEfficientAttention(8, 8, 11, 0, 2, { generator: new Generator(5), blockSize, window }).copyWeightsFrom(readable);
          assertClose(data(me.forward(x)), expected, 1e-5, `memory-efficient, window ${window}, block ${blockSize}`);
          me.dispose();
        }
        const fused = new FusedMultiHeadAttention(8, 8, 11, 0, 2, { generator: new Generator(6), window }).copyWeightsFrom(readable);
        assertClose(data(fused.forward(x)), expected, 1e-5, `fused, window ${window}`);
        fused.dispose();
        readable.dispose();
      }
      // Window 1: each token attends only to itself, so its context is its own value.
      const one = make(1);
      const { weights } = one.explain(x);
      assertClose(data(weights), data(tf.tile(tf.eye(11).reshape([1, 1, 11, 11]), [2, 2, 1, 1])), 1e-6, "window 1 weights");
      tf.dispose([x, weights]);
      [causal, wide, one].forEach((m) => m.dispose());
    });

    it("a key more than window - 1 back never matters: changing it leaves the output alone", () => {
      const m = new MultiHeadAttention(4, 4, 8, 0, 1, { generator: new Generator(7), window: 3 });
      const x = tf.randomNormal([1, 8, 4], 0, 1, "float32", 8);
      const changed = tf.concat([tf.randomNormal([1, 1, 4], 0, 1, "float32", 9), x.slice([0, 1, 0], [1, 7, 4])], 1); // token 0 replaced
      const [a, b] = [m.forward(x), m.forward(changed)];
      assertClose(data(a.slice([0, 3, 0], [1, 5, 4])), data(b.slice([0, 3, 0], [1, 5, 4])), 1e-6, "tokens 3.. do not see token 0");
      assert.ok(tf.max(tf.abs(tf.sub(a.slice([0, 0, 0], [1, 3, 4]), b.slice([0, 0, 0], [1, 3, 4])))).dataSync()[0] > 1e-4, "tokens 0..2 do");
      tf.dispose([x, changed, a, b]);
      m.dispose();
    });

    it("the memory-efficient module with a window skips whole key blocks: its peak memory stays flat as T grows", async () => {
      const peak = async (T: number) => {
        const m = new MemoryEfficientAttention(16, 16, T, 0, 1, { generator: new Generator(1), blockSize: 32, window: 32 });
        const x = tf.randomNormal([1, T, 16], 0, 1, "float32", 2);
        const before = tf.memory().numBytes;
        const p = await tf.profile(() => m.forward(x));
        tf.dispose([p.result as tf.Tensor, x]);
        m.dispose();
        return p.peakBytes - before;
      };
      const [small, large] = [await peak(256), await peak(1024)];
      assert.ok(large < 6 * small, `4x the tokens, peak ${small} -> ${large} bytes: linear in T (the inputs and outputs), not quadratic`);
    });

    it("window needs causal, and must be a positive integer", () => {
      assertThrowsMessage(
        () => new MultiHeadAttention(4, 4, 8, 0, 2, { window: 2, causal: false }),
        /MultiHeadAttention: a sliding window .* needs causal: true/,
      );
      assertThrowsMessage(
        () => new MemoryEfficientAttention(4, 4, 8, 0, 2, { window: 0 }),
        /MemoryEfficientAttention: window must be a positive integer, got 0/,
      );
    });
  });

  describe("grouped-query attention", () => {
    it("with as many key/value heads as query heads it is MultiHeadAttention (copied weights); gradients check", () => {
      const mha = new MultiHeadAttention(6, 8, 7, 0, 4, { generator: new Generator(11) });
      const gqa = new GroupedQueryAttention(6, 8, 7, 0, 4, 4, { generator: new Generator(12) }).copyWeightsFrom(mha);
      const x = tf.randomNormal([2, 7, 6], 0, 1, "float32", 13);
      assertClose(data(gqa.forward(x)), data(mha.forward(x)), 1e-6, "gqa(4, 4) = mha");
      const small = new GroupedQueryAttention(4, 4, 5, 0, 2, 1, { generator: new Generator(14) });
      const xs = tf.randomNormal([1, 5, 4], 0, 1, "float32", 15);
      assert.ok(checkGradients(() => tf.sum(tf.square(small.forward(xs))) as tf.Scalar, small.parameters(), "gqa") > 0);
      tf.dispose([x, xs]);
      [mha, gqa, small].forEach((m) => m.dispose());
    });

    it("query head h reads key/value head floor(h / group): MQA's heads share one key and one value", () => {
      const g = new GroupedQueryAttention(8, 8, 6, 0, 4, 2, { generator: new Generator(16) });
      assert.deepStrictEqual(g.kvHeadOf, [0, 0, 1, 1]);
      const mqa = new GroupedQueryAttention(8, 8, 6, 0, 4, 1, { generator: new Generator(17) });
      assert.deepStrictEqual(mqa.kvHeadOf, [0, 0, 0, 0]);
      // Fewer parameters: the key and value projections shrink by heads / kvHeads.
      assert.strictEqual(countParameters(g), 8 * 8 + 2 * (8 * 4) + (8 * 8 + 8));
      // With W_query's head blocks made equal, every MQA head computes the same weights.
      tf.tidy(() => mqa.W_query.weight.assign(tf.tile(mqa.W_query.weight.slice([0, 0], [2, 8]), [4, 1])));
      const x = tf.randomNormal([1, 6, 8], 0, 1, "float32", 18);
      const w = mqa.explain(x).weights;
      for (let h = 1; h < 4; h++)
        assertClose(data(w.slice([0, h, 0, 0], [1, 1, 6, 6])), data(w.slice([0, 0, 0, 0], [1, 1, 6, 6])), 1e-6, `head ${h}`);
      tf.dispose([x, w]);
      [g, mqa].forEach((m) => m.dispose());
    });

    it("refuses key/value heads that do not divide the query heads, and leaks nothing", () => {
      noLeak(() => assertThrowsMessage(() => new GroupedQueryAttention(8, 8, 6, 0, 4, 3), /num_heads = 4 is not a multiple of num_kv_heads = 3/));
    });

    it("the KV cache per token: 2 x layers x kvHeads x head_dim x bytes (the book's companion numbers for a 32-layer, 4096-wide model)", () => {
      // 32 layers, 32 heads of 128, fp16: 524,288 bytes per token; 32k tokens: 17.2 GB. GQA with 8 KV heads: 4.3 GB.
      assert.strictEqual(kvCacheBytesPerToken(32, 32, 128, 2), 524288);
      assert.strictEqual(Math.round((kvCacheBytesPerToken(32, 32, 128, 2) * 32768) / 1e8) / 10, 17.2);
      assert.strictEqual(Math.round((kvCacheBytesPerToken(32, 8, 128, 2) * 32768) / 1e8) / 10, 4.3);
      assertThrowsMessage(() => kvCacheBytesPerToken(0, 8, 128), /kvCacheBytesPerToken: layers must be a positive integer, got 0/);
    });
  });
});
