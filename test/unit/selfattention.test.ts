import * as assert from "assert";
import * as tf from "@tensorflow/tfjs";
import {
  Linear,
  SelfAttentionV1,
  SelfAttentionV2,
  attentionScores,
  attentionWeights,
  checkWeightCopy,
  contextVectors,
  countParameters,
  manualSeed,
  normalizeBySum,
  scaledDotProductAttention,
  scalingExperiment,
  setup,
  simpleSelfAttention,
  softmax,
  softmaxNaive,
} from "attention-lib";
import { data, INPUTS, assertClose, assertThrowsMessage, noLeak, referenceValues, refuses, withTensors } from "../helpers";
import * as lib from "attention-lib";

describe("self-attention (notebooks 03 and 04)", () => {
  const ref = referenceValues();
  let inputs: tf.Tensor2D;
  before(async () => {
    await setup({ backend: "wasm", verbose: false });
    inputs = tf.tensor2d(INPUTS);
  });
  after(() => inputs.dispose());

  describe("without trainable weights (03)", () => {
    it("scores, weights and context of the query 'journey' match the book", () => {
      const query = inputs.slice([1, 0], [1, 3]);
      noLeak(() => {
        const scores = attentionScores(query, inputs);
        assertClose(data(scores), ref["simplified.scores_2"].data, 1e-4, "scores_2");
        const bySum = normalizeBySum(scores);
        assertClose(data(bySum), ref["simplified.sum_norm_2"].data, 1e-4, "sum_norm_2");
        const naive = softmaxNaive(scores);
        const weights = attentionWeights(scores);
        assertClose(data(naive), ref["simplified.softmax_2"].data, 1e-4, "naive softmax_2");
        assertClose(data(weights), ref["simplified.softmax_2"].data, 1e-4, "softmax_2");
        const context = contextVectors(weights, inputs);
        assertClose(data(context), ref["simplified.context_2"].data, 1e-4, "context_2");
        tf.dispose([scores, bySum, naive, weights, context]);
      });
      query.dispose();
    });

    it("all tokens at once match the book, rows sum to 1, and row 2 is the step-by-step result", () => {
      const parts = noLeak(() => simpleSelfAttention(inputs), 3);
      assert.deepStrictEqual(parts.scores.shape, [6, 6]);
      assertClose(data(parts.scores), ref["simplified.scores"].data, 1e-4, "scores");
      assertClose(data(parts.weights), ref["simplified.weights"].data, 1e-4, "weights");
      assertClose(data(parts.context), ref["simplified.context"].data, 1e-4, "context");
      const sums = tf.sum(parts.weights, -1);
      assertClose(data(sums), [1, 1, 1, 1, 1, 1], 1e-6, "row sums");
      assertClose(data(parts.context).slice(3, 6), ref["simplified.context_2"].data, 1e-6);
      tf.dispose([parts, sums]);
    });

    it("works on a batch [B, T, d]", () => {
      const batch = tf.stack([inputs, inputs]);
      const parts = simpleSelfAttention(batch);
      assert.deepStrictEqual(parts.context.shape, [2, 6, 3]);
      assertClose(data(parts.context).slice(18), ref["simplified.context"].data, 1e-4);
      tf.dispose([parts, batch]);
    });

    it("normalizeBySum divides each row by its own sum (not the whole tensor's)", () => {
      const s = tf.tensor2d([
        [1, 3],
        [2, 8],
      ]);
      const w = normalizeBySum(s);
      assertClose(data(w), [0.25, 0.75, 0.2, 0.8], 1e-6);
      tf.dispose([s, w]);
    });
  });

  describe("softmax variants", () => {
    it("the stable softmax equals the naive one where that is finite, and equals tf.softmax", () => {
      const s = tf.tensor([
        [0.1, -2, 3.5, 0],
        [10, 20, 30, 40],
      ]);
      const [a, b, c] = noLeak(() => [softmax(s), softmaxNaive(s), tf.softmax(s)], 3);
      assertClose(data(a), data(b), 1e-6);
      assertClose(data(a), data(c), 1e-6);
      tf.dispose([s, a, b, c]);
    });

    it("the naive softmax overflows on large scores; the stable one stays finite", () => {
      const s = tf.tensor([10, 100, 1000]);
      const naive = Array.from(data(softmaxNaive(s)));
      assert.ok(
        naive.some((v) => Number.isNaN(v)),
        `naive: ${naive}`,
      );
      const stable = Array.from(data(softmax(s)));
      assert.ok(stable.every(Number.isFinite));
      assertClose(stable, [0, 0, 1], 1e-6);
      s.dispose();
    });

    it("-Infinity scores get weight 0; division by the sum is not a softmax", () => {
      const s = tf.tensor([[1, -Infinity, 1]]);
      assertClose(data(softmax(s)), [0.5, 0, 0.5], 1e-6);
      const neg = tf.tensor([[1, -2, 3]]);
      assert.ok(
        Array.from(data(normalizeBySum(neg))).some((v) => v < 0),
        "negative weights from sum-normalizing",
      );
      tf.dispose([s, neg]);
    });

    it("softmax needs keys", () => {
      const scalar = tf.scalar(1);
      const empty = tf.zeros([2, 0]);
      assertThrowsMessage(() => softmax(scalar), /^softmax: scores must have at least one axis \(the keys\), got a scalar$/);
      assertThrowsMessage(() => softmax(empty), /^softmax: scores have no keys along the last axis \(shape \[2, 0\]\)$/);
      tf.dispose([scalar, empty]);
    });
  });

  describe("with trainable weights (04)", () => {
    it("seed 123: the three rand(3, 2) matrices, query_2, the scores and weights of 'journey', context_2", () => {
      manualSeed(123);
      const sa = noLeak(() => new SelfAttentionV1(3, 2), 3);
      assertClose(data(sa.W_query), ref["v1.W_query"].data, 1e-6);
      assertClose(data(sa.W_key), ref["v1.W_key"].data, 1e-6);
      assertClose(data(sa.W_value), ref["v1.W_value"].data, 1e-6);
      const p = noLeak(() => sa.explain(inputs), 6);
      assertClose(data(p.queries).slice(2, 4), ref["v1.query_2"].data, 1e-4, "query_2");
      assertClose([data(p.scores)[7]], ref["v1.score_22"].data, 1e-4, "score_22");
      assertClose(data(p.scores).slice(6, 12), ref["v1.scores_2"].data, 1e-4, "scores_2");
      assertClose(data(p.weights).slice(6, 12), ref["v1.weights_2"].data, 1e-4, "weights_2");
      assertClose(data(p.context).slice(2, 4), ref["v1.context_2"].data, 1e-4, "context_2");
      assertClose(data(tf.sum(p.weights, -1)), [1, 1, 1, 1, 1, 1], 1e-6);
      tf.dispose(p);
      sa.dispose();
    });

    it("v1 (seed 123) and v2 (seed 789) print the book's outputs", () => {
      manualSeed(123);
      const v1 = new SelfAttentionV1(3, 2);
      manualSeed(789);
      const v2 = new SelfAttentionV2(3, 2);
      assertClose(data(v2.W_query.weight), ref["v2.W_query.weight"].data, 1e-6);
      assertClose(data(v2.W_key.weight), ref["v2.W_key.weight"].data, 1e-6);
      assertClose(data(v2.W_value.weight), ref["v2.W_value.weight"].data, 1e-6);
      const [o1, o2] = noLeak(() => [v1.forward(inputs), v2.forward(inputs)], 2);
      // Printed in the book's companion notebook (4 decimals).
      assertClose(data(o1), [0.2996, 0.8053, 0.3061, 0.821, 0.3058, 0.8203, 0.2948, 0.7939, 0.2927, 0.7891, 0.299, 0.804], 1e-4);
      assertClose(data(o2), [-0.0739, 0.0713, -0.0748, 0.0703, -0.0749, 0.0702, -0.076, 0.0685, -0.0763, 0.0679, -0.0754, 0.0693], 1e-4);
      tf.dispose([o1, o2]);
      v1.dispose();
      v2.dispose();
    });

    it("v1 equals v2 once v2's weights are copied in, transposed; the check says what is wrong before", () => {
      manualSeed(123);
      const v1 = new SelfAttentionV1(3, 2);
      manualSeed(789);
      const v2 = new SelfAttentionV2(3, 2);
      assert.match(
        noLeak(() => checkWeightCopy(v1, v2, inputs)),
        /^✗ Not yet:\n {2}- v1.W_query does not hold v2.W_query's weights/,
      );
      v1.W_query.assign(tf.tidy(() => v2.W_query.weight.reshape([3, 2])));
      assert.match(checkWeightCopy(v1, v2, inputs), /v1.W_query holds v2's numbers in v2's memory order/);
      v1.W_query.assign(tf.tidy(() => v2.W_key.weight.transpose()));
      assert.match(checkWeightCopy(v1, v2, inputs), /v1.W_query holds the weights of v2.W_key/);
      for (const n of ["W_query", "W_key", "W_value"] as const) v1[n].assign(tf.tidy(() => v2[n].weight.transpose()));
      assert.strictEqual(checkWeightCopy(v1, v2, inputs), "✓ Right: v1 and v2 now compute the same context vectors.");
      const [a, b] = [v1.forward(inputs), v2.forward(inputs)];
      assertClose(data(a), data(b), 1e-6);
      tf.dispose([a, b]);
      v1.dispose();
      v2.dispose();
    });

    it("gradients reach all three weight matrices", () => {
      manualSeed(789);
      const sa = new SelfAttentionV2(3, 2);
      const target = tf.zeros([6, 2]);
      const { value, grads } = tf.variableGrads(() => tf.losses.meanSquaredError(target, sa.forward(inputs)) as tf.Scalar, sa.parameters());
      assert.strictEqual(Object.keys(grads).length, 3);
      for (const p of sa.parameters()) {
        const g = grads[p.name];
        assert.deepStrictEqual(g.shape, [2, 3]);
        const norm = tf.tidy(() => tf.norm(g).dataSync()[0]);
        assert.ok(norm > 1e-6, `gradient of ${p.name} is ${norm}`);
      }
      tf.dispose([value, grads, target]);
      sa.dispose();
    });

    it("a batch [2, 6, 3] gives [2, 6, d_out], each the same as alone", () => {
      manualSeed(789);
      const sa = new SelfAttentionV2(3, 2, { qkvBias: true });
      assert.strictEqual(countParameters(sa), 3 * (3 * 2 + 2));
      const batch = tf.stack([inputs, inputs]);
      const out = sa.forward(batch);
      const one = sa.forward(inputs);
      assert.deepStrictEqual(out.shape, [2, 6, 2]);
      assertClose(data(out).slice(12), data(one), 1e-6);
      tf.dispose([batch, out, one]);
      sa.dispose();
    });

    it("scaled dot-product attention divides by sqrt(d_k) before the softmax", () => {
      const q = tf.tensor([[1, 0, 0, 0]]);
      const k = tf.tensor([
        [4, 0, 0, 0],
        [0, 0, 0, 0],
      ]);
      const v = tf.tensor([
        [1, 0],
        [0, 1],
      ]);
      const r = noLeak(() => scaledDotProductAttention(q, k, v), 3);
      const e = Math.exp(2); // 4 / sqrt(4)
      assertClose(data(r.weights), [e / (e + 1), 1 / (e + 1)], 1e-6);
      assertClose(data(r.scores), [4, 0], 1e-6);
      tf.dispose([q, k, v, r]);
    });

    it("scaling keeps softmax from peaking as d_k grows", () => {
      const e = noLeak(() => scalingExperiment([2, 64, 1024], { tokens: 16, rows: 32, seed: 1 }));
      assert.ok(e.maxWeightUnscaled[2] > 0.8, `unscaled max weight at d=1024: ${e.maxWeightUnscaled[2]}`);
      assert.ok(e.maxWeightUnscaled[0] < e.maxWeightUnscaled[1] && e.maxWeightUnscaled[1] < e.maxWeightUnscaled[2]);
      for (const m of e.maxWeightScaled) assert.ok(m < 0.4, `scaled max weight ${m}`);
      assert.ok(e.entropyScaled[2] > 4 * e.entropyUnscaled[2]);
    });

    it("without scaling the gradient reaching the scores shrinks as d_k grows; with it, it stays put", () => {
      const e = noLeak(() => scalingExperiment([2, 1024], { tokens: 16, rows: 64, seed: 0 }));
      assert.ok(e.gradNormUnscaled[1] < e.gradNormUnscaled[0] / 4, `unscaled: ${e.gradNormUnscaled}`);
      assert.ok(Math.abs(e.gradNormScaled[1] - e.gradNormScaled[0]) < 0.1, `scaled: ${e.gradNormScaled}`);
      // The measured gradient is J^T g with the softmax's Jacobian J = diag(w) - w w^T: check one row by hand.
      const z = tf.tensor1d([0.5, -1, 2]);
      const g = tf.tensor1d([1, -2, 0.5]);
      const grad = tf.grad((zz: tf.Tensor) => tf.sum(tf.mul(tf.softmax(zz), g)))(z);
      const w = Array.from(tf.softmax(z).dataSync());
      const gv = [1, -2, 0.5];
      const dot = w.reduce((s, wi, i) => s + wi * gv[i], 0);
      assertClose(
        data(grad),
        w.map((wi, i) => wi * (gv[i] - dot)),
        1e-6,
      );
      tf.dispose([z, g, grad]);
    });

    it("scalingExperiment: its checks, its defaults, one value per dimension", () => {
      assertThrowsMessage(() => scalingExperiment([0]), /^scalingExperiment: each dimension must be a positive integer, got 0$/);
      assertThrowsMessage(() => scalingExperiment([4], { tokens: 0 }), /^scalingExperiment: tokens must be a positive integer, got 0$/);
      assertThrowsMessage(() => scalingExperiment([4], { rows: -1 }), /^scalingExperiment: rows must be a positive integer, got -1$/);
      const e = noLeak(() => scalingExperiment());
      assert.deepStrictEqual(e.dims, [2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]);
      for (const k of ["maxWeightUnscaled", "maxWeightScaled", "entropyUnscaled", "entropyScaled"] as const) assert.strictEqual(e[k].length, 10, k);
      const same = scalingExperiment([4], { tokens: 16, rows: 64, seed: 0 });
      assert.deepStrictEqual(scalingExperiment([4]).maxWeightScaled, same.maxWeightScaled, "defaults: 16 tokens, 64 rows, seed 0");
      assert.ok(
        e.entropyScaled.every((h) => h > 0 && h <= Math.log(16) + 1e-6),
        "entropies between 0 and ln(16)",
      );
    });

    it("scalingExperiment divides by sqrt(d_k): scaled scores keep unit variance, so the peak stays put as d_k grows", () => {
      const e = scalingExperiment([4, 1024], { tokens: 16, rows: 64, seed: 3 });
      const [small, large] = e.maxWeightScaled;
      // Divided by d instead, the d = 1024 weights would be nearly uniform (max -> 1/16 = 0.0625).
      assert.ok(large > 0.15, `scaled max weight at d=1024: ${large}`);
      assert.ok(Math.abs(large - small) < 0.35 * small, `scaled max weight ${small} at d=4 vs ${large} at d=1024`);
      // and the entropy of the scaled weights does not depend on d_k either
      assert.ok(Math.abs(e.entropyScaled[0] - e.entropyScaled[1]) < 0.3, `entropies ${e.entropyScaled}`);
    });
  });

  describe("bad input gets a clear error", () => {
    let sa: SelfAttentionV2;
    before(() => {
      manualSeed(789);
      sa = new SelfAttentionV2(3, 2);
    });
    after(() => sa.dispose());

    it("wrong rank", () => {
      const x = tf.tensor([1, 2, 3]);
      assertThrowsMessage(
        () => sa.forward(x),
        /SelfAttentionV2: inputs must have rank 2 or 3 \(\[tokens, d_in\] or \[batch, tokens, d_in\]\), got shape \[3\]/,
      );
      x.dispose();
    });
    it("d_in mismatch between input and weights", () => {
      const x = tf.ones([6, 4]);
      assertThrowsMessage(() => sa.forward(x), /inputs has d_in = 4 \(shape \[6, 4\]\), but the weights expect d_in = 3/);
      x.dispose();
    });
    it("empty sequence", () => {
      const x = tf.zeros([0, 3]);
      assertThrowsMessage(() => sa.forward(x), /inputs is an empty sequence \(shape \[0, 3\]\); expected at least one token/);
      assertThrowsMessage(() => simpleSelfAttention(x), /simpleSelfAttention: inputs is an empty sequence/);
      x.dispose();
    });
    it("options that are not an object, a qkvBias that is not true or false, a generator that is not one", () => {
      const cases: [() => unknown, RegExp][] = [
        [() => new SelfAttentionV2(3, 2, 3 as never), /^SelfAttentionV2: options must be an object like \{ qkvBias: true \}, got 3$/],
        [() => new SelfAttentionV2(3, 2, "bias" as never), /^SelfAttentionV2: options must be an object like .*, got the string "bias"$/],
        [() => new SelfAttentionV2(3, 2, [true] as never), /^SelfAttentionV2: options must be an object like .*, got an array$/],
        [() => new SelfAttentionV2(3, 2, null as never), /^SelfAttentionV2: options must be an object like .*, got null$/],
        [
          () => new SelfAttentionV2(3, 2, { qkvBias: "no" as never }),
          /^SelfAttentionV2: the option qkvBias must be true or false, got the string "no"$/,
        ],
        [
          () => new SelfAttentionV2(3, 2, { generator: 3 as never }),
          /^SelfAttentionV2: the generator must be a Generator \(new Generator\(seed\)\), got 3$/,
        ],
        [
          () => new SelfAttentionV1(3, 2, 3 as never),
          /^SelfAttentionV1: options must be an object like \{ generator: new Generator\(123\) \}, got 3$/,
        ],
        [() => new Linear(3, 2, 3 as never), /^Linear: options must be an object like \{ bias: false \}, got 3$/],
      ];
      for (const [make, pattern] of cases) refuses(make, pattern);
    });
    it("Linear on an axis of size 0: no token or no batch item", () => {
      const lin = new Linear(3, 2);
      for (const shape of [
        [0, 3],
        [2, 0, 3],
      ])
        withTensors(
          () => [tf.zeros(shape)],
          (x) =>
            refuses(
              () => lin.forward(x),
              /^Linear: x has an axis of size 0 \(shape \[.*\], \[\.\.\., d_in\]\); expected at least one entry along every axis$/,
            ),
        );
      lin.dispose();
    });
    it("non-finite values", () => {
      const x = tf.tensor([[1, NaN, 0]]);
      assertThrowsMessage(() => sa.forward(x), /inputs contains NaN or Infinity; expected finite numbers/);
      x.dispose();
    });
    it("not a tensor, or mismatched shapes in the building blocks", () => {
      assertThrowsMessage(() => sa.forward([[1, 2, 3]] as any), /inputs must be a tf.Tensor, got a plain array \(wrap it with tf.tensor\(...\)\)/);
      const a = tf.ones([6, 3]);
      const b = tf.ones([6, 2]);
      assertThrowsMessage(() => attentionScores(a, b), /must have the same size d \(last axis\)/);
      const w = tf.ones([6, 5]);
      assertThrowsMessage(() => contextVectors(w, a), /weigh 5 tokens but values \[6, 3\] has 6/);
      assertThrowsMessage(() => new Linear(0, 2), /Linear: d_in must be a positive integer, got 0/);
      assertThrowsMessage(() => new SelfAttentionV1(3, 1.5), /SelfAttentionV1: d_out must be a positive integer, got 1.5/);
      const lin = new Linear(3, 2);
      assertThrowsMessage(() => lin.forward(b), /Linear: input has last axis 2 \(shape \[6, 2\]\), expected d_in = 3/);
      lin.dispose();
      tf.dispose([a, b, w]);
    });

    it("scores and context vectors: ranks, leading axes, scale", () => {
      const a2 = tf.ones([2, 3]);
      const a3 = tf.ones([1, 2, 3]);
      const b3 = tf.ones([2, 2, 3]);
      const v1 = tf.ones([3]);
      assertThrowsMessage(() => attentionScores(a2, a3), /^attentionScores: queries \[2, 3\] and keys \[1, 2, 3\] must have the same rank$/);
      assertThrowsMessage(
        () => attentionScores(a3, b3),
        /^attentionScores: queries \[1, 2, 3\] and keys \[2, 2, 3\] must agree on the leading \(batch\/head\) axes$/,
      );
      assertThrowsMessage(
        () => attentionScores(v1, v1),
        /^attentionScores: queries must have rank 2, 3 or 4 \(\[tokens, d\], \[batch, tokens, d\] or \[batch, heads, tokens, d\]\), got shape \[3\]$/,
      );
      for (const s of [0, -1, Infinity, NaN])
        assertThrowsMessage(
          () => attentionScores(a2, a2, s),
          new RegExp(`^attentionScores: scale must be a finite number greater than 0, got ${s}$`),
        );
      const s2 = attentionScores(a2, a2, 2);
      assert.deepStrictEqual(data(s2), [1.5, 1.5, 1.5, 1.5], "divided by the scale");
      assertThrowsMessage(() => contextVectors(a3, b3), /^contextVectors: weights \[1, 2, 3\] and values \[2, 2, 3\] must agree/);
      tf.dispose([a2, a3, b3, v1, s2]);
    });
  });
});

describe("the function-style attention refuses empty inputs and options of the wrong kind", () => {
  before(() => lib.setup({ backend: "wasm", verbose: false }));

  it("attentionScores, contextVectors and scaledDotProductAttention refuse an axis of size 0 instead of an empty tensor", () => {
    const cases: [number[], number[], string][] = [
      [[0, 3], [0, 3], "queries"],
      [[2, 3], [0, 3], "keys"],
      [[0, 6, 3], [0, 6, 3], "queries"],
      [[1, 0, 6, 3], [1, 0, 6, 3], "queries"],
      [[6, 0], [6, 0], "queries"],
    ];
    for (const [qs, ks, bad] of cases) {
      withTensors(
        () => [tf.zeros(qs), tf.zeros(ks)],
        (q, k) => {
          const shape = bad === "queries" ? qs : ks;
          refuses(() => lib.attentionScores(q, k), new RegExp(`^attentionScores: ${bad} has an axis of size 0 \\(shape \\[${shape.join(", ")}\\],`));
        },
      );
    }
    withTensors(
      () => [tf.fill([3, 3], 1 / 3), tf.zeros([3, 0]), tf.zeros([0, 3, 3]), tf.zeros([0, 3, 2]), lib.exampleInputs(), tf.zeros([6, 0])],
      (w, noDims, noBatch, noBatchValues, x, noValueDims) => {
        refuses(
          () => lib.contextVectors(w, noDims),
          /^contextVectors: values has an axis of size 0 \(shape \[3, 0\],.*expected at least one entry along every axis$/,
        );
        refuses(() => lib.contextVectors(noBatch, noBatchValues), /^contextVectors: weights has an axis of size 0 \(shape \[0, 3, 3\]/);
        refuses(() => lib.scaledDotProductAttention(x, x, noValueDims), /^contextVectors: values has an axis of size 0/);
      },
    );
  });

  it("scalingExperiment and dropout refuse options that would be ignored or return nothing", () => {
    refuses(
      () => lib.scalingExperiment([]),
      /^scalingExperiment: dims must be a non-empty array of dimensions d_k, e\.g\. \[2, 16, 128\], got \[\]$/,
    );
    refuses(() => lib.scalingExperiment("4" as never), /^scalingExperiment: dims must be a non-empty array.*got the string "4"$/);
    refuses(
      () => lib.scalingExperiment([2], 3 as never),
      /^scalingExperiment: options must be an object like \{ tokens: 16, rows: 64, seed: 0 \}, got 3$/,
    );
    withTensors(
      () => [tf.ones([2, 2])],
      (x) => {
        refuses(
          () => lib.dropout(x, 0.5, { training: "false" as never }),
          /^dropout: the option training must be true or false, got the string "false"$/,
        );
        refuses(
          () => lib.dropout(x, 0.5, { generator: 3 as never }),
          /^dropout: the option generator must be a Generator \(new Generator\(seed\)\), got 3$/,
        );
        refuses(() => lib.dropout(x, 0.5, 3 as never), /^dropout: options must be an object like \{ training: false \}, got 3$/);
        const kept = lib.dropout(x, 0.5, { training: false });
        assert.deepStrictEqual(data(kept), [1, 1, 1, 1]);
        kept.dispose();
      },
    );
  });
});
