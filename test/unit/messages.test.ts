// Every argument check of the attention building blocks says which function, which argument and what was
// expected; and the small behaviours the broader tests pass over (found by mutation testing, npm run mutation).
import * as assert from "assert";
import * as tf from "@tensorflow/tfjs";
import {
  setup,
  lowerTriangle,
  causalMask,
  maskAndRenormalize,
  maskFuture,
  CausalAttention,
  MultiHeadAttentionWrapper,
  MultiHeadAttention,
  multiHeadFromWrapper,
  dropout,
  headDimOf,
  splitHeads,
  mergeHeads,
  scalingExperiment,
  attentionScores,
  contextVectors,
  softmax,
  corpusBleu,
  checkWeightCopy,
  checkTwoDimensionalWrapper,
  SelfAttentionV1,
  SelfAttentionV2,
  Linear,
  Generator,
  exampleInputs,
  manualSeed,
} from "attention-lib";
import { assertClose, assertThrowsMessage, noLeak } from "../helpers";

const data = (t: tf.Tensor) => Array.from(t.dataSync());

describe("argument checks name the function, the argument and what was expected", () => {
  before(() => setup({ backend: "wasm", verbose: false }));

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
      assertThrowsMessage(() => attentionScores(a2, a2, s), new RegExp(`^attentionScores: scale must be a finite number greater than 0, got ${s}$`));
    const s2 = attentionScores(a2, a2, 2);
    assert.deepStrictEqual(data(s2), [1.5, 1.5, 1.5, 1.5], "divided by the scale");
    assertThrowsMessage(() => contextVectors(a3, b3), /^contextVectors: weights \[1, 2, 3\] and values \[2, 2, 3\] must agree/);
    tf.dispose([a2, a3, b3, v1, s2]);
  });

  it("softmax needs keys", () => {
    const scalar = tf.scalar(1);
    const empty = tf.zeros([2, 0]);
    assertThrowsMessage(() => softmax(scalar), /^softmax: scores must have at least one axis \(the keys\), got a scalar$/);
    assertThrowsMessage(() => softmax(empty), /^softmax: scores have no keys along the last axis \(shape \[2, 0\]\)$/);
    tf.dispose([scalar, empty]);
  });

  it("corpusBleu needs one candidate per reference", () => {
    assertThrowsMessage(() => corpusBleu([["a"]], []), /^corpusBleu: 1 candidates for 0 references; expected one candidate per reference$/);
  });
});

describe("the exercises' checks say what is wrong without giving the answer", () => {
  const inputs = () => exampleInputs();

  it("checkWeightCopy: disposed, wrong shape, another matrix, transposed, right", () => {
    manualSeed(123);
    const v1 = new SelfAttentionV1(3, 2);
    const v2 = new SelfAttentionV2(3, 2);
    const x = inputs();
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

  it("checkTwoDimensionalWrapper: the number of heads", () => {
    const w = new MultiHeadAttentionWrapper(3, 1, 6, 0, 3);
    const x = tf.stack([inputs(), inputs()]);
    assert.match(
      checkTwoDimensionalWrapper(w, x),
      /^✗ Not yet:\n {2}- the wrapper has 3 head\(s\); the exercise asks for 2\n {2}- its context vectors have 3 dimensions/,
    );
    tf.dispose(x);
    w.dispose();
  });
});

describe("more of what mutation testing found untested", () => {
  before(() => setup({ backend: "wasm", verbose: false }));

  it("dropout refuses a bad p also in evaluation, where it draws nothing", () => {
    const x = tf.ones([2, 2]);
    assertThrowsMessage(() => dropout(x, 1.5, { training: false }), /^dropout: the drop probability p must be in \[0, 1\), got 1.5$/);
    assertThrowsMessage(() => dropout(x, -1, { training: false }), /^dropout: the drop probability p must be in \[0, 1\), got -1$/);
    assertThrowsMessage(() => dropout(x, 1, { training: false }), /^dropout: the drop probability p must be in \[0, 1\), got 1$/);
    x.dispose();
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

  it("multiHeadFromWrapper without qkv biases makes none", () => {
    const w = new MultiHeadAttentionWrapper(3, 2, 6, 0, 2);
    const m = multiHeadFromWrapper(w);
    assert.deepStrictEqual([m.W_query.bias, m.W_key.bias, m.W_value.bias], [null, null, null]);
    w.dispose();
    m.dispose();
  });
});
