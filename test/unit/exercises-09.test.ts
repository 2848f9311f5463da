// Notebook 09's exercise checks (9.1-9.4): the right answers pass, every shortcut and wrong answer of issue 28 gets ✗
// with the hint that names its mistake, valid alternatives pass, and no check leaks a tensor.
import * as assert from "assert";
import * as tf from "@tensorflow/tfjs";
import {
  setup,
  checkCacheBytes,
  checkRepeatKvHeads,
  checkDilatedWindowMask,
  checkKvCacheTest,
  suspectKvCache,
  kvCacheBytesPerToken,
  slidingWindowMask,
  MultiHeadAttention,
  Generator,
  type CacheShape,
  type CachedAttention,
} from "attention-lib";
import { says } from "../helpers";

describe("notebook 09's exercise checks", function () {
  this.timeout(60000);
  before(() => setup({ backend: "wasm", verbose: false }));

  it("9.1 checkCacheBytes: right (two ways); query heads, keys only, MLA as keys and values, the latent doubled, the window ignored or always, one layer, 2 bytes hard-coded, no bytes", () => {
    const kept = (m: CacheShape, t: number) => (m.window === null ? t : Math.min(t, m.window));
    const right = (m: CacheShape, t: number) => m.layers * (m.latent ?? 2 * m.kvHeads * m.headDim) * m.bytesPerNumber * kept(m, t);
    says(() => checkCacheBytes(right), /^✓/);
    // the library's formula for the usual case and MLA by hand: a valid alternative
    const viaLibrary = (m: CacheShape, t: number) =>
      (m.latent === null ? kvCacheBytesPerToken(m.layers, m.kvHeads, m.headDim, m.bytesPerNumber) : m.layers * m.latent * m.bytesPerNumber) *
      kept(m, t);
    says(() => checkCacheBytes(viaLibrary), /^✓/);
    // the library's formula alone cannot answer: it knows no latent
    says(
      () => checkCacheBytes((m: CacheShape, t: number) => kvCacheBytesPerToken(m.layers, m.kvHeads, m.headDim, m.bytesPerNumber) * kept(m, t)),
      /with MLA the cache holds only the latent/,
    );
    const wrong: [(m: CacheShape, t: number) => number, RegExp][] = [
      [(m, t) => m.layers * (m.latent ?? 2 * m.heads * m.headDim) * m.bytesPerNumber * kept(m, t), /you counted every query head/],
      [(m, t) => m.layers * (m.latent ?? m.kvHeads * m.headDim) * m.bytesPerNumber * kept(m, t), /keys and values: two vectors/],
      [
        (m, t) => m.layers * (m.latent === null ? 2 * m.kvHeads * m.headDim : 2 * m.latent) * m.bytesPerNumber * kept(m, t),
        /the latent is one vector per token and layer/,
      ],
      [(m, t) => m.layers * (m.latent ?? 2 * m.kvHeads * m.headDim) * m.bytesPerNumber * t, /a sliding window keeps only the last window tokens/],
      [
        (m, t) => m.layers * (m.latent ?? 2 * m.kvHeads * m.headDim) * m.bytesPerNumber * (m.window ?? t),
        /a context shorter than the window keeps all/,
      ],
      [(m, t) => (m.latent ?? 2 * m.kvHeads * m.headDim) * m.bytesPerNumber * kept(m, t), /every layer has its own cache/],
      [(m, t) => m.layers * (m.latent ?? 2 * m.kvHeads * m.headDim) * 2 * kept(m, t), /use the model's bytesPerNumber/],
      [(m, t) => m.layers * (m.latent ?? 2 * m.kvHeads * m.headDim) * kept(m, t), /multiply by the bytes per number/],
      [() => 17, /too small/],
    ];
    for (const [fn, p] of wrong) says(() => checkCacheBytes(fn), p);
    says(() => checkCacheBytes(() => null), /not answered yet/);
  });

  it("9.2 checkRepeatKvHeads: right (gather, or reshape and tile per head); tf.tile's turn order named; MultiHeadAttention's own repetition is switched off", () => {
    const byGather = (kv: tf.Tensor, heads: number) => {
      const group = heads / kv.shape[1]!;
      return tf.gather(
        kv,
        Array.from({ length: heads }, (_, h) => Math.floor(h / group)),
        1,
      );
    };
    says(() => checkRepeatKvHeads(byGather), /^✓/);
    const byTile = (kv: tf.Tensor, heads: number) => {
      const [b, k, T, hd] = kv.shape as number[];
      return tf.tile(kv.reshape([b, k, 1, T * hd]), [1, 1, heads / k, 1]).reshape([b, heads, T, hd]);
    };
    says(() => checkRepeatKvHeads(byTile), /^✓/);
    says(
      () => checkRepeatKvHeads((kv: tf.Tensor, heads: number) => tf.tile(kv, [1, heads / kv.shape[1]!, 1, 1])),
      /your heads come in turn \(0, 1, 0, 1, \.\.\.\), as tf\.tile gives them/,
    );
    says(() => checkRepeatKvHeads((kv: tf.Tensor) => kv.clone()), /shape/);
    // the library's private repetition, reached from outside, does not answer
    const viaLibrary = (kv: tf.Tensor, heads: number) => {
      const m = new MultiHeadAttention(heads, heads, 4, 0, heads, { kvHeads: kv.shape[1]!, generator: new Generator(1) });
      try {
        return (m as unknown as { shareKvHeads(t: tf.Tensor): tf.Tensor }).shareKvHeads(kv);
      } finally {
        m.dispose();
      }
    };
    says(() => checkRepeatKvHeads(viaLibrary), /switched off in this check/);
    // and it is back afterwards
    const m = new MultiHeadAttention(4, 4, 4, 0, 2, { kvHeads: 1, generator: new Generator(1) });
    const x = tf.ones([1, 3, 4]);
    tf.dispose([m.forward(x), x]);
    m.dispose();
    says(() => checkRepeatKvHeads(() => null), /not answered yet/);
  });

  it("9.3 checkDilatedWindowMask: right (loops, or tensor arithmetic); w as positions, no dilation, the future, one key too many, inverted; the library's window alone fails", () => {
    const loops = (T: number, w: number, d: number) =>
      tf.tensor2d(
        Array.from({ length: T }, (_, i) => Array.from({ length: T }, (_, j) => +(j <= i && (i - j) % d === 0 && (i - j) / d < w))),
        [T, T],
      );
    says(() => checkDilatedWindowMask(loops), /^✓/);
    const arithmetic = (T: number, w: number, d: number) =>
      tf.tidy(() => {
        const gap = tf.sub(tf.range(0, T).reshape([T, 1]), tf.range(0, T).reshape([1, T])); // i - j
        const ok = tf.logicalAnd(tf.logicalAnd(tf.greaterEqual(gap, 0), tf.less(gap, w * d)), tf.equal(tf.mod(gap, d), 0));
        return ok.toFloat();
      });
    says(() => checkDilatedWindowMask(arithmetic), /^✓/);
    const rule = (f: (i: number, j: number, w: number, d: number) => boolean) => (T: number, w: number, d: number) =>
      tf.tensor2d(
        Array.from({ length: T }, (_, i) => Array.from({ length: T }, (_, j) => +f(i, j, w, d))),
        [T, T],
      );
    says(() => checkDilatedWindowMask(rule((i, j, w, d) => j <= i && (i - j) % d === 0 && i - j < w)), /w counts keys, not positions/);
    says(() => checkDilatedWindowMask(rule((i, j, w, d) => j <= i && i - j < w * d)), /only every dilation-th one/);
    says(() => checkDilatedWindowMask(rule((i, j, w) => j <= i && i - j < w)), /the dilation is missing: this is a plain sliding window/);
    says(() => checkDilatedWindowMask(rule((i, j, w, d) => (i - j) % d === 0 && Math.abs(i - j) / d < w)), /the future is visible/);
    says(() => checkDilatedWindowMask(rule((i, j, w, d) => j <= i && (i - j) % d === 0 && (i - j) / d <= w)), /one key too many/);
    says(() => checkDilatedWindowMask(rule((i, j, w, d) => !(j <= i && (i - j) % d === 0 && (i - j) / d < w))), /marks what is hidden/);
    says(
      () => checkDilatedWindowMask((T: number, w: number) => tf.tidy(() => tf.sub(1, slidingWindowMask(T, w).toFloat()))),
      /the dilation is missing/,
    );
  });

  describe("9.4 checkKvCacheTest", () => {
    const same = (a: tf.Tensor, b: tf.Tensor) => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] < 1e-5;
    const tokenByToken = (m: CachedAttention, x: tf.Tensor) => {
      const T = x.shape[1]!;
      return tf.concat(
        Array.from({ length: T }, (_, t) => m.forward(x.slice([0, t, 0], [1, 1, -1]), { useCache: true })),
        1,
      );
    };
    const both = (make: () => CachedAttention) => {
      const m = make();
      const [x, y] = [tf.randomNormal([1, 5, m.d], 0, 1, "float32", 1), tf.randomNormal([1, 4, m.d], 0, 1, "float32", 2)];
      if (!same(tokenByToken(m, x), m.forward(x))) return false;
      m.resetCache();
      return same(tokenByToken(m, y), make().forward(y));
    };

    it("a test of both the token-by-token output and a second sequence after resetCache passes (the cache as one chunk then one token, too)", () => {
      says(() => checkKvCacheTest(both), /^✓/);
      const chunks = (make: () => CachedAttention) => {
        const m = make();
        const x = tf.randomNormal([1, 6, m.d], 0, 1, "float32", 3);
        const parts = [m.forward(x.slice([0, 0, 0], [1, 4, -1]), { useCache: true }), m.forward(x.slice([0, 4, 0], [1, 2, -1]), { useCache: true })];
        if (!same(tf.concat(parts, 1), m.forward(x))) return false;
        m.resetCache();
        const y = tf.randomNormal([1, 3, m.d], 0, 1, "float32", 4);
        return same(m.forward(y, { useCache: true }), make().forward(y));
      };
      says(() => checkKvCacheTest(chunks), /^✓/);
    });

    it("a test of only one of the two misses a bug, and the hint says which; always true, always false, errors and non-booleans are named", () => {
      const onlyTokens = (make: () => CachedAttention) => {
        const m = make();
        const x = tf.randomNormal([1, 5, m.d], 0, 1, "float32", 1);
        return same(tokenByToken(m, x), m.forward(x));
      };
      says(() => checkKvCacheTest(onlyTokens), /resetCache\(\) does not empty passed/);
      const onlyReset = (make: () => CachedAttention) => {
        const m = make();
        const [x, y] = [tf.randomNormal([1, 5, m.d], 0, 1, "float32", 1), tf.randomNormal([1, 1, m.d], 0, 1, "float32", 2)];
        m.forward(x, { useCache: true });
        m.resetCache();
        return same(m.forward(y, { useCache: true }), make().forward(y));
      };
      says(() => checkKvCacheTest(onlyReset), /causal mask treats the new tokens as the first ones passed/);
      says(() => checkKvCacheTest(() => true), /resetCache\(\) does not empty passed/);
      says(() => checkKvCacheTest(() => false), /says the correct cache has a bug/);
      says(() => checkKvCacheTest(() => 1), /returned number; it should return true/);
      says(
        () =>
          checkKvCacheTest(() => {
            throw new Error("boom");
          }),
        /boom/,
      );
      says(() => checkKvCacheTest(null), /not answered yet/);
    });

    it("the suspects: the planted one leaks across sequences, the correct one is right, and the unseen bugs each fail a test of their kind", () => {
      const planted = suspectKvCache();
      const correct = suspectKvCache("none");
      assert.strictEqual(
        tf.tidy(() => both(correct)),
        true,
      );
      const made: CachedAttention[] = [];
      const track = (f: () => CachedAttention) => () => {
        const m = f();
        made.push(m);
        return m;
      };
      assert.strictEqual(
        tf.tidy(() => both(track(planted))),
        false,
      );
      made.forEach((m) => m.dispose());
      assert.throws(() => suspectKvCache("other" as "none"), /suspectKvCache: expected "planted" or "none"/);
    });
  });
});
