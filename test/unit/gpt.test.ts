// Notebook 09's GPT: causal, the same tokens with and without the KV cache for every attention variant, MLA's latent
// cache, the window's band, seeded sampling, refusals that leak nothing, and the committed checkpoints and results.
import * as assert from "assert";
import * as tf from "@tensorflow/tfjs";
import { existsSync, readFileSync } from "fs";
import { join } from "path";
import {
  setup,
  GPT,
  type GPTConfig,
  MultiHeadAttention,
  Generator,
  generate,
  sampleNext,
  nextWordProbabilities,
  languageModelPairs,
  languageModelLoss,
  loadCheckpoint,
  loadCorpus,
  buildVocabularies,
  countParameters,
} from "attention-lib";
import { assertClose, data, noLeak, refuses } from "../helpers";

const ROOT = join(__dirname, "..", "..", "..");
const V = 20;
const small = (extra: Partial<GPTConfig> = {}) =>
  new GPT({ kind: "gpt", srcVocab: V, tgtVocab: V, d: 16, heads: 4, hidden: 32, layers: 2, contextLength: 24, seed: 3, ...extra });
const VARIANTS: [string, Partial<GPTConfig>][] = [
  ["MHA", {}],
  ["GQA (2 key/value heads)", { kvHeads: 2 }],
  ["MQA", { kvHeads: 1 }],
  ["MLA (latent 6)", { kvLatent: 6 }],
  ["window 3", { window: 3 }],
  ["MLA with a window of 4", { kvLatent: 6, window: 4 }],
];

describe("the GPT (notebook 09)", function () {
  this.timeout(300000);
  before(() => setup({ backend: "wasm", verbose: false }));

  it("is causal: changing a later token changes no earlier logit, and does change its own", () => {
    for (const [name, extra] of VARIANTS) {
      const m = small(extra);
      const a = [1, 5, 7, 9, 4, 11, 3, 8];
      const b = [...a];
      b[5] = 12;
      const [la, lb] = [m.forward(a), m.forward(b)];
      const [da, db] = [data(la), data(lb)];
      const cut = 5 * V;
      assertClose(db.slice(0, cut), da.slice(0, cut), 0, `${name}: positions 0-4`);
      assert.ok(Math.max(...da.slice(cut, cut + V).map((v, i) => Math.abs(v - db[cut + i]))) > 1e-4, `${name}: position 5 must change`);
      tf.dispose([la, lb]);
      m.dispose();
    }
  });

  it("writes the same tokens with and without the KV cache, for every attention variant, greedy and sampled; leaves no tensor behind", () => {
    for (const [name, extra] of VARIANTS) {
      const m = small(extra);
      for (const sampling of [{}, { temperature: 1.5, topK: 8 }]) {
        const run = (cache: boolean) =>
          noLeak(() => generate(m, [4, 9, 2 + 4], { maxNew: 15, cache, stopAtEos: false, ...sampling, generator: new Generator(11) }).ids);
        const [plain, cached] = [run(false), run(true)];
        assert.strictEqual(plain.length, 18);
        assert.deepStrictEqual(cached, plain, `${name} ${JSON.stringify(sampling)}`);
      }
      assert.strictEqual(m.cachedTokens, 0, "generate empties the cache");
      m.dispose();
    }
  });

  it("forward and explain keep only what they return (with and without the cache, every variant)", () => {
    for (const [name, extra] of VARIANTS) {
      const m = small(extra);
      noLeak(() => tf.dispose(m.forward([1, 2, 3, 4])));
      const before = tf.memory().numTensors;
      tf.dispose(m.forward([1, 2, 3, 4], { useCache: true }));
      tf.dispose(m.forward([5], { useCache: true }));
      m.resetCache();
      assert.strictEqual(tf.memory().numTensors, before, `${name}: the cache is freed by resetCache and nothing else stays`);
      const out = noLeak(() => m.explain([1, 2, 3]), 1 + m.config.layers);
      tf.dispose([out.logits, ...out.weights]);
      m.dispose();
    }
  });

  it("forward with the cache, a few tokens at a time, gives the logits of the whole sequence", () => {
    for (const [name, extra] of VARIANTS) {
      const m = small(extra);
      const ids = [1, 3, 5, 7, 9, 11, 13, 2, 4, 6];
      const whole = m.forward(ids);
      const parts = [ids.slice(0, 4), ids.slice(4, 5), ids.slice(5)].map((p) => m.forward(p, { useCache: true }));
      const joined = tf.concat(parts, 1);
      assertClose(data(joined), data(whole), 2e-5, name);
      assert.strictEqual(m.cachedTokens, 10);
      m.resetCache();
      tf.dispose([whole, joined, ...parts]);
      m.dispose();
    }
  });

  it("GQA with as many key/value heads as query heads is multi-head attention: same parameters, same logits", () => {
    const [mha, gqa] = [small(), small({ kvHeads: 4 })];
    const ids = [1, 2, 3, 4, 5];
    assertClose(data(gqa.forward(ids)), data(mha.forward(ids)), 0);
    assert.strictEqual(countParameters(gqa), countParameters(mha));
    [mha, gqa].forEach((m) => m.dispose());
  });

  it("MLA: keys and values come from one latent, which is all the cache keeps ([b, T, latent]); a window keeps window - 1 latents", () => {
    const m = new MultiHeadAttention(12, 12, 10, 0, 3, { kvLatent: 5, kvHeads: 3, generator: new Generator(2) });
    assert.deepStrictEqual(m.W_kv_down!.weight.shape, [5, 12]);
    assert.deepStrictEqual(m.W_key.weight.shape, [12, 5]);
    const x = tf.randomNormal([2, 7, 12], 0, 1, "float32", 4);
    const latent = m.W_kv_down!.forward(x);
    const mQ = m.W_query.forward(x);
    // compare the weights: recompute scores from the latent with the module's own projections
    const { weights } = m.explain(x);
    const q = mQ.reshape([2, 7, 3, 4]).transpose([0, 2, 1, 3]);
    const k = m.W_key.forward(latent).reshape([2, 7, 3, 4]).transpose([0, 2, 1, 3]);
    const scores = tf.div(tf.matMul(q, k, false, true), 2); // sqrt(head_dim 4)
    const future = tf.linalg
      .bandPart(tf.ones([7, 7]), 0, -1)
      .sub(tf.eye(7))
      .mul(-1e9);
    assertClose(data(weights), data(tf.softmax(tf.add(scores, future))), 1e-5, "weights from the latent");
    tf.dispose(m.forward(x, { useCache: true }));
    const c = m.cache;
    assert.strictEqual(c.keys, null);
    assert.deepStrictEqual(c.latent!.shape, [2, 7, 5]);
    m.resetCache();
    const w = new MultiHeadAttention(12, 12, 10, 0, 3, { kvLatent: 5, window: 3, generator: new Generator(2) });
    tf.dispose(w.forward(x, { useCache: true }));
    assert.deepStrictEqual(w.cache.latent!.shape, [2, 2, 5]);
    assert.strictEqual(w.cache.tokens, 7);
    w.resetCache();
    refuses(
      () => new MultiHeadAttention(12, 12, 10, 0, 3, { kvLatent: 5, rope: true }),
      /MultiHeadAttention: kvLatent \(MLA\) with rope is not supported; MLA needs a decoupled rotary key/,
    );
    refuses(() => new MultiHeadAttention(12, 12, 10, 0, 3, { kvLatent: 0 }), /MultiHeadAttention: kvLatent must be a positive integer, got 0/);
    tf.dispose([x, latent, mQ, weights, q, k, scores, future]);
    [m, w].forEach((t) => t.dispose());
  });

  it("a window's attention is a band: no weight on keys window or more positions back", () => {
    const m = small({ window: 3 });
    const { logits, weights } = m.explain([1, 2, 3, 4, 5, 6, 7, 8]);
    for (const wt of weights) {
      const rows = wt.arraySync() as number[][][][];
      rows[0].forEach((head) =>
        head.forEach((row, q) =>
          row.forEach((v, k) => {
            if (k > q || k <= q - 3) assert.strictEqual(v, 0, `query ${q} key ${k}`);
            else assert.ok(v > 0);
          }),
        ),
      );
    }
    tf.dispose([logits, ...weights]);
    m.dispose();
  });

  it("sampling: greedy is the argmax, top-1 is greedy, top-k draws only among the k largest, and a seeded generator repeats itself", () => {
    const logits = [0.1, 2, -1, 1.9, 0.5];
    assert.strictEqual(sampleNext(logits), 1);
    const draws = (seed: number, k: number | null, n = 200) => {
      const g = new Generator(seed);
      return Array.from({ length: n }, () => sampleNext(logits, { temperature: 1, topK: k, generator: g }));
    };
    assert.ok(draws(1, 1).every((i) => i === 1));
    assert.deepStrictEqual([...new Set(draws(1, 2))].sort(), [1, 3]);
    assert.deepStrictEqual([...new Set(draws(1, null, 500))].sort(), [0, 1, 2, 3, 4]);
    assert.deepStrictEqual(draws(5, 3), draws(5, 3));
    assert.notDeepStrictEqual(draws(5, 3), draws(6, 3));
    // frequencies follow softmax(logits / T): token 1 against token 3 at T = 1 is e^0.1 ≈ 1.105
    const many = draws(9, 2, 4000);
    const ratio = many.filter((i) => i === 1).length / many.filter((i) => i === 3).length;
    assert.ok(Math.abs(ratio - Math.exp(0.1)) < 0.12, `ratio ${ratio}`);
    const m = small();
    const p = nextWordProbabilities(m, [4, 5]);
    assert.strictEqual(p.length, V);
    assertClose([p.reduce((a, b) => a + b, 0)], [1], 1e-5);
    m.dispose();
  });

  it("refuses what it cannot do, naming itself, and leaks nothing", () => {
    const m = small();
    refuses(() => m.forward([1, 2, V]), /GPT.forward: ids holds token id 20|GPT.forward: .*ids.*20/);
    refuses(() => m.forward(Array.from({ length: 25 }, () => 1)), /GPT.forward: 25 tokens \(0 cached \+ 25 new\), more than the 24 positions/);
    refuses(() => m.forward([]), /GPT.forward: no token ids/);
    refuses(
      () => generate(m, [1, 2], { maxNew: 30 }),
      /generate: <bos>, 2 prompt tokens and 30 new ones make 33, more than the 24 positions this GPT has; ask for at most 21/,
    );
    refuses(() => generate(m, [1, 99], { maxNew: 3 }), /generate: prompt must be an array of token ids in 0..19/);
    refuses(() => generate(m, [1], { maxNew: 3, temperature: -1 }), /generate: temperature must be a number >= 0/);
    refuses(() => sampleNext([1, 2], { topK: 0 }), /sampleNext: topK must be a positive integer or null, got 0/);
    refuses(() => small({ srcVocab: 5 }), /GPT: a language model reads and writes one vocabulary, so srcVocab \(5\) must equal tgtVocab \(20\)/);
    refuses(() => small({ kvHeads: 3 }), /GPT: heads = 4 is not a multiple of kvHeads = 3/);
    tf.dispose(m.forward([1, 2, 3], { useCache: true }));
    const two = tf.tensor2d([[1], [2]], [2, 1], "int32");
    refuses(() => m.forward(two, { useCache: true }), /GPT.forward: the cache holds 1 sequences but ids has 2; call resetCache\(\)/);
    two.dispose();
    m.resetCache();
    m.dispose();
  });

  describe("the committed checkpoints and results (data/checkpoints/gpt*, data/results/gpt-variants.json)", () => {
    const resultsFile = join(ROOT, "data", "results", "gpt-variants.json");
    const results = existsSync(resultsFile) ? JSON.parse(readFileSync(resultsFile, "utf8")) : null;

    it("every variant in the results has a checkpoint with its config, parameters and cache bytes; the same steps, batches and seed", function () {
      if (!results) this.skip();
      const names = Object.keys(results.variants);
      assert.ok(names.includes("gpt"), "the base GPT is there");
      for (const name of names) {
        const r = results.variants[name];
        const { model, notes } = loadCheckpoint<GPT>(join(ROOT, "data", "checkpoints", name));
        assert.deepStrictEqual(model.config, r.config, name);
        assert.strictEqual(countParameters(model), r.parameters, name);
        const c = model.config;
        const perLayer = c.kvLatent ?? 2 * c.kvHeads * (c.d / c.heads);
        assert.strictEqual(r.cache_bytes_per_token, perLayer * c.layers * 4, name);
        assert.strictEqual(notes.steps, results.training.steps, `${name} trained as many steps as the others`);
        assert.strictEqual(r.steps, results.training.steps);
        assert.strictEqual(c.heads, results.sizes.heads);
        assert.strictEqual(c.seed, results.training.seed);
        assert.ok(r.valid_loss > 0 && r.valid_loss < r.losses[0].loss, `${name} learned something`);
        model.dispose();
      }
    });

    it("the base GPT's validation loss is the one in the results", function () {
      if (!results) this.skip();
      const corpus = loadCorpus(join(ROOT, "data", "corpus"));
      const vocab = buildVocabularies(corpus.train).src;
      const { model } = loadCheckpoint<GPT>(join(ROOT, "data", "checkpoints", "gpt"));
      const loss = languageModelLoss(model, languageModelPairs(corpus.valid, vocab));
      assertClose([loss], [results.variants.gpt.valid_loss], 2e-4);
      model.dispose();
    });
  });
});
