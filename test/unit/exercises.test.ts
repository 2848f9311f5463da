// The exercise checks: a right answer gets "✓", an unanswered placeholder "not answered yet", and each typical
// wrong answer a "✗" that says what is wrong without printing the answer. No check leaks a tensor.
import * as assert from "assert";
import * as tf from "@tensorflow/tfjs";
import { join } from "path";
import {
  MultiHeadAttention,
  MultiHeadAttentionWrapper,
  Linear,
  causalMask,
  countParameters,
  dropout,
  rand,
  softmax,
  normalizeBySum,
  loadCheckpoint,
  type Checkpoint,
  type Seq2Seq,
  type Vocabulary,
  checkTemperatureContext,
  checkPaddedSelfAttention,
  checkCausalModule,
  checkAttentionParameterCount,
  checkMultiHeadModule,
  checkEncoderLoop,
  checkAdditiveStep,
  checkKvCacheBytes,
  checkKvHeadOf,
  checkWindowMask,
  SelfAttentionV1,
  SelfAttentionV2,
  checkCausalMask,
  checkDotProductWeights,
  checkScaledAttentionFunction,
  checkSplitHeads,
  checkTwoDimensionalWrapper,
  checkUnigramPrecision,
  checkWeightCopy,
  checkFutureTest,
  checkDropoutTest,
  checkHeadLayoutTest,
  suspectCausalAttention,
  suspectDropout,
  suspectMultiHeadAttention,
  CausalAttention,
  corpusBleu,
  scaledDotProductAttention,
  simpleSelfAttention,
  lowerTriangle,
  maskFuture,
  exampleInputs,
  manualSeed,
  setup,
  splitHeads,
} from "attention-lib";

import { ROOT, says } from "../helpers";

const NOT_ANSWERED = /^not answered yet/;

describe("exercise checks: ✓, ✗ with a hint, or not answered yet", () => {
  let inputs: tf.Tensor2D;
  before(async () => {
    await setup({ backend: "wasm", verbose: false });
    inputs = exampleInputs();
  });
  after(() => inputs.dispose());

  it("every check says 'not answered yet' for a null or undefined placeholder", () => {
    const w = tf.ones([6, 6]);
    const [w3, row] = [w.reshape([1, 6, 6]), w.slice([0, 0], [1, 6])];
    const checks: (() => string)[] = [
      () => checkTemperatureContext(null),
      () => checkTemperatureContext(() => null),
      () => checkPaddedSelfAttention(undefined),
      () => checkScaledAttentionFunction(null),
      () => checkScaledAttentionFunction(() => undefined),
      () => checkCausalMask(null, 6),
      () => checkCausalModule(null),
      () => checkSplitHeads(null, w3, 2),
      () => checkAttentionParameterCount(null),
      () => checkAttentionParameterCount(() => null),
      () => checkMultiHeadModule(undefined),
      () => checkUnigramPrecision(null),
      () => checkUnigramPrecision(() => undefined),
      () => checkDotProductWeights(null, row, w),
      () => checkWeightCopy(null as never, null as never, inputs),
      () => checkTwoDimensionalWrapper(null as never, inputs),
    ];
    for (const c of checks) says(c, NOT_ANSWERED);
    tf.dispose([w, w3, row]);
  });

  describe("01: the encoder loop and clipped precision", () => {
    let rnn: Checkpoint;
    before(() => {
      rnn = loadCheckpoint(join(ROOT, "data", "checkpoints", "rnn"));
    });
    after(() => rnn.model.dispose());
    const loop =
      (m: Seq2Seq, vocab: Vocabulary, o: { stop?: number; carry?: boolean; first?: boolean } = {}) =>
      (ids: number[]) =>
        tf.tidy(() => {
          const src = tf.tensor2d([ids], [1, ids.length], "int32");
          const x = m.srcEmb.forward(src); // [1, S, E]
          let h: tf.Tensor = tf.zeros([1, m.config.hidden]);
          const upTo = o.first ? 1 : ids.length - (o.stop ?? 0);
          for (let t = 0; t < upTo; t++) {
            const xt = x.slice([0, t, 0], [1, 1, -1]).reshape([1, -1]);
            h = m.encoder.step(m.encoder.projectInputs(xt), o.carry === false ? tf.zeros([1, m.config.hidden]) : h);
          }
          void vocab;
          return h;
        });
    it("checkEncoderLoop: right; the first state, one token early, no state carried, all states", () => {
      says(() => checkEncoderLoop(loop(rnn.model, rnn.vocabs.src), rnn.model, rnn.vocabs), /^✓ Right: the last state h_S, 128 numbers/);
      says(() => checkEncoderLoop(loop(rnn.model, rnn.vocabs.src, { first: true }), rnn.model, rnn.vocabs), /state after the first token/);
      says(() => checkEncoderLoop(loop(rnn.model, rnn.vocabs.src, { stop: 1 }), rnn.model, rnn.vocabs), /one token early/);
      says(
        () => checkEncoderLoop(loop(rnn.model, rnn.vocabs.src, { carry: false }), rnn.model, rnn.vocabs),
        /must start from the state the previous one returned/,
      );
      const allStates = (ids: number[]) =>
        tf.tidy(() =>
          tf.concat(
            ids.map((_, t) => loop(rnn.model, rnn.vocabs.src, { stop: ids.length - t - 1 })(ids)),
            0,
          ),
        );
      says(() => checkEncoderLoop(allStates, rnn.model, rnn.vocabs), /shape \[\d+, 128\]; expected \[1, 128\].*all the states/);
    });

    it("checkEncoderLoop: the shortcuts model.encode(...).final and the GRU's run are noticed", () => {
      const ids2d = (ids: number[]) => tf.tensor2d([ids], [1, ids.length], "int32");
      says(
        () => checkEncoderLoop((ids: number[]) => tf.tidy(() => rnn.model.encode(ids2d(ids), tf.ones([1, ids.length])).final), rnn.model, rnn.vocabs),
        /your code called model.encode from the library/,
      );
      says(
        () =>
          checkEncoderLoop(
            (ids: number[]) => tf.tidy(() => rnn.model.encoder.run(rnn.model.srcEmb.forward(ids2d(ids)), tf.zeros([1, 128])).last),
            rnn.model,
            rnn.vocabs,
          ),
        /your code called encoder.run/,
      );
      // After the check, the library works again.
      const back = rnn.model.encode(ids2d([4, 5, 2]), tf.ones([1, 3]));
      assert.deepStrictEqual(back.final.shape, [1, 128]);
      tf.dispose(back);
    });

    it("checkUnigramPrecision: right; unclipped, set-based, divided by the reference, NaN on empty output, a throw", () => {
      const clipped = (o: string, r: string) => {
        const words = o.split(" ").filter(Boolean);
        if (!words.length) return 0;
        const left = r.split(" ");
        let m = 0;
        for (const w of words) {
          const i = left.indexOf(w);
          if (i >= 0) {
            m++;
            left.splice(i, 1);
          }
        }
        return m / words.length;
      };
      says(() => checkUnigramPrecision(clipped), /^✓/);
      says(
        () =>
          checkUnigramPrecision((o: string, r: string) => {
            const w = o.split(" ").filter(Boolean);
            return w.length ? w.filter((x) => r.split(" ").includes(x)).length / w.length : 0;
          }),
        /repeats reference words.*clip the counts/,
      );
      // The set-based version |set(output) ∩ set(reference)| / |output|: right wherever no word repeats in both.
      says(
        () =>
          checkUnigramPrecision((o: string, r: string) => {
            const w = o.split(" ").filter(Boolean);
            const ref = new Set(r.split(" "));
            return w.length ? [...new Set(w)].filter((x) => ref.has(x)).length / w.length : 0;
          }),
        /^✗ Not yet: on a word that occurs twice in both .* you counted each distinct word once/,
      );
      says(
        () => checkUnigramPrecision((o: string, r: string) => (clipped(o, r) * o.split(" ").filter(Boolean).length) / r.split(" ").length),
        /not reference words/,
      );
      says(
        () =>
          checkUnigramPrecision((o: string, r: string) => {
            const w = o.split(" ").filter(Boolean);
            return (clipped(o, r) * w.length) / w.length;
          }),
        /an empty output.*NaN.*matches nothing: 0/,
      );
      says(
        () =>
          checkUnigramPrecision(() => {
            throw new Error("oops");
          }),
        /your function threw: oops/,
      );
      says(() => checkUnigramPrecision(() => 0.5), /^✗ Not yet: on an exact copy/);
      // The shortcut: the library's BLEU, whose first precision is the answer.
      says(
        () => checkUnigramPrecision((o: string, r: string) => corpusBleu([o.split(" ").filter(Boolean)], [r.split(" ")], 1).precisions[0]),
        /your code called corpusBleu/,
      );
    });
  });

  describe("02: the dot-product score and a padded additive step", () => {
    let rnn: Checkpoint;
    let attn: Checkpoint;
    before(() => {
      rnn = loadCheckpoint(join(ROOT, "data", "checkpoints", "rnn"));
      attn = loadCheckpoint(join(ROOT, "data", "checkpoints", "attention"));
    });
    after(() => {
      rnn.model.dispose();
      attn.model.dispose();
    });
    it("checkDotProductWeights: right; unscaled, no softmax, by H", () => {
      const states = tf.tensor2d([
        [0.5, -1, 2, 0.1],
        [1, 0.2, -0.3, 0.7],
        [-0.4, 0.9, 0.3, -1.2],
      ]); // [S = 3, H = 4]
      const query = tf.tensor2d([[0.3, 0.8, -0.5, 1.1]]);
      const scores = tf.dot(states, query.reshape([-1]));
      const right = tf.softmax(tf.div(scores, 2));
      says(() => checkDotProductWeights(right, query, states), /^✓/);
      const cases: [tf.Tensor, RegExp][] = [
        [tf.softmax(scores), /no scaling/],
        [tf.div(scores, 2), /scaled scores; the weights are their softmax/],
        [scores, /raw dot products/],
        [tf.softmax(tf.div(scores, 4)), /divided by H; the scale is √H/],
      ];
      for (const [a, p] of cases) says(() => checkDotProductWeights(a, query, states), p);
      tf.dispose([states, query, scores, right, ...cases.map((c) => c[0])]);
    });

    it("checkDotProductWeights as a function: right on every H; √128 hard-coded, unscaled, the library's attention", () => {
      const weights = (scale: (H: number) => number) => (q: tf.Tensor, h: tf.Tensor) =>
        tf.softmax(tf.div(tf.matMul(h, q, false, true).squeeze([1]), scale(q.shape[1]!)));
      says(() => checkDotProductWeights(weights((H) => Math.sqrt(H))), /^✓ Right: a scaled dot product/);
      says(() => checkDotProductWeights(weights(() => Math.sqrt(128))), /you divided by √128 whatever the states' size/);
      says(() => checkDotProductWeights(weights(() => 1)), /no scaling/);
      says(() => checkDotProductWeights(weights((H) => H)), /you divided by H/);
      says(
        () => checkDotProductWeights((q: tf.Tensor, h: tf.Tensor) => scaledDotProductAttention(q, h, h).weights.squeeze([0])),
        /your code called scaledDotProductAttention/,
      );
      says(() => checkDotProductWeights(() => null), NOT_ANSWERED);
    });

    it("checkAdditiveStep: right; no padding mask, the plain average, the last state, the weights; refuses a plain model", () => {
      const m = attn.model;
      const step = (mask: boolean) => (s: tf.Tensor, states: tf.Tensor, srcMask: tf.Tensor) =>
        tf.tidy(() => {
          const [B, S, H] = states.shape;
          const e = tf.tanh(tf.add(tf.matMul(states.reshape([B * S, H]), m.W_key!).reshape([B, S, -1]), tf.matMul(s, m.W_query!).expandDims(1)));
          let scores = tf.matMul(e.reshape([B * S, -1]), m.v!).reshape([B, S]);
          if (mask) scores = tf.where(tf.greater(srcMask, 0), scores, tf.fill([B, S], -Infinity));
          return tf.matMul(tf.softmax(scores).expandDims(1), states).squeeze([1]);
        });
      says(() => checkAdditiveStep(step(true), m, attn.vocabs), /^✓/);
      says(() => checkAdditiveStep(step(false), m, attn.vocabs), /the padding gets weight/);
      says(() => checkAdditiveStep((s: tf.Tensor) => s.clone(), m, attn.vocabs), /each sentence's last state/);
      assert.throws(() => checkAdditiveStep(step(true), rnn.model, rnn.vocabs), /checkAdditiveStep: expected a Bahdanau model/);
    });

    it("checkAdditiveStep: masking with -1e9 passes; the model's own attention step is noticed", () => {
      const m = attn.model;
      const scoresOf = (s: tf.Tensor, states: tf.Tensor) => {
        const [B, S, H] = states.shape;
        const e = tf.tanh(tf.add(tf.matMul(states.reshape([B * S, H]), m.W_key!).reshape([B, S, -1]), tf.matMul(s, m.W_query!).expandDims(1)));
        return tf.matMul(e.reshape([B * S, -1]), m.v!).reshape([B, S]);
      };
      const bias = (s: tf.Tensor, states: tf.Tensor, srcMask: tf.Tensor) =>
        tf.tidy(() => {
          const scores = tf.add(scoresOf(s, states), tf.mul(tf.sub(1, srcMask), -1e9));
          return tf.matMul(tf.softmax(scores).expandDims(1), states).squeeze([1]);
        });
      says(() => checkAdditiveStep(bias, m, attn.vocabs), /^✓/);
      const viaModel = (s: tf.Tensor, states: tf.Tensor, srcMask: tf.Tensor) =>
        tf.tidy(() => {
          const [B, S, H] = states.shape;
          const keys = tf.matMul(states.reshape([B * S, H]), m.W_key!).reshape([B, S, -1]) as tf.Tensor3D;
          const memory = { states: states as tf.Tensor3D, final: s as tf.Tensor2D, keys, maskBias: tf.mul(tf.sub(1, srcMask), -1e9) as tf.Tensor2D };
          return m.attend(s, memory).context;
        });
      says(() => checkAdditiveStep(viaModel, m, attn.vocabs), /your code called model.attend/);
    });
  });

  describe("03: temperature and padding", () => {
    const contextOf = (x: tf.Tensor, i: number, tau: number, f: (s: tf.Tensor) => tf.Tensor = softmax) =>
      tf.matMul(f(tf.div(tf.dot(x as tf.Tensor2D, x.gather(i) as tf.Tensor1D), tau)).expandDims(0), x).squeeze([0]);

    it("checkTemperatureContext: right; multiplied by τ, τ ignored, raw scores, by sum, 1-based, weights only, a throw", () => {
      says(() => checkTemperatureContext((x: tf.Tensor, i: number, tau: number) => contextOf(x, i, tau)), /^✓/);
      const wrong: [unknown, RegExp][] = [
        [(x: tf.Tensor, i: number, tau: number) => contextOf(x, i, 1 / tau), /multiplied the scores by the temperature/],
        [(x: tf.Tensor, i: number) => contextOf(x, i, 1), /the temperature changes nothing/],
        [(x: tf.Tensor, i: number, tau: number) => contextOf(x, i, tau, (s) => s), /raw scores/],
        [(x: tf.Tensor, i: number, tau: number) => contextOf(x, i, tau, normalizeBySum), /divided the scores by their sum/],
        [(x: tf.Tensor, i: number, tau: number) => contextOf(x, i + 1, tau), /tokens are counted from 0/],
        [
          (x: tf.Tensor, i: number, tau: number) => softmax(tf.div(tf.dot(x as tf.Tensor2D, x.gather(i) as tf.Tensor1D), tau)),
          /shape \[5\]; expected \[4\].*those are the weights/,
        ],
        [(x: tf.Tensor, i: number) => x.gather(i), /token i's own embedding/],
        [() => exampleInputs().gather(4), /on x \[5, 4\] with i = 0.*shape \[3\]; expected \[4\]/], // the notebook's own inputs: not what the check feeds
        [
          () => {
            throw new Error("oops");
          },
          /on x \[5, 4\] with i = 0 and temperature 1, your function threw: oops/,
        ],
        [42, /expected a function/],
        [
          // The shortcut: the library's simplified self-attention of x / √τ gives the weights.
          (x: tf.Tensor, i: number, tau: number) => {
            const parts = simpleSelfAttention(tf.div(x, Math.sqrt(tau)));
            return tf.matMul(parts.weights, x).gather(i);
          },
          /your code called simpleSelfAttention/,
        ],
      ];
      for (const [fn, p] of wrong) says(() => checkTemperatureContext(fn), p);
    });

    it("checkPaddedSelfAttention: right (masking keys with -∞ or a large negative number); no mask, zeroed after, one too many, unbatched", () => {
      const attend = (visibleUpTo: (n: number) => number, how: "minusInf" | "bias" | "zeroAfter" | "none") => (x: tf.Tensor, lengths: number[]) => {
        const [B, T] = x.shape;
        const keyOk = tf.tensor3d(
          lengths.map((n) => [Array.from({ length: T }, (_, j) => +(j < visibleUpTo(n)))]),
          [B, 1, T],
        );
        const scores = tf.matMul(x, x, false, true);
        if (how === "none") return tf.matMul(tf.softmax(scores), x);
        if (how === "zeroAfter") return tf.matMul(tf.mul(tf.softmax(scores), keyOk), x);
        const masked =
          how === "bias"
            ? tf.add(scores, tf.mul(tf.sub(1, keyOk), -1e9))
            : tf.where(tf.greater(tf.broadcastTo(keyOk, [B, T, T]), 0), scores, tf.fill([B, T, T], -Infinity));
        return tf.matMul(tf.softmax(masked), x);
      };
      says(() => checkPaddedSelfAttention(attend((n) => n, "minusInf")), /^✓/);
      says(() => checkPaddedSelfAttention(attend((n) => n, "bias")), /^✓/);
      // Padded queries may hold anything, even NaN: only real tokens are compared.
      says(
        () =>
          checkPaddedSelfAttention((x: tf.Tensor, lengths: number[]) => {
            const out = attend((n) => n, "minusInf")(x, lengths);
            const [B, T, d] = x.shape;
            const real = tf.tensor3d(
              lengths.map((n) => Array.from({ length: T }, (_, t) => Array(d).fill(+(t < n)))),
              [B, T, d],
            );
            return tf.where(tf.greater(real, 0), out, tf.fill(out.shape, NaN));
          }),
        /^✓/,
      );
      says(() => checkPaddedSelfAttention(attend((n) => n, "none")), /the padding gets weight/);
      says(() => checkPaddedSelfAttention(attend((n) => n, "zeroAfter")), /zeroed the padding's weights after the softmax/);
      says(() => checkPaddedSelfAttention(attend((n) => n + 1, "minusInf")), /the first padding position is still visible/);
      says(() => checkPaddedSelfAttention((x: tf.Tensor) => tf.matMul(tf.softmax(tf.matMul(x, x.transpose())), x)), /your function threw|differ/);
    });
  });

  describe("04: copying weights and batched scaled attention", () => {
    it("checkWeightCopy as a function to fill in: null, one matrix copied, a throw, right", () => {
      manualSeed(123);
      const v1 = new SelfAttentionV1(3, 2);
      manualSeed(789);
      const v2 = new SelfAttentionV2(3, 2);
      says(() => checkWeightCopy(v1, v2, inputs), /^✗ Not yet/);
      says(() => checkWeightCopy(() => null, inputs), NOT_ANSWERED);
      says(
        () =>
          checkWeightCopy((a: SelfAttentionV1, b: SelfAttentionV2) => {
            a.W_query.assign(b.W_query.weight.transpose());
          }, inputs),
        /^✗ Not yet:\n {2}- v1.W_key does not hold/,
      );
      says(
        () =>
          checkWeightCopy((a: SelfAttentionV1) => {
            a.W_query.assign(tf.zeros([2, 2]));
          }, inputs),
        /your function threw: .*shape/,
      );
      says(
        () =>
          checkWeightCopy((a: SelfAttentionV1, b: SelfAttentionV2) => {
            for (const n of ["W_query", "W_key", "W_value"] as const) a[n].assign(b[n].weight.transpose());
          }, inputs),
        /^✓ Right/,
      );
      [v1, v2].forEach((m) => m.dispose());
    });

    it("checkWeightCopy as a function: a copy that hard-codes the notebook's sizes fails on the other sizes", () => {
      says(
        () =>
          checkWeightCopy((a: SelfAttentionV1, b: SelfAttentionV2) => {
            for (const n of ["W_query", "W_key", "W_value"] as const) a[n].assign(b[n].weight.reshape([2, 3]).transpose());
          }, inputs),
        /^✗ Not yet: with d_in = 4 and d_out = 5: your function threw/,
      );
    });

    it("checkWeightCopy: disposed, wrong shape, another matrix, transposed, right", () => {
      manualSeed(123);
      const v1 = new SelfAttentionV1(3, 2);
      const v2 = new SelfAttentionV2(3, 2);
      const x = exampleInputs();
      const assign = (name: "W_query" | "W_key" | "W_value", t: tf.Tensor) => tf.tidy(() => v1[name].assign(t));
      for (const name of ["W_query", "W_key", "W_value"] as const) assign(name, v2[name].weight.transpose());
      assert.strictEqual(checkWeightCopy(v1, v2, x), "✓ Right: v1 and v2 now compute the same context vectors.");
      assign("W_key", v2.W_query.weight.transpose());
      assert.match(checkWeightCopy(v1, v2, x), /^✗ Not yet: v1.W_key holds the weights of v2.W_query$/);
      assign("W_key", v2.W_key.weight.reshape([3, 2]));
      assert.match(
        checkWeightCopy(v1, v2, x),
        /v1.W_key holds v2's numbers in v2's memory order, but v1 computes x @ W while nn.Linear computes x @ W\^T/,
      );
      assign("W_key", v2.W_key.weight.transpose());
      v1.W_value.dispose();
      assert.match(checkWeightCopy(v1, v2, x), /^✗ Not yet: v1.W_value was disposed$/);
      tf.dispose(x);
      v1.dispose();
      v2.dispose();
    });

    it("checkWeightCopy: a weight of the wrong shape, and square weights copied without the transpose", () => {
      const v1 = new SelfAttentionV1(3, 2);
      const v2 = new SelfAttentionV2(3, 2);
      const x = exampleInputs();
      const wrong = tf.variable(tf.zeros([2, 3]));
      const saved = v1.W_query;
      (v1 as { W_query: tf.Variable }).W_query = wrong;
      assert.match(checkWeightCopy(v1, v2, x), /^✗ Not yet:\n {2}- v1.W_query has shape \[2, 3\], but v1 needs \[d_in, d_out\] = \[3, 2\]/);
      (v1 as { W_query: tf.Variable }).W_query = saved;
      wrong.dispose();
      const s1 = new SelfAttentionV1(3, 3);
      const s2 = new SelfAttentionV2(3, 3);
      for (const name of ["W_query", "W_key", "W_value"] as const) tf.tidy(() => s1[name].assign(s2[name].weight.transpose()));
      tf.tidy(() => s1.W_value.assign(s2.W_value.weight)); // not transposed: for a square matrix, not the memory-order hint
      assert.match(checkWeightCopy(s1, s2, x), /^✗ Not yet: v1.W_value does not hold v2.W_value's weights \(as v1 uses them\)$/);
      tf.dispose(x);
      [v1, v2, s1, s2].forEach((m) => m.dispose());
    });

    const sdpa =
      (scale: (dk: number, dv: number) => number, axis: "keys" | "queries" = "keys") =>
      (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) => {
        const s = tf.div(tf.matMul(q, k, false, true), scale(q.shape[2]!, v.shape[2]!));
        const w = axis === "keys" ? tf.softmax(s) : tf.softmax(s.transpose([0, 2, 1])).transpose([0, 2, 1]);
        return tf.matMul(w, v);
      };
    it("checkScaledAttentionFunction: right; no scale, d_k, multiplied, √d_v, over the queries, weights only, 2-d only", () => {
      says(() => checkScaledAttentionFunction(sdpa((dk) => Math.sqrt(dk))), /^✓/);
      const wrong: [unknown, RegExp][] = [
        [sdpa(() => 1), /no scaling/],
        [sdpa((dk) => dk), /divided by d_k/],
        [sdpa((dk) => 1 / Math.sqrt(dk)), /multiplied by √d_k/],
        [sdpa((_dk, dv) => Math.sqrt(dv)), /scaled by √d_v/],
        [sdpa((dk) => Math.sqrt(dk), "queries"), /softmax ran over the queries/],
        [
          (q: tf.Tensor, k: tf.Tensor) => tf.softmax(tf.div(tf.matMul(q, k, false, true), Math.sqrt(q.shape[2]!))),
          /attention weights; multiply them by the values/,
        ],
        [(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) => tf.matMul(tf.softmax(tf.div(tf.matMul(q, k.transpose()), 4)), v), /your function threw/], // a 2-d transpose on a batch
      ];
      for (const [fn, p] of wrong) says(() => checkScaledAttentionFunction(fn), p);
      says(
        () => checkScaledAttentionFunction((q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) => scaledDotProductAttention(q, k, v).context),
        /your code called scaledDotProductAttention/,
      );
    });
  });

  describe("05: the causal mask and the causal module's forward pass", () => {
    it("checkCausalMask: right (numbers or booleans); transposed, no diagonal, inverted, all ones, wrong size", () => {
      const allowed = tf.linalg.bandPart(tf.ones([6, 6]), -1, 0);
      says(() => checkCausalMask(allowed, 6), /^✓/);
      const asBooleans = tf.greater(allowed, 0);
      says(() => checkCausalMask(asBooleans, 6), /^✓/);
      asBooleans.dispose();
      const cases: [tf.Tensor, RegExp][] = [
        [allowed.transpose(), /on and above the diagonal/],
        [tf.sub(allowed, tf.eye(6)), /the diagonal is 0: a token may attend to itself/],
        [tf.sub(1, allowed), /yours marks what is hidden/],
        [tf.ones([6, 6]), /all ones hides nothing/],
        [tf.ones([5, 5]), /shape \[5, 5\]; expected \[6, 6\]/],
      ];
      for (const [a, p] of cases) says(() => checkCausalMask(a, 6), p);
      tf.dispose([allowed, ...cases.map((c) => c[0])]);
    });

    it("checkCausalMask as a function: right (tf.range or bandPart) for every T; hard-coded 6, lowerTriangle, 1 - causalMask, transposed", () => {
      const byRange = (T: number) => tf.tidy(() => tf.lessEqual(tf.range(0, T).reshape([1, T]), tf.range(0, T).reshape([T, 1])).toFloat());
      says(() => checkCausalMask(byRange), /^✓ Right: row i has ones in columns 0..i.*for any T/);
      says(() => checkCausalMask((T: number) => tf.linalg.bandPart(tf.ones([T, T]), -1, 0)), /^✓/);
      says(() => checkCausalMask(() => tf.linalg.bandPart(tf.ones([6, 6]), -1, 0)), /on T = 4.*shape \[6, 6\]; expected \[4, 4\]/);
      says(() => checkCausalMask((T: number) => lowerTriangle(T)), /your code called lowerTriangle/);
      says(() => checkCausalMask((T: number) => tf.sub(1, causalMask(T).toFloat())), /your code called causalMask/);
      says(() => checkCausalMask((T: number) => byRange(T).transpose()), /on and above the diagonal/);
      says(() => checkCausalMask((T: number) => tf.sub(1, byRange(T))), /yours marks what is hidden/);
      says(() => checkCausalMask(() => null), NOT_ANSWERED);
    });

    // The notebook's skeleton: the constructor as given, forward written several ways.
    type Forward = (m: Skeleton, x: tf.Tensor) => tf.Tensor;
    class Skeleton {
      W_query: Linear;
      W_key: Linear;
      W_value: Linear;
      mask: tf.Tensor2D;
      training = true;
      static forwardImpl: Forward;
      constructor(
        dIn: number,
        dOut: number,
        readonly contextLength: number,
        readonly dropoutP: number,
      ) {
        this.W_query = new Linear(dIn, dOut, { bias: false });
        this.W_key = new Linear(dIn, dOut, { bias: false });
        this.W_value = new Linear(dIn, dOut, { bias: false });
        this.mask = causalMask(contextLength);
      }
      forward(x: tf.Tensor): tf.Tensor {
        return Skeleton.forwardImpl(this, x);
      }
    }
    const forward =
      (
        o: {
          scale?: "dOut" | "dIn" | "none";
          mask?: "minusInf" | "minus1e9" | "none" | "fullSize" | "maskFuture";
          dropout?: "weights" | "never" | "scores" | "always" | "keepProb" | "timesP" | "tfDropout";
        } = {},
      ): Forward =>
      (m, x) =>
        tf.tidy(() => {
          const T = x.shape[1]!;
          const [q, k, v] = [m.W_query.forward(x), m.W_key.forward(x), m.W_value.forward(x)];
          const dk = o.scale === "dIn" ? x.shape[2]! : k.shape[2]!;
          let s = tf.div(tf.matMul(q, k, false, true), o.scale === "none" ? 1 : Math.sqrt(dk));
          if (o.dropout === "scores") s = dropout(s, m.dropoutP, { training: m.training });
          if (o.mask === "maskFuture") s = maskFuture(s);
          else if (o.mask === "minus1e9") s = tf.add(s, tf.mul(m.mask.slice([0, 0], [T, T]).toFloat(), -1e9));
          else if (o.mask !== "none") s = tf.where(o.mask === "fullSize" ? m.mask : m.mask.slice([0, 0], [T, T]), tf.scalar(-Infinity), s);
          let w = tf.softmax(s);
          if (o.dropout === undefined || o.dropout === "weights") w = dropout(w, m.dropoutP, { training: m.training });
          if (o.dropout === "always") w = dropout(w, m.dropoutP);
          if (o.dropout === "keepProb") w = dropout(w, m.training && m.dropoutP > 0 ? 1 - m.dropoutP : 0, { training: m.training });
          if (o.dropout === "timesP" && m.training && m.dropoutP > 0) w = tf.mul(tf.mul(dropout(w, m.dropoutP), 1 - m.dropoutP), m.dropoutP); // kept weights x p
          if (o.dropout === "tfDropout" && m.training && m.dropoutP > 0) w = tf.dropout(w, m.dropoutP);
          return tf.matMul(w, v);
        });
    const run = (f: Forward) => {
      Skeleton.forwardImpl = f;
      return checkCausalModule(Skeleton);
    };
    it("checkCausalModule: right; no scale, √d_in, no mask, the full-size mask, dropout never/always/on the scores; the generator is left as it was", () => {
      manualSeed(5);
      const before = rand([3]).dataSync().slice();
      manualSeed(5);
      says(() => run(forward()), /^✓/);
      assert.deepStrictEqual(Array.from(rand([3]).dataSync()), Array.from(before), "the check leaves the default generator where it found it");
      const wrong: [Forward, RegExp][] = [
        [forward({ scale: "none" }), /no scaling/],
        [forward({ scale: "dIn" }), /scaled by √d_in/],
        [forward({ mask: "none" }), /the future leaks: changing the last two of 5 tokens moved the outputs of tokens 0..2/],
        [forward({ mask: "fullSize" }), /on a batch \[3, 5, 4\] \(5 tokens, context length 8.*forward threw/],
        [forward({ dropout: "never" }), /nothing was dropped/],
        [forward({ dropout: "always" }), /with training = false \(evaluation\).*dropout must do nothing/],
        [forward({ dropout: "scores" }), /apply dropout once, to the weights after the softmax/],
        [() => null as never, NOT_ANSWERED],
      ];
      for (const [f, p] of wrong) says(() => run(f), p);
      says(() => checkCausalModule(class {}), /no forward|not the Linear/);
      says(() => checkCausalModule("MyCausalAttention"), /expected the class itself/);
    });

    it("checkCausalModule: -1e9 instead of -∞ passes; the rate as a keep probability, kept weights x p, tf.dropout, maskFuture and the library's module are named", () => {
      says(() => run(forward({ mask: "minus1e9" })), /^✓/);
      const wrong: [Forward, RegExp][] = [
        [forward({ dropout: "keepProb" }), /with dropout 0.2: you dropped with probability 1 - p/],
        [forward({ dropout: "timesP" }), /with dropout 0.2: you scaled the kept weights by p/],
        [forward({ dropout: "tfDropout" }), /does not draw from the course's seeded generator \(tf.dropout/],
        [forward({ mask: "maskFuture" }), /your code called maskFuture/],
        [
          (m, x) => {
            const lib = new CausalAttention(x.shape[2]!, m.W_query.weight.shape[0], m.contextLength, m.dropoutP);
            for (const n of ["W_query", "W_key", "W_value"] as const) lib[n].weight.assign(m[n].weight);
            try {
              return lib.forward(x);
            } finally {
              lib.dispose();
            }
          },
          /your code called CausalAttention/,
        ],
      ];
      for (const [f, p] of wrong) says(() => run(f), p);
    });

    /** A test of exercise 5.3: a later token changes no earlier output, at several lengths. */
    const futureTest =
      (o: { lengths?: number[]; firstOnly?: boolean } = {}) =>
      (make: (dIn: number, dOut: number, ctx: number) => { forward(x: tf.Tensor): tf.Tensor }): boolean => {
        const m = make(3, 4, 8);
        return (o.lengths ?? [8, 5, 3]).every((T) => {
          const x = tf.randomUniform([1, T, 3], -1, 1, "float32", 7);
          const changed = tf.concat([x.slice([0, 0, 0], [1, T - 1, 3]), tf.fill([1, 1, 3], 5)], 1);
          const upTo = o.firstOnly ? 1 : T - 1;
          const [a, b] = [m.forward(x).slice([0, 0, 0], [1, upTo, 4]), m.forward(changed).slice([0, 0, 0], [1, upTo, 4])];
          return tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] < 1e-5;
        });
      };
    it("checkFutureTest (5.3): a good test; one length only, the first output only, always true, always false, a throw", () => {
      const planted = suspectCausalAttention(3, 4, 8);
      assert.strictEqual(
        futureTest()(() => planted),
        false,
        "the planted module lets the future in",
      );
      planted.dispose();
      says(() => checkFutureTest(futureTest()), /^✓ Right: your test fails every head/);
      says(() => checkFutureTest(futureTest({ lengths: [8] })), /slices its stored mask at the wrong corner/);
      says(() => checkFutureTest(futureTest({ firstOnly: true })), /see one token ahead/);
      says(() => checkFutureTest(() => true), /your test passes the module of this exercise/);
      says(() => checkFutureTest(() => false), /your test fails a correct causal head/);
      says(() => checkFutureTest(() => "yes"), /should return true .* or false/);
      says(
        () =>
          checkFutureTest(() => {
            throw new Error("oops");
          }),
        /your function threw: oops/,
      );
      says(() => checkFutureTest(() => null), NOT_ANSWERED);
    });

    /** A test of exercise 5.4 at rate p: the share dropped, the kept values, and evaluation. */
    const dropoutTest =
      (o: { p?: number; evaluation?: boolean } = {}) =>
      (drop: (x: tf.Tensor, p: number, training?: boolean) => tf.Tensor): boolean => {
        const p = o.p ?? 0.2;
        const x = tf.ones([20000]);
        const out = drop(x, p, true).dataSync();
        const zeros = out.filter((v) => v === 0).length / out.length;
        const keptRight = out.every((v) => v === 0 || Math.abs(v - 1 / (1 - p)) < 1e-5);
        const evalSame = o.evaluation === false || tf.max(tf.abs(tf.sub(drop(x, p, false), x))).dataSync()[0] === 0;
        return Math.abs(zeros - p) < 0.02 && keptRight && evalSame;
      };
    it("checkDropoutTest (5.4): a good test; at p = 0.5 only, evaluation untested, always true", () => {
      assert.strictEqual(dropoutTest()(suspectDropout), false, "the planted dropout is wrong");
      says(() => checkDropoutTest(dropoutTest()), /^✓ Right: your test fails every wrongly scaled/);
      says(() => checkDropoutTest(dropoutTest({ p: 0.5 })), /divides the kept values by p, which is right only at p = 0.5/);
      says(() => checkDropoutTest(dropoutTest({ evaluation: false })), /also drops in evaluation/);
      says(() => checkDropoutTest(() => true), /your test passes the dropout of this exercise/);
      says(() => checkDropoutTest(() => false), /your test fails the course's correct dropout/);
    });
  });

  describe("06: the wrapper, heads, the parameter count and the multi-head forward pass", () => {
    it("checkTwoDimensionalWrapper: 2 heads of d_out 2 give 4 dimensions", () => {
      manualSeed(123);
      const w = new MultiHeadAttentionWrapper(3, 2, 6, 0, 2);
      says(() => checkTwoDimensionalWrapper(w, inputs), /^✗ Not yet:\s+(- )?its context vectors have 4 dimensions/);
      w.dispose();
    });

    it("checkTwoDimensionalWrapper: the number of heads", () => {
      const w = new MultiHeadAttentionWrapper(3, 1, 6, 0, 3);
      const x = tf.stack([exampleInputs(), exampleInputs()]);
      assert.match(
        checkTwoDimensionalWrapper(w, x),
        /^✗ Not yet:\n {2}- the wrapper has 3 head\(s\); the exercise asks for 2\n {2}- its context vectors have 3 dimensions/,
      );
      tf.dispose(x);
      w.dispose();
    });

    it("checkTwoDimensionalWrapper as a function: right for every width; the width taken as d_out, the heads hard-coded", () => {
      const wrapperWith = (perHead: (w: number, h: number) => number, heads?: number) => (dIn: number, width: number, h: number, ctx: number) =>
        new MultiHeadAttentionWrapper(dIn, perHead(width, h), ctx, 0, heads ?? h);
      says(
        () =>
          checkTwoDimensionalWrapper(
            wrapperWith((w, h) => w / h),
            inputs,
          ),
        /^✓ Right: the wrapper concatenates its heads/,
      );
      says(
        () =>
          checkTwoDimensionalWrapper(
            wrapperWith((w) => w),
            inputs,
          ),
        /on d_in = 3, width 2, 2 head\(s\), context length 6 its context vectors have 4 dimensions: .* d_out x heads = 2 x 2/,
      );
      says(
        () =>
          checkTwoDimensionalWrapper(
            wrapperWith(() => 1, 2),
            inputs,
          ),
        /on d_in = 4, width 6, 3 head\(s\).* has 2 head\(s\); asked for 3/,
      );
      says(() => checkTwoDimensionalWrapper(() => null, inputs), NOT_ANSWERED);
    });

    it("checkSplitHeads as a function: right (reshape and transpose, or column slices); not transposed, straight, splitHeads", () => {
      const byView = (x: tf.Tensor, h: number) => {
        const [b, t, d] = x.shape;
        return x.reshape([b, t, h, d! / h]).transpose([0, 2, 1, 3]);
      };
      const bySlices = (x: tf.Tensor, h: number) => {
        const [b, t, d] = x.shape;
        const hd = d! / h;
        return tf.stack(
          Array.from({ length: h }, (_, i) => x.slice([0, 0, i * hd], [b, t, hd])),
          1,
        );
      };
      says(() => checkSplitHeads(byView), /^✓ Right: each head holds its own block/);
      says(() => checkSplitHeads(bySlices), /^✓/);
      says(() => checkSplitHeads((x: tf.Tensor, h: number) => byView(x, h).transpose([0, 2, 1, 3])), /now swap axes 1 and 2/);
      says(() => checkSplitHeads((x: tf.Tensor, h: number) => x.reshape([x.shape[0]!, h, x.shape[1]!, x.shape[2]! / h])), /mixes tokens into heads/);
      says(() => checkSplitHeads((x: tf.Tensor) => byView(x, 2)), /on x \[1, 5, 6\] with 3 heads.*(threw|shape)/);
      says(() => checkSplitHeads((x: tf.Tensor, h: number) => splitHeads(x, h)), /your code called splitHeads/);
    });

    it("checkSplitHeads: right; forgot the transpose, reshaped straight to heads", () => {
      const x = tf.tensor3d(
        Array.from({ length: 2 * 6 * 4 }, (_, i) => i),
        [2, 6, 4],
      );
      const right = splitHeads(x, 2);
      says(() => checkSplitHeads(right, x, 2), /^✓ Right: 2 heads of head_dim 2/);
      const viewed = x.reshape([2, 6, 2, 2]);
      says(() => checkSplitHeads(viewed, x, 2), /shape \[2, 6, 2, 2\]; expected \[2, 2, 6, 2\].*now swap axes 1 and 2/);
      const straight = x.reshape([2, 2, 6, 2]);
      says(() => checkSplitHeads(straight, x, 2), /mixes tokens into heads/);
      tf.dispose([x, right, viewed, straight]);
    });

    it("checkAttentionParameterCount: right (equal to countParameters); qkv bias ignored, x heads, no out_proj bias, out_proj d_in", () => {
      const right = (dIn: number, dOut: number, _h: number, bias: boolean) => 3 * dIn * dOut + (bias ? 3 * dOut : 0) + dOut * dOut + dOut;
      for (const [dIn, dOut, h, bias] of [
        [3, 2, 2, false],
        [5, 6, 3, true],
      ] as const) {
        const m = new MultiHeadAttention(dIn, dOut, 4, 0, h, { qkvBias: bias });
        assert.strictEqual(right(dIn, dOut, h, bias), countParameters(m), "the formula the check uses is the module's count");
        m.dispose();
      }
      says(() => checkAttentionParameterCount(right), /^✓/);
      const wrong: [unknown, RegExp][] = [
        [(dIn: number, dOut: number) => 3 * dIn * dOut + 3 * dOut + dOut * dOut + dOut, /on d_in = 1024.*qkvBias = false means no biases/],
        [(dIn: number, dOut: number) => 3 * dIn * dOut + dOut * dOut + dOut, /on d_in = 768.*qkvBias = true.*each have a bias/],
        [(dIn: number, dOut: number, h: number, b: boolean) => h * right(dIn, dOut, h, b), /the heads do not multiply/],
        [(dIn: number, dOut: number, h: number, b: boolean) => right(dIn, dOut, h, b) - dOut, /output projection has a bias/],
        [
          (dIn: number, dOut: number, h: number, b: boolean) => right(dIn, dOut, h, b) - dOut * dOut + dIn * dOut,
          /on d_in = 3, d_out = 2.*maps d_out to d_out/,
        ],
        [() => 7, /too small/],
        [() => "2362368", /expected a number/],
      ];
      for (const [fn, p] of wrong) says(() => checkAttentionParameterCount(fn), p, ["2,362,368"]);
      // The shortcut: build the module and count its parameters.
      says(
        () =>
          checkAttentionParameterCount((dIn: number, dOut: number, h: number, bias: boolean) => {
            const m = new MultiHeadAttention(dIn, dOut, 2, 0, h, { qkvBias: bias });
            try {
              return countParameters(m);
            } finally {
              m.dispose();
            }
          }),
        /your code called countParameters|built tensors/,
      );
      says(
        () =>
          checkAttentionParameterCount((dIn: number, dOut: number, h: number, bias: boolean) => {
            const m = new MultiHeadAttention(dIn, dOut, 2, 0, h, { qkvBias: bias });
            const n = m.parameters().reduce((a, p) => a + p.size, 0);
            m.dispose();
            return n;
          }),
        /it built tensors \(a module\?\); count from the sizes alone/,
      );
    });

    type Forward = (m: MhaSkeleton, x: tf.Tensor) => tf.Tensor;
    class MhaSkeleton {
      W_query: Linear;
      W_key: Linear;
      W_value: Linear;
      out_proj: Linear;
      headDim: number;
      mask: tf.Tensor2D;
      static forwardImpl: Forward;
      constructor(
        dIn: number,
        readonly dOut: number,
        contextLength: number,
        readonly numHeads: number,
      ) {
        this.headDim = dOut / numHeads;
        this.W_query = new Linear(dIn, dOut, { bias: false });
        this.W_key = new Linear(dIn, dOut, { bias: false });
        this.W_value = new Linear(dIn, dOut, { bias: false });
        this.out_proj = new Linear(dOut, dOut);
        this.mask = causalMask(contextLength);
      }
      forward(x: tf.Tensor): tf.Tensor {
        return MhaSkeleton.forwardImpl(this, x);
      }
    }
    const forward =
      (
        o: {
          scale?: "headDim" | "dOut" | "sqrt2";
          split?: "right" | "straight" | "slices" | "width2";
          merge?: "right" | "straight";
          out?: boolean;
          mask?: boolean | "minus1e9";
        } = {},
      ): Forward =>
      (m, x) =>
        tf.tidy(() => {
          const [b, T] = x.shape;
          const split = (t: tf.Tensor) => {
            if (o.split === "straight") return t.reshape([b, m.numHeads, T, m.headDim]);
            if (o.split === "width2") return t.reshape([b, T, -1, 2]).transpose([0, 2, 1, 3]); // a head width of 2, hard-coded
            if (o.split === "slices")
              return tf.stack(
                Array.from({ length: m.numHeads }, (_, h) => t.slice([0, 0, h * m.headDim], [b, T, m.headDim])),
                1,
              );
            return t.reshape([b, T, m.numHeads, m.headDim]).transpose([0, 2, 1, 3]);
          };
          const [q, k, v] = [split(m.W_query.forward(x)), split(m.W_key.forward(x)), split(m.W_value.forward(x))];
          let s = tf.div(tf.matMul(q, k, false, true), Math.sqrt(o.scale === "dOut" ? m.dOut : o.scale === "sqrt2" ? 2 : m.headDim));
          if (o.mask === "minus1e9") s = tf.add(s, tf.mul(m.mask.slice([0, 0], [T, T]).toFloat(), -1e9));
          else if (o.mask !== false) s = tf.where(m.mask.slice([0, 0], [T, T]), tf.scalar(-Infinity), s);
          const ctx = tf.matMul(tf.softmax(s), v);
          const merged = o.merge === "straight" ? ctx.reshape([b, T, m.dOut]) : ctx.transpose([0, 2, 1, 3]).reshape([b, T, m.dOut]);
          return o.out === false ? merged : m.out_proj.forward(merged);
        });
    const run = (f: Forward) => {
      MhaSkeleton.forwardImpl = f;
      return checkMultiHeadModule(MhaSkeleton);
    };
    it("checkMultiHeadModule: right; √d_out, split or merge without the transpose, no out_proj, no mask, hard-coded sizes", () => {
      says(() => run(forward()), /^✓/);
      const wrong: [Forward, RegExp][] = [
        [forward({ scale: "dOut" }), /scaled by √d_out/],
        [forward({ split: "straight" }), /mixes tokens into heads/],
        [forward({ merge: "straight" }), /merged without swapping axes 1 and 2 back/],
        [forward({ out: false }), /still go through out_proj/],
        [forward({ mask: false }), /the future leaks/],
        [(m, x) => forward()(m, x).slice([0, 0, 0], [2, 6, m.dOut]), /forward threw|shape/], // sizes of the notebook's batch, hard-coded
      ];
      for (const [f, p] of wrong) says(() => run(f), p);
    });

    it("checkMultiHeadModule: heads by column slices and -1e9 pass; √2 or a head width of 2 hard-coded, the library's module are named", () => {
      says(() => run(forward({ split: "slices" })), /^✓/);
      says(() => run(forward({ mask: "minus1e9" })), /^✓/);
      says(() => run(forward({ scale: "sqrt2" })), /you scaled by √2 whatever the heads' size: the scale is √head_dim, here √4/);
      says(() => run(forward({ split: "width2" })), /on a batch \[1, 6, 3\].*(threw|shape|differ)/);
      says(
        () =>
          run((m, x) => {
            const lib = new MultiHeadAttention(x.shape[2]!, m.dOut, 8, 0, m.numHeads);
            for (const n of ["W_query", "W_key", "W_value", "out_proj"] as const) {
              lib[n].weight.assign(m[n].weight);
              if (m[n].bias) lib[n].bias!.assign(m[n].bias!);
            }
            try {
              return lib.forward(x);
            } finally {
              lib.dispose();
            }
          }),
        /your code called MultiHeadAttention/,
      );
    });

    type MhaLike = { W_query: Linear; W_key: Linear; W_value: Linear; out_proj: Linear; headDim: number; forward(x: tf.Tensor): tf.Tensor };
    /** A test of exercise 6.5: the module against a reference computed head by head from its own weights. */
    const layoutTest =
      (o: { heads?: number; futureOnly?: boolean } = {}) =>
      (make: (dIn: number, dOut: number, ctx: number, h: number) => MhaLike): boolean => {
        const h = o.heads ?? 2;
        const m = make(3, 4 * h, 6, h);
        const x = tf.randomUniform([2, 5, 3], -1, 1, "float32", 3);
        if (o.futureOnly) {
          const changed = tf.concat([x.slice([0, 0, 0], [2, 4, 3]), tf.fill([2, 1, 3], 4)], 1);
          const d = tf.max(tf.abs(tf.sub(m.forward(x).slice([0, 0, 0], [2, 4, -1]), m.forward(changed).slice([0, 0, 0], [2, 4, -1]))));
          return d.dataSync()[0] < 1e-5;
        }
        const [q, k, v] = [m.W_query.forward(x), m.W_key.forward(x), m.W_value.forward(x)];
        const hd = m.headDim;
        const heads = Array.from({ length: h }, (_, i) => {
          const cols = (t: tf.Tensor) => t.slice([0, 0, i * hd], [2, 5, hd]);
          const s = tf.div(tf.matMul(cols(q), cols(k), false, true), Math.sqrt(hd));
          const w = tf.softmax(tf.where(tf.greater(tf.linalg.bandPart(tf.ones([5, 5]), -1, 0), 0), s, tf.fill(s.shape, -Infinity)));
          return tf.matMul(w, cols(v));
        });
        const reference = m.out_proj.forward(tf.concat(heads, 2));
        return tf.max(tf.abs(tf.sub(m.forward(x), reference))).dataSync()[0] < 1e-4;
      };
    it("checkHeadLayoutTest (6.5): a test against a reference; one head only, the future only, always true", () => {
      const planted = suspectMultiHeadAttention(3, 8, 6, 2);
      assert.strictEqual(
        layoutTest()(() => planted),
        false,
        "the planted module splits its heads wrong",
      );
      planted.dispose();
      says(() => checkHeadLayoutTest(layoutTest()), /^✓ Right: your test fails every module whose heads are laid out wrong/);
      says(() => checkHeadLayoutTest(layoutTest({ heads: 1 })), /its bug shows only with more than one head/);
      says(() => checkHeadLayoutTest(layoutTest({ futureOnly: true })), /every heads-th column .* compare the output with a reference/);
      says(() => checkHeadLayoutTest(() => true), /your test passes the module of this exercise/);
      says(() => checkHeadLayoutTest(() => false), /your test fails a correct multi-head module/);
    });
  });

  describe("09: caches, heads and windows", () => {
    it("checkKvCacheBytes: right; query heads, keys only, the window ignored, the window always, one layer, bits, 4 bytes", () => {
      const right = (L: number, _h: number, kv: number, hd: number, t: number, w: number | null) =>
        2 * L * kv * hd * 2 * (w === null ? t : Math.min(t, w));
      says(() => checkKvCacheBytes(right), /^✓/);
      const wrong: [unknown, RegExp][] = [
        [
          (L: number, h: number, _kv: number, hd: number, t: number, w: number | null) => 2 * L * h * hd * 2 * (w === null ? t : Math.min(t, w)),
          /counted every query head/,
        ],
        [
          (L: number, h: number, kv: number, hd: number, t: number, w: number | null) => right(L, h, kv, hd, t, w) / 2,
          /keys and values: two tensors/,
        ],
        [
          (L: number, h: number, kv: number, hd: number, t: number) => right(L, h, kv, hd, t, null),
          /a sliding window keeps only the last window tokens/,
        ],
        [
          (L: number, h: number, kv: number, hd: number, t: number, w: number | null) => right(L, h, kv, hd, w ?? t, null),
          /a context shorter than the window keeps all/,
        ],
        [(_L: number, h: number, kv: number, hd: number, t: number, w: number | null) => right(1, h, kv, hd, t, w), /every layer has its own cache/],
        [(L: number, h: number, kv: number, hd: number, t: number, w: number | null) => right(L, h, kv, hd, t, w) * 2, /not 4/],
        [() => "big", /expected a number of bytes/],
      ];
      for (const [fn, p] of wrong) says(() => checkKvCacheBytes(fn), p);
    });

    it("checkKvHeadOf: right; dealt out in turn, divided by kvHeads", () => {
      says(() => checkKvHeadOf((h: number, n: number, kv: number) => Math.floor(h / (n / kv))), /^✓/);
      says(() => checkKvHeadOf((h: number, _n: number, kv: number) => h % kv), /dealt the heads out in turn/);
      says(() => checkKvHeadOf((h: number, _n: number, kv: number) => Math.floor(h / kv)), /divide by the group size/);
      says(() => checkKvHeadOf(() => -1), /from 0 to/);
    });

    it("checkWindowMask: right; one key too many, the future visible, one too few, inverted", () => {
      const band =
        (extra: number, causal = true) =>
        (T: number, w: number) =>
          tf.tensor2d(Array.from({ length: T }, (_, i) => Array.from({ length: T }, (_, j) => +((!causal || j <= i) && j > i - (w + extra)))));
      says(() => checkWindowMask(band(0)), /^✓/);
      says(() => checkWindowMask(band(1)), /each query sees w keys in all/);
      says(() => checkWindowMask(band(0, false)), /the future is visible/);
      says(() => checkWindowMask(band(-1)), /one key too few/);
      says(() => checkWindowMask((T: number, w: number) => tf.sub(1, band(0)(T, w))), /marks what is hidden/);
    });
  });
});
