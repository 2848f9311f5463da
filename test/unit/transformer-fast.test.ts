// The speed wings of the Transformer (lib/src/transformer/fast/) and the GPT (lib/src/gpt/fast/), and the shared fast
// update (lib/src/fast/training.ts): held to the readable models and to tfjs's own clipping and Adam.
import * as assert from "assert";
import * as tf from "@tensorflow/tfjs";
import { setup, TransformerTranslator, Seq2Seq, GPT, Generator, generate, type PositionScheme, type GPTConfig } from "attention-lib";
import {
  FAST_LOSSES,
  clipAndAdam,
  clipByGlobalNorm,
  gptWing,
  makeBatch,
  toTensors,
  trainStep,
  transformerWing,
  withFastKernels,
} from "attention-lib/internal";
import { assertClose, data } from "../helpers";

const VOCAB = 24;

/** Five pairs of different lengths (padding on both sides), ids from a fixed generator. */
function batch() {
  const g = new Generator(7);
  const id = () => 4 + Math.floor(g.nextFloat64() * (VOCAB - 4));
  const pairs = Array.from({ length: 5 }, (_, i) => ({
    src: [...Array.from({ length: 3 + i }, id), 2],
    tgt: [...Array.from({ length: 6 - i }, id), 2],
  }));
  return toTensors(makeBatch(pairs));
}

const model = (positions: PositionScheme, dropout = 0) =>
  new TransformerTranslator({
    kind: "transformer",
    positions,
    d: 16,
    heads: 2,
    hidden: 24,
    layers: 2,
    dropout,
    srcVocab: VOCAB,
    tgtVocab: VOCAB,
    seed: 3,
  });

describe("the Transformer's speed wing equals the readable model", function () {
  this.timeout(120000);
  after(() => setup({ backend: "wasm", verbose: false }));

  for (const backend of ["wasm", "cpu"] as const) {
    for (const positions of ["sinusoidal", "learned", "rope"] as const) {
      it(`${positions} positions on ${backend}: logits, loss and every gradient within 1e-5`, async () => {
        await setup({ backend, verbose: false });
        const m = model(positions);
        const t = batch();
        const [B, T] = t.tgtIn.shape;
        const fast = transformerWing.fastTransformerLogits(m, t);
        const slow = tf.tidy(() => m.forward(t).logits.reshape([B * T, VOCAB]));
        assertClose(data(fast), data(slow), 1e-5, "logits");
        const [lf, ls] = [transformerWing.fastTransformerLoss(m, t), m.loss(t)];
        assertClose(data(lf), data(ls), 1e-5, "loss");
        // A loss that reaches every logit with a different weight, plus the cross-entropy itself.
        const r = tf.randomUniform([B * T, VOCAB], -1, 1, "float32", 3);
        const gFast = withFastKernels(
          () =>
            tf.variableGrads(
              () => tf.add(transformerWing.fastTransformerLoss(m, t), tf.sum(tf.mul(transformerWing.fastTransformerLogits(m, t), r))) as tf.Scalar,
              m.parameters(),
            ).grads,
        );
        const gSlow = tf.variableGrads(
          () => tf.add(m.loss(t), tf.sum(tf.mul(m.forward(t).logits.reshape([B * T, VOCAB]), r))) as tf.Scalar,
          m.parameters(),
        ).grads;
        assert.strictEqual(Object.keys(gFast).length, Object.keys(gSlow).length);
        for (const p of m.parameters()) assertClose(data(gFast[p.name]), data(gSlow[p.name]), 1e-5, `gradient of ${p.name}`);
        tf.dispose([fast, slow, lf, ls, r, gFast, gSlow, t]);
        m.dispose();
      });
    }
  }

  it("a padded source row gets exactly zero attention, and a row of the batch does not depend on the others", async () => {
    await setup({ backend: "wasm", verbose: false });
    const m = model("sinusoidal");
    const t = batch();
    const [B, T] = t.tgtIn.shape;
    const all = data(transformerWing.fastTransformerLogits(m, t));
    // The first sentence alone, without the padding the longer ones force on it.
    const srcLen = data(tf.sum(t.srcMask.slice([0, 0], [1, -1]))).at(0)!;
    const one = {
      src: t.src.slice([0, 0], [1, srcLen]),
      srcMask: t.srcMask.slice([0, 0], [1, srcLen]),
      tgtIn: t.tgtIn.slice([0, 0], [1, T]),
    };
    const alone = data(transformerWing.fastTransformerLogits(m, one));
    assertClose(alone, all.slice(0, T * VOCAB), 1e-5, "sentence 0 with and without padding");
    assert.ok(B > 1);
    tf.dispose([one.src, one.srcMask, one.tgtIn, t]);
    m.dispose();
  });

  it("declines what it does not compute (dropout while training), and the Trainer's step falls back to the readable loss", () => {
    const m = model("sinusoidal", 0.1);
    const t = batch();
    m.train();
    assert.strictEqual(FAST_LOSSES.transformer(m, t), null);
    assert.throws(() => transformerWing.fastTransformerLogits(m, t), /fastTransformerLogits: the wing draws no dropout masks/);
    const opt = tf.train.adam(1e-3);
    const loss = trainStep(m, opt, t);
    assert.ok(Number.isFinite(data(loss)[0]));
    m.eval();
    const l = FAST_LOSSES.transformer(m, t)!;
    assertClose(data(l), data(m.loss(t)), 1e-5, "in evaluation mode the wing covers dropout models");
    tf.dispose([loss, l, t]);
    opt.dispose();
    m.dispose();
  });

  for (const positions of ["sinusoidal", "learned", "rope"] as const) {
    it(`generation (${positions}): the readable translate's words with and without the KV cache, each step's logits within 1e-5`, async () => {
      await setup({ backend: "wasm", verbose: false });
      const m = model(positions, 0.1); // in training mode: both decode in evaluation mode and put it back
      const src = tf.tensor2d(
        [
          [5, 6, 7, 8, 2],
          [9, 10, 2, 0, 0],
        ],
        [2, 5],
        "int32",
      );
      const mask = tf.tensor2d([
        [1, 1, 1, 1, 1],
        [1, 1, 1, 0, 0],
      ]);
      const readable = m.translate(src, mask, { maxLen: 12 });
      const cached = transformerWing.fastTranslate(m, src, mask, { maxLen: 12, cache: true, logits: true });
      const full = transformerWing.fastTranslate(m, src, mask, { maxLen: 12, cache: false, logits: true });
      assert.deepStrictEqual(cached.ids, readable.ids);
      assert.deepStrictEqual(full.ids, readable.ids);
      assert.strictEqual(m.training, true, "training mode is put back");
      // Each step's logits against the readable decoder over the words written (teacher forcing on them).
      m.eval();
      const steps = Math.min(...cached.logits.map((l) => l.length));
      const tgtIn = tf.tensor2d(
        cached.ids.map((ids) => [1, ...ids].slice(0, steps)),
        [2, steps],
        "int32",
      );
      const ref = m.forward({ src, srcMask: mask, tgtIn }).logits;
      const take = (l: number[][][]) => l.flatMap((rows) => rows.slice(0, steps).flat());
      assertClose(take(cached.logits), data(ref), 1e-5, "logits with the cache");
      assertClose(take(full.logits), data(ref), 1e-5, "logits without the cache");
      tf.dispose([src, mask, tgtIn, ref]);
      m.dispose();
    });
  }

  it("every translator kind has a fast loss, which the Trainer finds by config.kind (it never asks for the class)", () => {
    for (const kind of ["plain", "bahdanau", "transformer", "gpt"]) assert.strictEqual(typeof FAST_LOSSES[kind], "function", kind);
  });
});

describe("the GPT's speed wing equals the readable GPT", function () {
  this.timeout(120000);
  after(() => setup({ backend: "wasm", verbose: false }));
  const gpt = (extra: Partial<GPTConfig> = {}) =>
    new GPT({ kind: "gpt", srcVocab: VOCAB, tgtVocab: VOCAB, d: 16, heads: 4, hidden: 32, layers: 2, contextLength: 16, seed: 4, ...extra });

  const variants: [string, Partial<GPTConfig>][] = [
    ["multi-head", {}],
    ["grouped-query (2 key/value heads)", { kvHeads: 2 }],
    ["multi-query", { kvHeads: 1 }],
    ["a sliding window of 3", { window: 3 }],
  ];
  for (const backend of ["wasm", "cpu"] as const) {
    for (const [what, extra] of variants) {
      it(`${what} on ${backend}: logits, loss and every gradient within 1e-5`, async () => {
        await setup({ backend, verbose: false });
        const m = gpt(extra);
        const t = batch();
        const [B, T] = t.tgtIn.shape;
        const fast = gptWing.fastGptLogits(m, t.tgtIn);
        const slow = tf.tidy(() => m.forward(t.tgtIn).reshape([B * T, VOCAB]));
        assertClose(data(fast), data(slow), 1e-5, "logits");
        const r = tf.randomUniform([B * T, VOCAB], -1, 1, "float32", 3);
        const gFast = withFastKernels(
          () =>
            tf.variableGrads(
              () => tf.add(gptWing.fastGptLoss(m, t), tf.sum(tf.mul(gptWing.fastGptLogits(m, t.tgtIn), r))) as tf.Scalar,
              m.parameters(),
            ).grads,
        );
        const gSlow = tf.variableGrads(
          () => tf.add(m.loss(t), tf.sum(tf.mul(m.forward(t.tgtIn).reshape([B * T, VOCAB]), r))) as tf.Scalar,
          m.parameters(),
        ).grads;
        for (const p of m.parameters()) assertClose(data(gFast[p.name]), data(gSlow[p.name]), 1e-5, `gradient of ${p.name}`);
        tf.dispose([fast, slow, r, gFast, gSlow, t]);
        m.dispose();
      });
    }
  }

  for (const [what, extra] of variants) {
    it(`generation (${what}): generate's tokens with and without the KV cache, each step's logits within 1e-5`, async () => {
      await setup({ backend: "wasm", verbose: false });
      const m = gpt(extra);
      const readable = generate(m, [5, 6], { maxNew: 10, stopAtEos: false });
      const cached = gptWing.fastGenerate(m, [5, 6], { maxNew: 10, stopAtEos: false, logits: true });
      const full = gptWing.fastGenerate(m, [5, 6], { maxNew: 10, stopAtEos: false, cache: false, logits: true });
      assert.deepStrictEqual(cached.ids, readable.ids);
      assert.deepStrictEqual(full.ids, readable.ids);
      const ref = tf.tidy(() => m.forward([1, ...cached.ids.slice(0, -1)]).slice([0, 2, 0], [1, 10, VOCAB]));
      assertClose(cached.logits.flat(), data(ref), 1e-5, "logits with the cache");
      assertClose(full.logits.flat(), data(ref), 1e-5, "logits without the cache");
      tf.dispose(ref);
      m.dispose();
    });
  }

  it("declines MLA's latent (training and generation) and dropout while training (the Trainer then uses the readable loss)", async () => {
    await setup({ backend: "wasm", verbose: false });
    const t = batch();
    for (const m of [gpt({ kvLatent: 8 }), gpt({ dropout: 0.1 })]) {
      m.train();
      assert.strictEqual(FAST_LOSSES.gpt(m, t), null);
      m.dispose();
    }
    const mla = gpt({ kvLatent: 8 });
    assert.throws(() => gptWing.fastGenerate(mla, [5], { maxNew: 3 }), /fastGenerate: MLA's latent cache is not in the speed wing/);
    mla.dispose();
    tf.dispose(t);
  });
});

describe("clipping and Adam as one kernel (clipAndAdam) = clipByGlobalNorm + tfjs's Adam", function () {
  this.timeout(60000);
  after(() => setup({ backend: "wasm", verbose: false }));

  for (const backend of ["wasm", "cpu"] as const) {
    it(`on ${backend}: the same weights and moments after steps with and without clipping, either path continuing the other's`, async () => {
      await setup({ backend, verbose: false });
      const make = () => new Seq2Seq({ kind: "plain", srcVocab: 12, tgtVocab: 12, embedding: 6, hidden: 8, seed: 5 });
      const [a, b] = [make(), make()];
      const [oa, ob] = [tf.train.adam(1e-2), tf.train.adam(1e-2)];
      const gradsOf = (m: Seq2Seq, scale: number) =>
        tf.tidy(() => Object.fromEntries(m.parameters().map((p, i) => [p.name, tf.mul(tf.randomNormal(p.shape, 0, 1, "float32", i + 1), scale)])));
      // Big gradients (clipped to norm 1), small ones (not clipped), then the readable path on the fused path's state.
      for (const [k, scale] of [3, 1e-3, 2, 1e-3].entries()) {
        const [ga, gb] = [gradsOf(a, scale), gradsOf(b, scale)];
        if (k < 3) assert.strictEqual(clipAndAdam(oa, ga, 1), true);
        else {
          const c = clipByGlobalNorm(ga, 1);
          oa.applyGradients(c.grads as unknown as Record<string, tf.Variable>);
          tf.dispose(c);
        }
        const c = clipByGlobalNorm(gb, 1);
        ob.applyGradients(c.grads as unknown as Record<string, tf.Variable>);
        tf.dispose([c, ga, gb]);
      }
      a.parameters().forEach((p, i) => assertClose(data(p), data(b.parameters()[i]), 1e-5, `weights ${p.name}`));
      const wa = await oa.getWeights();
      const wb = await ob.getWeights();
      const kinds = (ws: typeof wa) => ws.map((w) => w.name.replace(/^.*\//, "")); // "iter", then each variable's "m", then "v"
      assert.deepStrictEqual(kinds(wa), kinds(wb));
      wa.forEach((w, i) => assertClose(data(w.tensor), data(wb[i].tensor), 1e-5, `optimizer state ${w.name}`));
      assert.strictEqual(oa.iterations, ob.iterations);
      for (const o of [oa, ob]) o.dispose();
      for (const m of [a, b]) m.dispose();
    });
  }

  it("leaves other optimizers to the readable path", () => {
    const sgd = tf.train.sgd(0.1);
    const v = tf.variable(tf.ones([3]));
    const g = { [v.name]: tf.ones([3]) };
    assert.strictEqual(clipAndAdam(sgd, g, 1), false);
    assert.deepStrictEqual(Array.from(v.dataSync()), [1, 1, 1]);
    tf.dispose([v, g[v.name]]);
    sgd.dispose();
  });

  it("a Transformer trains to the same loss through the wing and through the readable model", () => {
    const t = batch();
    const losses = [true, false].map((fast) => {
      const m = model("rope");
      const opt = tf.train.adam(1e-2);
      for (let i = 0; i < 4; i++) trainStep(m, opt, t, { fast }).dispose();
      const l = m.loss(t);
      const v = data(l)[0];
      tf.dispose(l);
      opt.dispose();
      m.dispose();
      return v;
    });
    assert.ok(Math.abs(losses[0] - losses[1]) < 1e-4, `fast ${losses[0]} vs readable ${losses[1]}`);
    tf.dispose(t);
  });
});
