// Notebook 07's implementations compute what MultiHeadAttention computes: outputs and gradients, masked
// (causal) with any block size, and the memory-efficient one never holds a T x T matrix.
import * as assert from "assert";
import * as tf from "@tensorflow/tfjs";
import { setup, MultiHeadAttention, FusedMultiHeadAttention, MemoryEfficientAttention, onlineSoftmaxSteps, softmax, Generator } from "attention-lib";
import { assertThrowsMessage, noLeak } from "../helpers";

const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

/** A MultiHeadAttention and the two efficient modules holding its weights. */
function trio(dIn: number, dOut: number, heads: number, context: number, blockSize = 4, qkvBias = false, causal = true) {
  const gen = new Generator(11);
  const mha = new MultiHeadAttention(dIn, dOut, context, 0, heads, { generator: gen, qkvBias, causal });
  const fused = new FusedMultiHeadAttention(dIn, dOut, context, 0, heads, { generator: gen, qkvBias, causal }).copyWeightsFrom(mha);
  const memEff = new MemoryEfficientAttention(dIn, dOut, context, 0, heads, { generator: gen, qkvBias, blockSize, causal }).copyWeightsFrom(mha);
  return { mha, fused, memEff, dispose: () => [mha, fused, memEff].forEach((m) => m.dispose()) };
}

describe("efficient attention (notebook 07) equals MultiHeadAttention", function () {
  this.timeout(60000);
  before(() => setup({ backend: "wasm", verbose: false }));

  for (const [T, block, bias, causal] of [
    [13, 4, false, true],
    [16, 16, true, true],
    [1, 4, false, true],
    [20, 7, false, true],
    [9, 32, true, true],
    [13, 4, false, false],
    [20, 7, true, false],
  ] as const) {
    it(`outputs within 1e-5: T = ${T}, block ${block}${bias ? ", qkv bias" : ""}, ${causal ? "causal" : "unmasked"}`, () => {
      const { mha, fused, memEff, dispose } = trio(8, 12, 3, 24, block, bias, causal);
      const x = tf.randomNormal([2, T, 8], 0, 1, "float32", T);
      const ref = mha.forward(x);
      for (const m of [fused, memEff]) {
        m.forward(x).dispose(); // the first call builds the masks, which the module keeps
        const out = noLeak(() => m.forward(x), 1);
        assert.deepStrictEqual(out.shape, [2, T, 12]);
        const d = maxDiff(out, ref);
        assert.ok(d < 1e-5, `${m.constructor.name}: max difference ${d}`);
        out.dispose();
      }
      tf.dispose([x, ref]);
      dispose();
    });
  }

  for (const causal of [true, false])
    it(`gradients with respect to inputs and weights within 1e-5 (${causal ? "causal" : "unmasked"})`, () => {
      const { mha, fused, memEff, dispose } = trio(6, 8, 2, 16, 5, false, causal);
      const x = tf.randomNormal([2, 11, 6], 0, 1, "float32", 4);
      const r = tf.randomNormal([2, 11, 8], 0, 1, "float32", 5);
      const grads = (m: MultiHeadAttention | FusedMultiHeadAttention | MemoryEfficientAttention) => {
        const g = tf.grads((xx: tf.Tensor) => tf.sum(tf.mul(m.forward(xx), r)))([x])[0];
        const w = tf.variableGrads(() => tf.sum(tf.mul(m.forward(x), r)) as tf.Scalar, m.parameters()).grads;
        return { g, w };
      };
      const ref = grads(mha);
      const refQkv = tf.concat([ref.w[mha.W_query.weight.name], ref.w[mha.W_key.weight.name], ref.w[mha.W_value.weight.name]], 0);
      for (const m of [fused, memEff]) {
        const got = grads(m);
        assert.ok(maxDiff(got.g, ref.g) < 1e-5, `${m.constructor.name}: input gradient differs by ${maxDiff(got.g, ref.g)}`);
        assert.ok(maxDiff(got.w[m.W_qkv.weight.name], refQkv) < 1e-5, `${m.constructor.name}: W_qkv gradient`);
        assert.ok(maxDiff(got.w[m.out_proj.weight.name], ref.w[mha.out_proj.weight.name]) < 1e-5, `${m.constructor.name}: out_proj gradient`);
        tf.dispose([got.g, got.w]);
      }
      tf.dispose([x, r, ref.g, ref.w, refQkv]);
      dispose();
    });

  it("the memory-efficient module is causal: changing a later token changes no earlier output", () => {
    const { memEff, dispose } = trio(4, 4, 2, 16, 3);
    const x = tf.randomNormal([1, 10, 4], 0, 1, "float32", 8);
    const changed = tf.concat([x.slice([0, 0, 0], [1, 7, 4]), tf.fill([1, 3, 4], 5)], 1);
    const [a, b] = [memEff.forward(x), memEff.forward(changed)];
    assert.strictEqual(maxDiff(a.slice([0, 0, 0], [1, 7, 4]), b.slice([0, 0, 0], [1, 7, 4])), 0);
    assert.ok(maxDiff(a, b) > 0.01, "the later outputs do change");
    // Unmasked (causal: false), every token sees the later ones: the earlier outputs change too.
    const open = trio(4, 4, 2, 16, 3, false, false);
    const [c, d] = [open.memEff.forward(x), open.memEff.forward(changed)];
    assert.ok(maxDiff(c.slice([0, 0, 0], [1, 7, 4]), d.slice([0, 0, 0], [1, 7, 4])) > 1e-3, "unmasked attention looks ahead");
    tf.dispose([x, changed, a, b, c, d]);
    dispose();
    open.dispose();
  });

  it("the memory-efficient module's peak memory grows linearly in T, the fused one's quadratically", () => {
    const peak = async (m: FusedMultiHeadAttention | MemoryEfficientAttention, T: number) => {
      const x = tf.randomNormal([1, T, 16], 0, 1, "float32", 1);
      m.forward(x).dispose(); // masks are built on the first call
      const before = tf.memory().numBytes;
      const p = await tf.profile(() => m.forward(x));
      tf.dispose(p.result as tf.Tensor);
      x.dispose();
      return p.peakBytes - before; // what the call itself needed at its peak
    };
    return (async () => {
      const gen = new Generator(2);
      const me = new MemoryEfficientAttention(16, 16, 1024, 0, 1, { generator: gen, blockSize: 64 });
      const fu = new FusedMultiHeadAttention(16, 16, 1024, 0, 1, { generator: gen });
      const [me256, me1024, fu256, fu1024] = [await peak(me, 256), await peak(me, 1024), await peak(fu, 256), await peak(fu, 1024)];
      // 4x the tokens: the memory-efficient module's peak grows about 4x (linear), the fused one's about 16x.
      assert.ok(me1024 / me256 < 6, `memory-efficient: ${me256} -> ${me1024} bytes`);
      assert.ok(fu1024 / fu256 > 10, `fused: ${fu256} -> ${fu1024} bytes`);
      assert.ok(me1024 * 8 < fu1024, `at T = 1024: memory-efficient ${me1024} bytes, fused ${fu1024}`);
      // and it never holds a T x T matrix of float32 scores
      assert.ok(me1024 < 1024 * 1024 * 4, `memory-efficient peak ${me1024} bytes < one 1024 x 1024 matrix`);
      me.dispose();
      fu.dispose();
    })();
  });

  it("online softmax: block by block, ending equal to the softmax of the whole row", () => {
    const row = [2, -1, 3.5, 0, 7, 1, -2];
    const steps = onlineSoftmaxSteps(row, 3);
    assert.deepStrictEqual(
      steps.map((s) => [s.seen, s.max]),
      [
        [3, 3.5],
        [6, 7],
        [7, 7],
      ],
    );
    const t = tf.tensor1d(row);
    const w = softmax(t);
    const last = steps[steps.length - 1].weights;
    Array.from(w.dataSync()).forEach((v, i) => assert.ok(Math.abs(v - last[i]) < 1e-6, `weight ${i}`));
    assert.ok(Math.abs(steps[0].sum - [2, -1, 3.5].reduce((a, s) => a + Math.exp(s - 3.5), 0)) < 1e-12);
    tf.dispose([t, w]);
    assertThrowsMessage(() => onlineSoftmaxSteps([], 2), /onlineSoftmaxSteps: scores must be a non-empty array of finite numbers/);
  });

  it("bad settings and disposed modules get clear errors; dispose frees the masks too", () => {
    assertThrowsMessage(
      () => new MemoryEfficientAttention(4, 4, 8, 0.1, 2),
      /MemoryEfficientAttention: dropout on the attention weights needs the whole weight matrix/,
    );
    assertThrowsMessage(
      () => new MemoryEfficientAttention(4, 4, 8, 0, 2, { blockSize: 0 }),
      /MemoryEfficientAttention: blockSize must be a positive integer, got 0/,
    );
    assertThrowsMessage(() => new FusedMultiHeadAttention(4, 6, 8, 0, 4), /FusedMultiHeadAttention: d_out = 6 is not divisible by num_heads = 4/);
    const before = tf.memory().numTensors;
    const f = new FusedMultiHeadAttention(4, 4, 8, 0, 2);
    const x = tf.ones([8, 4]);
    f.forward(x).dispose();
    f.dispose();
    x.dispose();
    assert.strictEqual(tf.memory().numTensors, before, "weights and mask freed");
    const y = tf.ones([2, 4]);
    assertThrowsMessage(() => f.forward(y), /FusedMultiHeadAttention: this module was disposed/);
    y.dispose();
  });
});

describe("efficient attention: checks, options and state", function () {
  this.timeout(30000);
  before(() => setup({ backend: "wasm", verbose: false }));

  it("construction and copyWeightsFrom say what does not fit", () => {
    assertThrowsMessage(() => new FusedMultiHeadAttention(0, 4, 8, 0, 2), /^FusedMultiHeadAttention: d_in must be a positive integer, got 0$/);
    assertThrowsMessage(
      () => new FusedMultiHeadAttention(4, 4, 0, 0, 2),
      /^FusedMultiHeadAttention: context_length must be a positive integer, got 0$/,
    );
    for (const p of [1, -0.5])
      assertThrowsMessage(
        () => new FusedMultiHeadAttention(4, 4, 8, p, 2),
        new RegExp(`^FusedMultiHeadAttention: dropout must be in \\[0, 1\\), got ${p}$`),
      );
    const f = new FusedMultiHeadAttention(4, 4, 8, 0, 2);
    assert.strictEqual(f.W_qkv.bias, null, "no qkv bias by default");
    assert.ok(f.out_proj.bias, "out_proj has a bias");
    assert.strictEqual(f.causal, true, "causal by default");
    const cases: [MultiHeadAttention, RegExp][] = [
      [
        new MultiHeadAttention(3, 4, 8, 0, 2),
        /^FusedMultiHeadAttention.copyWeightsFrom: the modules differ in size \(d_in 3 vs 4, d_out 4 vs 4, num_heads 2 vs 2\)$/,
      ],
      [new MultiHeadAttention(4, 8, 8, 0, 2), /differ in size \(d_in 4 vs 4, d_out 8 vs 4/],
      [new MultiHeadAttention(4, 4, 8, 0, 4), /differ in size .* num_heads 4 vs 2\)$/],
      [
        new MultiHeadAttention(4, 4, 8, 0, 2, { qkvBias: true }),
        /^FusedMultiHeadAttention.copyWeightsFrom: one module has qkv biases and the other has not$/,
      ],
      [
        new MultiHeadAttention(4, 4, 8, 0, 2, { causal: false }),
        /^FusedMultiHeadAttention.copyWeightsFrom: one module is causal and the other is not$/,
      ],
    ];
    for (const [m, pattern] of cases) {
      assertThrowsMessage(() => f.copyWeightsFrom(m), pattern);
      m.dispose();
    }
    const x = tf.ones([9, 4]);
    assertThrowsMessage(() => f.forward(x), /^FusedMultiHeadAttention: inputs have 9 tokens \(shape \[9, 4\]\), more than the context length 8; /);
    x.dispose();
    f.dispose();
  });

  it("[T, d_in] inputs give [T, d_out]; shorter than the context, and in evaluation with dropout, equal to MultiHeadAttention", () => {
    const gen = new Generator(4);
    const mha = new MultiHeadAttention(4, 4, 8, 0.5, 2, { generator: gen }).eval();
    const f = new FusedMultiHeadAttention(4, 4, 8, 0.5, 2, { generator: gen }).copyWeightsFrom(mha);
    assert.strictEqual(f.training, false, "the training flag is copied");
    const x = tf.randomNormal([5, 4], 0, 1, "float32", 2);
    const [a, b] = [mha.forward(x), f.forward(x)];
    assert.deepStrictEqual(b.shape, [5, 4]);
    assert.ok(maxDiff(a, b) < 1e-5, "equal in evaluation (no dropout), on 5 of 8 tokens");
    const full = tf.randomNormal([1, 8, 4], 0, 1, "float32", 3);
    const [c, d] = [mha.forward(full), f.forward(full)];
    assert.ok(maxDiff(c, d) < 1e-5, "and on all 8");
    tf.dispose([x, a, b, full, c, d]);
    mha.dispose();
    f.dispose();
  });

  it("dispose frees the memory-efficient module's tile masks; tiles of each offset are built once", () => {
    const before = tf.memory().numTensors;
    const m = new MemoryEfficientAttention(4, 4, 16, 0, 2, { blockSize: 3 });
    const x = tf.randomNormal([1, 10, 4], 0, 1, "float32", 1);
    m.forward(x).dispose();
    const kept = tf.memory().numTensors;
    m.forward(x).dispose();
    assert.strictEqual(tf.memory().numTensors, kept, "the second call builds no new masks");
    x.dispose();
    m.dispose();
    assert.strictEqual(tf.memory().numTensors, before);
  });

  it("onlineSoftmaxSteps refuses what it cannot use, and reports every block", () => {
    assertThrowsMessage(() => onlineSoftmaxSteps([1, 2], 0), /^onlineSoftmaxSteps: blockSize must be a positive integer, got 0$/);
    assertThrowsMessage(() => onlineSoftmaxSteps([1, NaN], 1), /^onlineSoftmaxSteps: scores must be a non-empty array of finite numbers$/);
    const steps = onlineSoftmaxSteps([0, 0, 0, 0], 2);
    assert.deepStrictEqual(
      steps.map((s) => [s.seen, s.weights.length]),
      [
        [2, 2],
        [4, 4],
      ],
    );
    assert.deepStrictEqual(steps[1].weights, [0.25, 0.25, 0.25, 0.25]);
  });
});
