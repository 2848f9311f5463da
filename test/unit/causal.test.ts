import * as assert from "assert";
import * as tf from "@tensorflow/tfjs";
import {
  CausalAttention,
  Generator,
  Linear,
  MultiHeadAttention,
  MultiHeadAttentionWrapper,
  SelfAttentionV2,
  causalMask,
  causalSoftmax,
  checkTwoDimensionalWrapper,
  countParameters,
  dropout,
  exampleInputs,
  headDimOf,
  headHeatmaps,
  headView,
  lowerTriangle,
  manualSeed,
  maskAndRenormalize,
  maskFuture,
  mergeHeads,
  multiHeadFromWrapper,
  normalizeBySum,
  setup,
  softmax,
  softmaxNaive,
  splitHeads,
} from "attention-lib";
import { data, TOKENS, assertClose, assertThrowsMessage, checkGradients, noLeak, referenceValues, refuses, withTensors } from "../helpers";
import * as lib from "attention-lib";

// Tensors printed in the book's companion notebook (4 decimals), one batch item.
const BOOK = {
  causalWeights: [
    1, 0, 0, 0, 0, 0, 0.5517, 0.4483, 0, 0, 0, 0, 0.38, 0.3097, 0.3103, 0, 0, 0, 0.2758, 0.246, 0.2462, 0.2319, 0, 0, 0.2175, 0.1983, 0.1984, 0.1888,
    0.1971, 0, 0.1935, 0.1663, 0.1666, 0.1542, 0.1666, 0.1529,
  ],
  droppedWeights: [
    2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.7599, 0.6194, 0.6206, 0, 0, 0, 0, 0.4921, 0.4925, 0, 0, 0, 0, 0.3966, 0, 0.3775, 0, 0, 0, 0.3327, 0.3331,
    0.3084, 0.3331, 0,
  ],
  causalAttention: [-0.4519, 0.2216, -0.5874, 0.0058, -0.63, -0.0632, -0.5675, -0.0843, -0.5526, -0.0981, -0.5299, -0.1081],
  wrapper: [
    -0.4519, 0.2216, 0.4772, 0.1063, -0.5874, 0.0058, 0.5891, 0.3257, -0.63, -0.0632, 0.6202, 0.386, -0.5675, -0.0843, 0.5478, 0.3589, -0.5526,
    -0.0981, 0.5321, 0.3428, -0.5299, -0.1081, 0.5077, 0.3493,
  ],
  multiHead: [0.319, 0.4858, 0.2943, 0.3897, 0.2856, 0.3593, 0.2693, 0.3873, 0.2639, 0.3928, 0.2575, 0.4028],
  exercise: [-0.574, 0.2216, -0.732, 0.0155, -0.7774, -0.0546, -0.6979, -0.0817, -0.6538, -0.0957, -0.6424, -0.1065],
};

describe("causal and multi-head attention (notebooks 05 and 06)", function () {
  this.timeout(60000);
  const ref = referenceValues();
  let inputs: tf.Tensor2D;
  let batch: tf.Tensor3D;
  before(async () => {
    await setup({ backend: "wasm", verbose: false });
    inputs = exampleInputs();
    batch = tf.stack([inputs, inputs]) as tf.Tensor3D;
  });
  after(() => tf.dispose([inputs, batch]));

  describe("causal mask", () => {
    it("renormalizing after masking equals -Infinity before softmax (seed-789 weights of v2)", () => {
      manualSeed(789);
      const sa = new SelfAttentionV2(3, 2);
      const parts = sa.explain(inputs);
      const scaled = tf.div(parts.scores, Math.SQRT2);
      const [a, b] = noLeak(() => [maskAndRenormalize(parts.weights), causalSoftmax(scaled)], 2);
      scaled.dispose();
      assertClose(data(a), BOOK.causalWeights, 1e-4, "renormalized");
      assertClose(data(a), data(b), 1e-6, "-Infinity masking");
      tf.dispose([parts, a, b]);
      sa.dispose();
    });

    it("masks exactly the future: lower triangle, -Infinity above the diagonal", () => {
      const lt = noLeak(() => lowerTriangle(3), 1);
      assert.deepStrictEqual(Array.from(data(lt)), [1, 0, 0, 1, 1, 0, 1, 1, 1]);
      const m = causalMask(3);
      assert.deepStrictEqual(Array.from(data(m)), [0, 1, 1, 0, 0, 1, 0, 0, 0]);
      const s = tf.ones([2, 3, 3]);
      const f = maskFuture(s);
      assert.deepStrictEqual(Array.from(data(f)).slice(0, 9), [1, -Infinity, -Infinity, 1, 1, -Infinity, 1, 1, 1]);
      tf.dispose([lt, m, s, f]);
    });

    it("rejects non-square scores", () => {
      const s = tf.ones([3, 4]);
      assertThrowsMessage(
        () => maskFuture(s),
        /maskFuture: expected square attention matrices \[\.\.\., T, T\] \(queries x keys\), got shape \[3, 4\]/,
      );
      s.dispose();
    });

    it("masks", () => {
      assertThrowsMessage(() => lowerTriangle(0), /^lowerTriangle: tokens must be a positive integer, got 0$/);
      assertThrowsMessage(() => causalMask(1.5), /^causalMask: tokens must be a positive integer, got 1.5$/);
      const wide = tf.ones([2, 3]);
      assertThrowsMessage(
        () => maskAndRenormalize(wide),
        /^maskAndRenormalize: expected square attention matrices \[\.\.\., T, T\] \(queries x keys\), got shape \[2, 3\]$/,
      );
      assertThrowsMessage(() => maskFuture(wide), /^maskFuture: expected square/);
      const withMinusInf = tf.tensor2d([
        [0, -Infinity],
        [1, 2],
      ]);
      assertThrowsMessage(() => maskAndRenormalize(withMinusInf), /^maskAndRenormalize: scores contains NaN or Infinity; expected finite numbers$/);
      const masked = maskFuture(withMinusInf); // -Infinity is a mask here, allowed
      assert.deepStrictEqual(data(masked), [0, -Infinity, 1, 2]);
      tf.dispose([wide, withMinusInf, masked]);
    });

    it("maskAndRenormalize renormalizes each row of each matrix in a batch", () => {
      const w = tf.tensor3d([
        [
          [0.5, 0.5],
          [0.25, 0.75],
        ],
        [
          [0.2, 0.8],
          [0.6, 0.4],
        ],
      ]);
      const r = maskAndRenormalize(w);
      assertClose(data(r), [1, 0, 0.25, 0.75, 1, 0, 0.6, 0.4], 1e-6);
      tf.dispose([w, r]);
    });
  });

  describe("dropout", () => {
    it("seed 123, p = 0.5 on ones and on the causal weights: the book's matrices", () => {
      manualSeed(123);
      const ones = tf.ones([6, 6]);
      const d = noLeak(() => dropout(ones, 0.5), 1);
      assertClose(data(d), ref["dropout.ones"].data, 0);
      manualSeed(123);
      const w = tf.tensor2d(BOOK.causalWeights, [6, 6]);
      const dw = dropout(w, 0.5);
      assertClose(data(dw), BOOK.droppedWeights, 2e-4);
      tf.dispose([ones, d, w, dw]);
    });

    it("zeroes about p of a large tensor, scales survivors by 1/(1-p), and is the identity in evaluation", () => {
      const x = tf.ones([200, 500]);
      const d = dropout(x, 0.2, { generator: new Generator(3) });
      const v = data(d);
      const zeros = v.filter((e) => e === 0).length / v.length;
      assert.ok(Math.abs(zeros - 0.2) < 0.01, `share zeroed ${zeros}`);
      assert.ok(v.every((e) => e === 0 || Math.abs(e - 1.25) < 1e-6));
      const before = new Generator(5);
      const e = dropout(x, 0.2, { training: false, generator: before });
      assertClose(data(e), data(x), 0);
      assert.strictEqual(before.nextUint32(), new Generator(5).nextUint32(), "evaluation draws no random numbers");
      tf.dispose([x, d, e]);
    });

    it("dropout's probability, and what p = 0 and evaluation do", () => {
      const x = tf.ones([4, 4]);
      for (const p of [1, -0.1, NaN])
        assertThrowsMessage(() => dropout(x, p), new RegExp(`^dropout: the drop probability p must be in \\[0, 1\\), got ${p}$`));
      const g = new Generator(3);
      const before = g.nextUint32();
      const g2 = new Generator(3);
      for (const out of [dropout(x, 0, { generator: g2 }), dropout(x, 0.5, { training: false, generator: g2 })]) {
        assert.deepStrictEqual(data(out), new Array(16).fill(1));
        out.dispose();
      }
      assert.strictEqual(g2.nextUint32(), before, "no random number drawn for p = 0 or in evaluation");
      const dropped = dropout(x, 0.5, { generator: new Generator(1) });
      assert.ok(data(dropped).every((v) => v === 0 || v === 2) && data(dropped).includes(0), "training drops and scales");
      tf.dispose([x, dropped]);
    });

    it("dropout refuses a bad p also in evaluation, where it draws nothing", () => {
      const x = tf.ones([2, 2]);
      assertThrowsMessage(() => dropout(x, 1.5, { training: false }), /^dropout: the drop probability p must be in \[0, 1\), got 1.5$/);
      assertThrowsMessage(() => dropout(x, -1, { training: false }), /^dropout: the drop probability p must be in \[0, 1\), got -1$/);
      assertThrowsMessage(() => dropout(x, 1, { training: false }), /^dropout: the drop probability p must be in \[0, 1\), got 1$/);
      x.dispose();
    });
  });

  describe("CausalAttention", () => {
    it("holds its mask as state: built once for the context length, not a parameter, sliced per call, freed by dispose", () => {
      manualSeed(123);
      const ca = new CausalAttention(3, 2, 8, 0);
      assert.deepStrictEqual(ca.mask!.shape, [8, 8]);
      assert.strictEqual(ca.mask!.dtype, "bool");
      const m = ca.mask!.arraySync() as unknown as number[][];
      m.forEach((row, i) => row.forEach((v, j) => assert.strictEqual(Boolean(v), j > i, `mask[${i}][${j}]`)));
      assert.ok(!ca.parameters().some((p) => (p as tf.Tensor) === ca.mask), "the mask is not trainable");
      assert.strictEqual(countParameters(ca), 3 * 3 * 2);
      const x = exampleInputs();
      const out = noLeak(() => ca.forward(x), 1); // 6 of 8 tokens: no new mask is built
      const w = ca.explain(x);
      const weights = w.weights.arraySync() as number[][];
      weights.forEach((row, i) => row.forEach((v, j) => (j > i ? assert.strictEqual(v, 0) : assert.ok(v > 0))));
      const mask = ca.mask!;
      ca.dispose();
      assert.ok(mask.isDisposed, "dispose frees the mask");
      const wrapper = new MultiHeadAttentionWrapper(3, 2, 8, 0, 2);
      assert.ok(!("mask" in wrapper), "the wrapper is a plain module of heads: the masks are its heads'");
      const masks = wrapper.heads.map((h) => h.mask!);
      assert.deepStrictEqual(
        masks.map((m) => m.shape),
        [
          [8, 8],
          [8, 8],
        ],
      );
      wrapper.dispose();
      assert.ok(
        masks.every((m) => m.isDisposed),
        "disposing the wrapper frees its heads' masks",
      );
      assert.strictEqual(new CausalAttention(3, 2, 8, 0, { causal: false }).mask, null);
      tf.dispose([x, out, w]);
    });

    it("seed 123 on the batch [2, 6, 3]: the book's context vectors [2, 6, 2]", () => {
      manualSeed(123);
      const ca = new CausalAttention(3, 2, 6, 0.0);
      const out = noLeak(() => ca.forward(batch), 1);
      assert.deepStrictEqual(out.shape, [2, 6, 2]);
      assertClose(data(out).slice(0, 12), BOOK.causalAttention, 1e-4);
      assertClose(data(out).slice(12), BOOK.causalAttention, 1e-4);
      out.dispose();
      ca.dispose();
    });

    it("is causal: changing later tokens leaves earlier outputs unchanged", () => {
      manualSeed(123);
      const ca = new CausalAttention(3, 2, 6, 0.0);
      const changed = tf.concat([inputs.slice([0, 0], [3, 3]), tf.fill([3, 3], 9)]);
      const [a, b] = [ca.forward(inputs), ca.forward(changed)];
      assertClose(data(a).slice(0, 6), data(b).slice(0, 6), 1e-6);
      assert.ok(Math.abs(data(a)[6] - data(b)[6]) > 1e-3, "later outputs do change");
      tf.dispose([changed, a, b]);
      ca.dispose();
    });

    it("shorter inputs use the top-left of the mask; longer ones are a clear error", () => {
      manualSeed(123);
      const ca = new CausalAttention(3, 2, 6, 0.0);
      const short = batch.slice([0, 0, 0], [2, 4, 3]);
      const out = ca.forward(short);
      assert.deepStrictEqual(out.shape, [2, 4, 2]);
      assertClose(data(out).slice(0, 8), BOOK.causalAttention.slice(0, 8), 1e-4);
      const long = tf.concat([inputs, inputs]);
      assertThrowsMessage(() => ca.forward(long), /CausalAttention: inputs have 12 tokens \(shape \[12, 3\]\), more than the context length 6/);
      tf.dispose([short, out, long]);
      ca.dispose();
    });

    it("dropout applies in training mode only", () => {
      manualSeed(1);
      const ca = new CausalAttention(3, 2, 6, 0.5);
      const p = ca.eval().explain(inputs);
      assertClose(data(tf.sum(p.weights, -1)), [1, 1, 1, 1, 1, 1], 1e-6);
      const q = ca.train().explain(inputs);
      assert.ok(
        data(q.weights).some((v) => v > 1.01),
        "training-mode weights carry the 1/(1-p) scale",
      );
      tf.dispose([p, q]);
      ca.dispose();
    });

    it("explain() on [T, d_in] gives [T, T] weights and [T, d_out] context, also for one token", () => {
      const m = new MultiHeadAttention(3, 4, 6, 0, 2);
      const one = tf.ones([1, 3]);
      const p = m.explain(one);
      assert.deepStrictEqual(
        [p.scores.shape, p.weights.shape, p.context.shape],
        [
          [2, 1, 1],
          [2, 1, 1],
          [1, 4],
        ],
      );
      const ca = new CausalAttention(3, 2, 6);
      const q = ca.explain(one);
      assert.deepStrictEqual(
        [q.scores.shape, q.weights.shape, q.context.shape],
        [
          [1, 1],
          [1, 1],
          [1, 2],
        ],
      );
      tf.dispose([one, p, q]);
      m.dispose();
      ca.dispose();
    });
  });

  describe("multi-head", () => {
    it("the wrapper (seed 123, 2 heads) concatenates heads: [2, 6, 4], the book's numbers", () => {
      manualSeed(123);
      const w = new MultiHeadAttentionWrapper(3, 2, 6, 0.0, 2);
      const out = noLeak(() => w.forward(batch), 1);
      assert.deepStrictEqual(out.shape, [2, 6, 4]);
      assertClose(data(out).slice(0, 24), BOOK.wrapper, 1e-4);
      const parts = w.explain(batch);
      assert.deepStrictEqual(parts.weights.shape, [2, 2, 6, 6]);
      tf.dispose([out, parts]);
      w.dispose();
    });

    it("the efficient module (seed 123, 2 heads) gives [2, 6, 2], the book's numbers", () => {
      manualSeed(123);
      const m = new MultiHeadAttention(3, 2, 6, 0.0, 2);
      assert.strictEqual(m.out_proj.bias !== null, true);
      const out = noLeak(() => m.forward(batch), 1);
      assert.deepStrictEqual(out.shape, [2, 6, 2]);
      assertClose(data(out).slice(0, 12), BOOK.multiHead, 1e-4);
      const parts = m.explain(batch);
      assert.deepStrictEqual(parts.weights.shape, [2, 2, 6, 6]);
      assertClose(data(tf.sum(parts.weights, -1)), new Array(24).fill(1), 1e-6);
      tf.dispose([out, parts]);
      m.dispose();
    });

    it("exercise: the wrapper with d_out = 1 and 2 heads (seed 123) gives 2-d vectors; the check says so", () => {
      manualSeed(123);
      const wrong = new MultiHeadAttentionWrapper(3, 2, 6, 0.0, 2);
      assert.match(
        checkTwoDimensionalWrapper(wrong, batch),
        /^✗ Not yet: its context vectors have 4 dimensions: the wrapper concatenates its heads, so the width is d_out x heads = 2 x 2/,
      );
      wrong.dispose();
      manualSeed(123);
      const w = new MultiHeadAttentionWrapper(3, 1, 6, 0.0, 2);
      assert.strictEqual(
        noLeak(() => checkTwoDimensionalWrapper(w, batch)),
        "✓ Right: 2 heads, context vectors of width 2.",
      );
      const out = w.forward(batch);
      assertClose(data(out).slice(0, 12), BOOK.exercise, 1e-4);
      out.dispose();
      w.dispose();
    });

    it("the book's exercise 3.2 (seed 123, d_out = 1, 2 heads) gives PyTorch's numbers", () => {
      // PyTorch 1.13.0 (Debian's python3-torch, CPU): torch.manual_seed(123), the book's wrapper with d_out=1, 2 heads, on batch.
      const pytorch = [
        -0.573988, 0.221605, -0.731986, 0.015525, -0.777365, -0.054602, -0.697865, -0.081738, -0.653845, -0.095701, -0.642381, -0.106454,
      ];
      manualSeed(123);
      const w = new MultiHeadAttentionWrapper(3, 1, 6, 0.0, 2);
      const out = w.forward(batch);
      assert.deepStrictEqual(out.shape, [2, 6, 2]);
      assertClose(data(out), [...pytorch, ...pytorch], 1e-5);
      out.dispose();
      w.dispose();
    });

    it("wrapper equals the efficient module once its weights are copied in", () => {
      manualSeed(123);
      const w = new MultiHeadAttentionWrapper(3, 2, 6, 0.0, 3, { qkvBias: true });
      const m = noLeak(() => multiHeadFromWrapper(w), 9); // 8 parameters and the causal mask
      const [a, b] = [w.forward(batch), m.forward(batch)];
      assert.deepStrictEqual(b.shape, [2, 6, 6]);
      assertClose(data(a), data(b), 1e-5);
      tf.dispose([a, b]);
      w.dispose();
      m.dispose();
    });

    it("head reshape round-trips: [b, T, d_out] -> [b, heads, T, head_dim] -> [b, T, d_out]", () => {
      const x = tf.tensor(
        Array.from({ length: 2 * 4 * 6 }, (_, i) => i),
        [2, 4, 6],
      );
      const s = noLeak(() => splitHeads(x, 3), 1);
      assert.deepStrictEqual(s.shape, [2, 3, 4, 2]);
      // head 1 of token 0 holds dimensions 2 and 3
      assert.deepStrictEqual(Array.from(data(s.slice([0, 1, 0, 0], [1, 1, 1, 2]))), [2, 3]);
      const back = mergeHeads(s);
      assert.deepStrictEqual(Array.from(data(back)), Array.from(data(x)));
      tf.dispose([x, s, back]);
    });

    it("batched matmul over heads equals looping over heads (the book's fixed tensor)", () => {
      const a = tf.tensor(
        [
          0.2745, 0.6584, 0.2775, 0.8573, 0.8993, 0.039, 0.9268, 0.7388, 0.7179, 0.7058, 0.9156, 0.434, 0.0772, 0.3565, 0.1479, 0.5331, 0.4066,
          0.2318, 0.4545, 0.9737, 0.4606, 0.5159, 0.422, 0.5786,
        ],
        [1, 2, 3, 4],
      );
      const batched = tf.matMul(a, a, false, true);
      assertClose(data(batched), ref["batched.a_at_aT"].data, 1e-4);
      for (let h = 0; h < 2; h++) {
        const head = a.slice([0, h, 0, 0], [1, 1, 3, 4]).reshape([3, 4]);
        const one = tf.matMul(head, head, false, true);
        assertClose(data(one), data(batched).slice(h * 9, h * 9 + 9), 1e-6);
        tf.dispose([head, one]);
      }
      tf.dispose([a, batched]);
    });

    it("a GPT-2-sized module has 2,360,064 parameters", () => {
      const g = new MultiHeadAttention(768, 768, 1024, 0.0, 12, { generator: new Generator(0) });
      assert.strictEqual(countParameters(g), ref["ex33.params"].data[0]);
      assert.strictEqual(countParameters(g), 2360064);
      g.dispose();
    });

    it("finite-difference gradient check of the efficient module", async () => {
      await setup({ backend: "cpu", verbose: false }); // same float32 maths, every kernel available
      try {
        const gen = new Generator(11);
        const m = new MultiHeadAttention(3, 4, 6, 0.0, 2, { qkvBias: true, generator: gen });
        const x = tf.tensor(
          Array.from({ length: 2 * 5 * 3 }, (_, i) => Math.sin(i + 1)),
          [2, 5, 3],
        );
        const r = tf.tensor(
          Array.from({ length: 2 * 5 * 4 }, (_, i) => Math.cos(3 * i)),
          [2, 5, 4],
        );
        const loss = () => tf.sum(tf.mul(m.forward(x), r)) as tf.Scalar;
        const checked = checkGradients(loss, m.parameters(), "MultiHeadAttention", 2e-3);
        assert.strictEqual(checked, 8 * 3);
        tf.dispose([x, r]);
        m.dispose();
      } finally {
        await setup({ backend: "wasm", verbose: false });
        inputs = exampleInputs();
        batch = tf.stack([inputs, inputs]) as tf.Tensor3D;
      }
    });

    it("MultiHeadAttention draws out_proj (with bias) from the generator it is given, after W_query, W_key, W_value", () => {
      const m = new MultiHeadAttention(3, 2, 6, 0, 2, { generator: new Generator(5) });
      const g = new Generator(5);
      const expected = [
        new Linear(3, 2, { bias: false, generator: g }),
        new Linear(3, 2, { bias: false, generator: g }),
        new Linear(3, 2, { bias: false, generator: g }),
        new Linear(2, 2, { generator: g }),
      ];
      assertClose(data(m.out_proj.weight), data(expected[3].weight), 0);
      assertClose(data(m.out_proj.bias!), data(expected[3].bias!), 0);
      m.dispose();
      expected.forEach((l) => l.dispose());
    });

    it("multiHeadFromWrapper keeps the wrapper's qkv biases", () => {
      const w = new MultiHeadAttentionWrapper(3, 2, 6, 0, 2, { qkvBias: true, generator: new Generator(9) });
      const m = multiHeadFromWrapper(w);
      assert.ok(m.W_query.bias && m.W_key.bias && m.W_value.bias, "biases kept");
      const x = exampleInputs();
      const [a, b] = [w.forward(x), m.forward(x)];
      assertClose(data(a), data(b), 1e-6);
      tf.dispose([x, a, b]);
      w.dispose();
      m.dispose();
    });

    it("multiHeadFromWrapper without qkv biases makes none", () => {
      const w = new MultiHeadAttentionWrapper(3, 2, 6, 0, 2);
      const m = multiHeadFromWrapper(w);
      assert.deepStrictEqual([m.W_query.bias, m.W_key.bias, m.W_value.bias], [null, null, null]);
      w.dispose();
      m.dispose();
    });

    it("the wrapper passes eval() and train() on to its heads (dropout 0.5)", () => {
      manualSeed(123);
      const w = new MultiHeadAttentionWrapper(3, 2, 6, 0.5, 2);
      const x = exampleInputs();
      const a = w.eval().forward(x);
      const b = w.forward(x);
      assertClose(data(a), data(b), 0, "evaluation is deterministic");
      assert.ok(
        w.heads.every((h) => !h.training),
        "every head in evaluation mode",
      );
      const c = w.train().forward(x);
      assert.ok(
        w.heads.every((h) => h.training),
        "every head back in training mode",
      );
      assert.ok(
        data(c).some((v, i) => Math.abs(v - data(a)[i]) > 1e-6),
        "training mode drops weights",
      );
      tf.dispose([a, b, c, x]);
      w.dispose();
    });
  });

  describe("clear errors", () => {
    it("options that are not an object, a wrapper that is not one, a cached memory of another length", () => {
      const cases: [() => unknown, RegExp][] = [
        [
          () => new MultiHeadAttention(4, 4, 8, 0, 2, null as never),
          /^MultiHeadAttention: options must be an object like \{ causal: false, kvHeads: 1 \}, got null$/,
        ],
        [() => new MultiHeadAttention(4, 4, 8, 0, 2, 3 as never), /^MultiHeadAttention: options must be an object like .*, got 3$/],
        [() => new CausalAttention(3, 2, 6, 0, 3 as never), /^CausalAttention: options must be an object like \{ qkvBias: true \}, got 3$/],
        [
          () => new MultiHeadAttentionWrapper(3, 2, 6, 0, 2, "causal" as never),
          /^MultiHeadAttentionWrapper: options must be an object like .*, got the string "causal"$/,
        ],
        [
          () => multiHeadFromWrapper(3 as never),
          /^multiHeadFromWrapper: expected a MultiHeadAttentionWrapper \(notebook 06's stacked heads\), got 3$/,
        ],
      ];
      for (const [call, pattern] of cases) refuses(call, pattern);
      const mha = new MultiHeadAttention(4, 4, 8, 0, 2, { causal: false });
      refuses(() => multiHeadFromWrapper(mha as never), /^multiHeadFromWrapper: expected a MultiHeadAttentionWrapper .*, got a MultiHeadAttention$/);
      const [q, memory, longer] = [tf.ones([2, 3, 4]), tf.ones([2, 5, 4]), tf.ones([2, 7, 4])];
      mha.forward(q, { memory, useCache: true }).dispose();
      refuses(
        () => mha.forward(q, { memory: longer, useCache: true }),
        /^MultiHeadAttention: the cache holds the keys of a memory of 5 tokens, but this memory has 7; call resetCache\(\) before a new memory \(a new sentence\)$/,
      );
      mha.resetCache();
      const out = mha.forward(q, { memory: longer, useCache: true }); // after resetCache, the new memory is taken
      assert.deepStrictEqual(out.shape, [2, 3, 4]);
      mha.resetCache();
      tf.dispose([q, memory, longer, out]);
      mha.dispose();
    });
    it("d_out not divisible by the number of heads", () => {
      assertThrowsMessage(() => new MultiHeadAttention(3, 5, 6, 0, 2), /MultiHeadAttention: d_out = 5 is not divisible by num_heads = 2/);
      assertThrowsMessage(() => headDimOf(4, 0), /num_heads must be a positive integer, got 0/);
    });
    it("tokens beyond the context length, d_in mismatch, wrong rank", () => {
      manualSeed(123);
      const m = new MultiHeadAttention(3, 2, 4, 0, 2);
      assertThrowsMessage(() => m.forward(batch), /MultiHeadAttention: inputs have 6 tokens \(shape \[2, 6, 3\]\), more than the context length 4/);
      const wide = tf.ones([2, 3, 5]);
      assertThrowsMessage(() => m.forward(wide), /inputs has d_in = 5 \(shape \[2, 3, 5\]\), but the weights expect d_in = 3/);
      const r4 = tf.ones([1, 2, 3, 3]);
      assertThrowsMessage(
        () => m.forward(r4),
        /inputs must have rank 2 or 3 \(\[tokens, d_in\] or \[batch, tokens, d_in\]\), got shape \[1, 2, 3, 3\]/,
      );
      assertThrowsMessage(() => new CausalAttention(3, 2, 6, 1.5), /CausalAttention: dropout must be in \[0, 1\), got 1.5/);
      tf.dispose([wide, r4]);
      m.dispose();
    });

    it("empty tensors: splitHeads and mergeHeads of an empty batch, softmax of [0, 3]", () => {
      withTensors(
        () => [tf.zeros([0, 6, 4])],
        (x) =>
          refuses(() => splitHeads(x, 2), /^splitHeads: x is empty \(shape \[0, 6, 4\]\); expected at least one sequence of at least one token$/),
      );
      withTensors(
        () => [tf.zeros([2, 0, 4])],
        (x) => refuses(() => splitHeads(x, 2), /^splitHeads: x is empty/),
      );
      withTensors(
        () => [tf.zeros([0, 2, 6, 2])],
        (x) => refuses(() => mergeHeads(x), /^mergeHeads: x is empty/),
      );
      for (const f of [softmax, softmaxNaive, normalizeBySum]) {
        withTensors(
          () => [tf.zeros([0, 3])],
          (x) => refuses(() => f(x), new RegExp(`^${f.name}: scores are empty \\(shape \\[0, 3\\]\\); expected at least one row of scores$`)),
        );
      }
    });

    it("the causal modules' sizes, dropout and heads", () => {
      assertThrowsMessage(() => new CausalAttention(0, 2, 6), /^CausalAttention: d_in must be a positive integer, got 0$/);
      assertThrowsMessage(() => new CausalAttention(3, 0, 6), /^CausalAttention: d_out must be a positive integer, got 0$/);
      assertThrowsMessage(() => new CausalAttention(3, 2, 0), /^CausalAttention: context_length must be a positive integer, got 0$/);
      assertThrowsMessage(() => new CausalAttention(3, 2, 6, 1), /^CausalAttention: dropout must be in \[0, 1\), got 1$/);
      assertThrowsMessage(() => new CausalAttention(3, 2, 6, -0.1), /^CausalAttention: dropout must be in \[0, 1\), got -0.1$/);
      assertThrowsMessage(
        () => new MultiHeadAttentionWrapper(3, 2, 6, 0, 0),
        /^MultiHeadAttentionWrapper: num_heads must be a positive integer, got 0$/,
      );
      const w = new MultiHeadAttentionWrapper(3, 2, 6, 0, 2);
      const x = tf.ones([4, 5]);
      assertThrowsMessage(() => w.forward(x), /^MultiHeadAttentionWrapper: inputs has d_in = 5/);
      tf.dispose(x);
      w.dispose();
    });

    it("heads: sizes, ranks, divisibility", () => {
      assertThrowsMessage(() => headDimOf(4, 0), /^headDimOf: num_heads must be a positive integer, got 0$/);
      assertThrowsMessage(() => headDimOf(0, 2), /^headDimOf: d_out must be a positive integer, got 0$/);
      const x2 = tf.ones([4, 4]);
      const x3 = tf.ones([1, 2, 4]);
      assertThrowsMessage(() => splitHeads(x2, 2), /^splitHeads: x must be \[batch, tokens, d_out\], got shape \[4, 4\]$/);
      assertThrowsMessage(() => splitHeads(x3, 3), /^splitHeads: d_out = 4 is not divisible by num_heads = 3/);
      assertThrowsMessage(() => mergeHeads(x3), /^mergeHeads: x must be \[batch, heads, tokens, head_dim\], got shape \[1, 2, 4\]$/);
      assertThrowsMessage(() => mergeHeads(undefined as never), /^mergeHeads: x must be a tf.Tensor, got undefined$/);
      tf.dispose([x2, x3]);
    });
  });

  describe("figures of heads", () => {
    it("headHeatmaps: one heatmap per head on its own axes, one colour scale", () => {
      const w = tf.tensor(
        Array.from({ length: 2 * 36 }, (_, i) => (i % 7) / 7),
        [2, 6, 6],
      );
      const fig = noLeak(() => headHeatmaps(w, TOKENS));
      assert.strictEqual(fig.data.length, 2);
      assert.deepStrictEqual(
        fig.data.map((d) => [d.xaxis, d.yaxis, d.showscale]),
        [
          ["x", "y", false],
          ["x2", "y2", true],
        ],
      );
      assert.deepStrictEqual((fig.layout as any).xaxis2.ticktext, TOKENS);
      assertThrowsMessage(() => headHeatmaps(w, TOKENS.slice(1)), /5 token labels for 6 tokens/);
      const w3 = tf.ones([2, 2, 6, 6]);
      assertThrowsMessage(
        () => headView(w3, TOKENS),
        /weights must be \[heads, tokens, tokens\], got shape \[2, 2, 6, 6\] \(take one batch item first/,
      );
      tf.dispose([w, w3]);
    });

    it("headView: lines grouped per head in the legend, opacity from the weight", () => {
      const w = [
        [
          [1, 0],
          [0.25, 0.75],
        ],
        [
          [1, 0],
          [0.5, 0.5],
        ],
      ];
      const fig = headView(w, ["a", "b"]);
      const legend = fig.data.filter((d) => d.showlegend);
      assert.deepStrictEqual(
        legend.map((d) => d.name),
        ["head 0", "head 1"],
      );
      const lines = fig.data.filter((d) => d.mode === "lines" && d.legendgroup === "head 0");
      const opacities = lines.map((d) => d.opacity as number).sort();
      assert.deepStrictEqual(opacities, [0.25, 0.75, 0.95]); // weights 0.25, 0.75 and 1 fall in bins 2, 7 and 9
    });
  });

  describe("explain() leaks nothing, with or without a batch axis", () => {
    const modules: [string, () => CausalAttention | MultiHeadAttentionWrapper | MultiHeadAttention][] = [
      ["CausalAttention", () => new CausalAttention(3, 2, 6)],
      ["MultiHeadAttentionWrapper", () => new MultiHeadAttentionWrapper(3, 2, 6, 0, 2)],
      ["MultiHeadAttention", () => new MultiHeadAttention(3, 2, 6, 0, 2)],
    ];
    for (const [name, make] of modules) {
      it(name, () => {
        const m = make();
        for (const x of [exampleInputs(), tf.stack([exampleInputs(), exampleInputs()])]) {
          noLeak(() => tf.dispose(m.explain(x)));
          noLeak(() => tf.dispose(m.forward(x)));
          x.dispose();
        }
        m.dispose();
      });
    }
  });
});

describe("causal masking refuses empty matrices and rows it cannot renormalize", () => {
  before(() => lib.setup({ backend: "wasm", verbose: false }));

  it("maskFuture, causalSoftmax and maskAndRenormalize refuse an axis of size 0 (a batch of 0 once trapped wasm)", () => {
    for (const shape of [
      [0, 3, 3],
      [0, 0],
      [2, 0, 0],
    ]) {
      const x = tf.zeros(shape);
      for (const [name, f] of [
        ["maskFuture", lib.maskFuture],
        ["causalSoftmax", lib.causalSoftmax],
        ["maskAndRenormalize", lib.maskAndRenormalize],
      ] as const) {
        refuses(() => f(x), new RegExp(`^${name}: scores has an axis of size 0 \\(shape \\[${shape.join(", ")}\\], \\[\\.\\.\\., T, T\\]\\)`));
      }
      x.dispose();
    }
  });

  it("maskAndRenormalize refuses a row with no weight left (0 / 0) and negative weights, instead of NaN or Infinity", () => {
    withTensors(
      () => [
        tf.tensor2d([
          [0.5, 0.5],
          [0, 1],
        ]),
        tf.tensor3d([
          [
            [1, 0],
            [0.5, 0.5],
          ],
          [
            [1, 0],
            [0, 0],
          ],
        ]),
        tf.tensor2d([
          [-1, 1],
          [1, -1],
        ]),
      ],
      (ok, hidden, negative) => {
        refuses(
          () => lib.maskAndRenormalize(hidden),
          /^maskAndRenormalize: row 1 of weights \(matrix 1\) is 0 on and before the diagonal, so nothing is left to renormalize/,
        );
        refuses(() => lib.maskAndRenormalize(negative), /^maskAndRenormalize: weights holds -1; expected weights >= 0/);
        // A row whose only visible weight is 0 on the diagonal but > 0 before it still renormalizes.
        const w = lib.maskAndRenormalize(ok);
        assert.deepStrictEqual(data(w), [1, 0, 0, 1]);
        w.dispose();
      },
    );
  });
});
