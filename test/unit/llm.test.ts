// Notebook 09: grouped-query attention and sliding windows, each equal to what it replaces where it should be.
import * as assert from "assert";
import * as tf from "@tensorflow/tfjs";
import {
  setup,
  MultiHeadAttention,
  MemoryEfficientAttention,
  FusedMultiHeadAttention,
  Generator,
  slidingWindowMask,
  causalMask,
  kvCacheBytesPerToken,
  countParameters,
} from "attention-lib";
import { assertClose, assertThrowsMessage, checkGradients, data, noLeak, refuses } from "../helpers";

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

  describe("grouped-query attention: MultiHeadAttention with kvHeads", () => {
    /** A MultiHeadAttention with a key/value head per query head, whose key/value weights repeat gqa's per group. */
    const expanded = (gqa: MultiHeadAttention) => {
      const mha = new MultiHeadAttention(gqa.dIn, gqa.dOut, gqa.contextLength, 0, gqa.numHeads, { generator: new Generator(99) });
      const group = gqa.numHeads / gqa.numKvHeads;
      const hd = gqa.headDim;
      tf.tidy(() => {
        const repeat = (w: tf.Tensor) =>
          tf.concat(
            Array.from({ length: gqa.numHeads }, (_, h) => w.slice([Math.floor(h / group) * hd, 0], [hd, -1])),
            0,
          );
        mha.W_query.weight.assign(gqa.W_query.weight);
        mha.W_key.weight.assign(repeat(gqa.W_key.weight));
        mha.W_value.weight.assign(repeat(gqa.W_value.weight));
        mha.out_proj.weight.assign(gqa.out_proj.weight);
        mha.out_proj.bias!.assign(gqa.out_proj.bias!);
      });
      return mha;
    };

    it("query head h reads key/value head floor(h / group): equal to multi-head attention whose key/value weights repeat per group (GQA and MQA); gradients check", () => {
      for (const [heads, kv] of [
        [4, 2],
        [4, 1],
        [6, 3],
      ]) {
        const gqa = new MultiHeadAttention(6, 12, 7, 0, heads, { kvHeads: kv, generator: new Generator(11 + kv) });
        const mha = expanded(gqa);
        const x = tf.randomNormal([2, 7, 6], 0, 1, "float32", 13);
        assertClose(data(gqa.forward(x)), data(mha.forward(x)), 1e-5, `${heads} heads over ${kv}`);
        tf.dispose(x);
        [mha, gqa].forEach((m) => m.dispose());
      }
      const small = new MultiHeadAttention(4, 4, 5, 0, 2, { kvHeads: 1, generator: new Generator(14) });
      const xs = tf.randomNormal([1, 5, 4], 0, 1, "float32", 15);
      assert.ok(checkGradients(() => tf.sum(tf.square(small.forward(xs))) as tf.Scalar, small.parameters(), "gqa") > 0);
      tf.dispose(xs);
      small.dispose();
    });

    it("fewer key/value parameters, the same for kvHeads = heads as the default; with W_query's head blocks equal, every MQA head computes the same weights", () => {
      const g = new MultiHeadAttention(8, 8, 6, 0, 4, { kvHeads: 2, generator: new Generator(16) });
      assert.strictEqual(countParameters(g), 8 * 8 + 2 * (8 * 4) + (8 * 8 + 8));
      const full = new MultiHeadAttention(8, 8, 6, 0, 4, { kvHeads: 4, generator: new Generator(16) });
      const plain = new MultiHeadAttention(8, 8, 6, 0, 4, { generator: new Generator(16) });
      const x = tf.randomNormal([1, 6, 8], 0, 1, "float32", 18);
      assertClose(data(full.forward(x)), data(plain.forward(x)), 0, "kvHeads = heads is the default");
      const mqa = new MultiHeadAttention(8, 8, 6, 0, 4, { kvHeads: 1, generator: new Generator(17) });
      tf.tidy(() => mqa.W_query.weight.assign(tf.tile(mqa.W_query.weight.slice([0, 0], [2, 8]), [4, 1])));
      const w = mqa.explain(x).weights;
      for (let h = 1; h < 4; h++)
        assertClose(data(w.slice([0, h, 0, 0], [1, 1, 6, 6])), data(w.slice([0, 0, 0, 0], [1, 1, 6, 6])), 1e-6, `head ${h}`);
      tf.dispose([x, w]);
      [g, full, plain, mqa].forEach((m) => m.dispose());
    });

    it("refuses key/value heads that do not divide the query heads, and leaks nothing", () => {
      noLeak(() =>
        assertThrowsMessage(() => new MultiHeadAttention(8, 8, 6, 0, 4, { kvHeads: 3 }), /num_heads = 4 is not a multiple of kvHeads = 3/),
      );
      noLeak(() => assertThrowsMessage(() => new MultiHeadAttention(8, 8, 6, 0, 4, { kvHeads: 0 }), /kvHeads must be a positive integer, got 0/));
    });
  });

  describe("the KV cache", () => {
    /** Feed x [b, T, d] in chunks through the cache; the outputs, concatenated: [b, T, d_out]. */
    const inChunks = (m: MultiHeadAttention, x: tf.Tensor, sizes: number[]) => {
      m.resetCache();
      let start = 0;
      const outs = sizes.map((n) => {
        const out = m.forward(x.slice([0, start, 0], [-1, n, -1]), { useCache: true });
        start += n;
        return out;
      });
      return tf.concat(outs, 1);
    };

    it("token by token (or in chunks) equals the whole sequence at once: causal, rope, GQA, sliding window", () => {
      const x = tf.randomNormal([2, 9, 8], 0, 1, "float32", 40);
      const settings = [{}, { rope: true }, { kvHeads: 1 }, { window: 3 }, { window: 1 }, { window: 4, rope: true, kvHeads: 2 }];
      for (const options of settings) {
        const m = new MultiHeadAttention(8, 8, 12, 0, 4, { generator: new Generator(41), ...options });
        const whole = data(m.forward(x));
        assertClose(data(inChunks(m, x, new Array(9).fill(1))), whole, 1e-5, `${JSON.stringify(options)}: token by token`);
        assertClose(data(inChunks(m, x, [4, 1, 3, 1])), whole, 1e-5, `${JSON.stringify(options)}: in chunks`);
        m.resetCache();
        m.dispose();
      }
      tf.dispose(x);
    });

    it("keeps kvHeads x head_dim numbers per token (a sliding window only the window - 1 newest); resetCache frees it; dispose frees it too", () => {
      const m = new MultiHeadAttention(8, 8, 12, 0, 4, { kvHeads: 2, generator: new Generator(42) });
      const before = tf.memory().numTensors;
      const x = tf.randomNormal([3, 5, 8], 0, 1, "float32", 43);
      tf.dispose(m.forward(x, { useCache: true }));
      assert.deepStrictEqual([m.cache.tokens, m.cache.keys!.shape, m.cache.values!.shape], [5, [3, 2, 5, 2], [3, 2, 5, 2]]);
      tf.tidy(() => {
        m.forward(x.slice([0, 0, 0], [3, 1, 8]), { useCache: true });
      });
      assert.deepStrictEqual([m.cache.tokens, m.cache.keys!.shape], [6, [3, 2, 6, 2]]);
      m.resetCache();
      assert.deepStrictEqual([m.cache.tokens, m.cache.keys], [0, null]);
      tf.dispose(x);
      assert.strictEqual(tf.memory().numTensors, before, "nothing left behind");
      const w = new MultiHeadAttention(8, 8, 12, 0, 4, { window: 3, generator: new Generator(44) });
      const y = tf.randomNormal([1, 7, 8], 0, 1, "float32", 45);
      tf.dispose(w.forward(y, { useCache: true }));
      assert.deepStrictEqual([w.cache.tokens, w.cache.keys!.shape], [7, [1, 4, 2, 2]]);
      const held = tf.memory().numTensors;
      w.dispose();
      assert.strictEqual(tf.memory().numTensors, held - 5 - 1 - 2, "dispose frees the 5 parameters, the mask and the cache");
      tf.dispose(y);
    });

    it("cross-attention computes the memory's keys and values once and reuses them; refuses a cache past the context length or of another batch", () => {
      const m = new MultiHeadAttention(4, 4, 6, 0, 2, { causal: false, generator: new Generator(46) });
      const memory = tf.randomNormal([2, 5, 4], 0, 1, "float32", 47);
      const x = tf.randomNormal([2, 3, 4], 0, 1, "float32", 48);
      const expected = data(m.forward(x, { memory }));
      const first = m.forward(x.slice([0, 0, 0], [2, 1, 4]), { memory, useCache: true });
      const keys = m.cache.keys;
      const rest = m.forward(x.slice([0, 1, 0], [2, 2, 4]), { memory, useCache: true });
      assert.strictEqual(m.cache.keys, keys, "the same tensor: not computed again");
      assertClose(data(tf.concat([first, rest], 1)), expected, 1e-6, "cached cross-attention");
      const [x1, memory1] = [x.slice([0, 0, 0], [1, 1, 4]), memory.slice([0, 0, 0], [1, 5, 4])];
      refuses(() => m.forward(x1, { memory: memory1, useCache: true }), /the cache holds 2 sequences but the inputs have 1; call resetCache\(\)/);
      m.resetCache();
      const c = new MultiHeadAttention(4, 4, 4, 0, 2, { generator: new Generator(49) });
      tf.dispose(c.forward(x, { useCache: true }));
      const x2 = x.slice([0, 0, 0], [2, 2, 4]);
      refuses(() => c.forward(x2, { useCache: true }), /the cache holds 3 tokens and 2 more come in, more than the context length 4/);
      c.resetCache();
      tf.dispose([memory, x, first, rest, x1, memory1, x2]);
      [m, c].forEach((mm) => mm.dispose());
    });
  });

  describe("the KV cache's size", () => {
    it("the KV cache per token: 2 x layers x kvHeads x head_dim x bytes (the book's companion numbers for a 32-layer, 4096-wide model)", () => {
      // 32 layers, 32 heads of 128, fp16: 524,288 bytes per token; 32k tokens: 17.2 GB. GQA with 8 KV heads: 4.3 GB.
      assert.strictEqual(kvCacheBytesPerToken(32, 32, 128, 2), 524288);
      assert.strictEqual(Math.round((kvCacheBytesPerToken(32, 32, 128, 2) * 32768) / 1e8) / 10, 17.2);
      assert.strictEqual(Math.round((kvCacheBytesPerToken(32, 8, 128, 2) * 32768) / 1e8) / 10, 4.3);
      assertThrowsMessage(() => kvCacheBytesPerToken(0, 8, 128), /kvCacheBytesPerToken: layers must be a positive integer, got 0/);
    });
  });
});
