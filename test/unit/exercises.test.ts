// The exercise checks: a right answer gets "✓", an unanswered placeholder "not answered yet", and each typical
// wrong answer a "✗" that says what is wrong without printing the answer. No check leaks a tensor.
import * as assert from "assert";
import * as tf from "@tensorflow/tfjs";
import {
  MultiHeadAttentionWrapper,
  SelfAttentionV1,
  SelfAttentionV2,
  checkAttentionContext,
  checkBottleneckSize,
  checkCausalMask,
  checkContextVector,
  checkDotProductWeights,
  checkGpt2AttentionParameters,
  checkRenormalized,
  checkScaledAttentionFunction,
  checkSelfAttentionFunction,
  checkSplitHeads,
  checkTwoDimensionalWrapper,
  checkUnigramPrecision,
  checkWeightCopy,
  exampleInputs,
  manualSeed,
  maskAndRenormalize,
  setup,
  simpleSelfAttention,
  softmax,
  splitHeads,
} from "attention-lib";

const NOT_ANSWERED = /^not answered yet/;

/** Run a check, assert it leaks nothing and says what `pattern` expects; the answer's numbers never appear. */
function says(check: () => string, pattern: RegExp, mustNotContain: string[] = []): string {
  const before = tf.memory().numTensors;
  const message = check();
  assert.strictEqual(tf.memory().numTensors, before, `the check leaked tensors: ${message}`);
  assert.match(message, pattern);
  for (const s of mustNotContain) assert.ok(!message.includes(s), `the message gives the answer away (${s}): ${message}`);
  return message;
}

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
      () => checkContextVector(null, inputs, 4),
      () => checkSelfAttentionFunction(undefined, inputs),
      () => checkSelfAttentionFunction(() => null, inputs),
      () => checkScaledAttentionFunction(null),
      () => checkScaledAttentionFunction(() => undefined),
      () => checkCausalMask(null, 6),
      () => checkRenormalized(undefined, w),
      () => checkSplitHeads(null, w3, 2),
      () => checkGpt2AttentionParameters(null),
      () => checkBottleneckSize(undefined, 40, 128),
      () => checkUnigramPrecision(null),
      () => checkUnigramPrecision(() => undefined),
      () => checkDotProductWeights(null, row, w),
      () => checkAttentionContext(null, row, w),
      () => checkWeightCopy(null as never, null as never, inputs),
      () => checkTwoDimensionalWrapper(null as never, inputs),
    ];
    for (const c of checks) says(c, NOT_ANSWERED);
    tf.dispose([w, w3, row]);
  });

  it("the shared comparison: transposed shapes, which entries differ and where, no hint for an unrelated answer", () => {
    const attn = simpleSelfAttention(inputs);
    // [6, 3] expected: a [3, 6] answer is flagged as transposed; a [3, 3] one is not.
    says(
      () => checkSelfAttentionFunction((x: tf.Tensor) => simpleSelfAttention(x).context.transpose(), inputs),
      /has shape \[3, 6\]; expected \[6, 3\] \[T, d\] \(yours looks transposed\)$/,
    );
    says(() => checkSelfAttentionFunction((_x: tf.Tensor) => tf.zeros([3, 3]), inputs), /has shape \[3, 3\]; expected \[6, 3\] \[T, d\]$/);
    // Two wrong entries of a [6, 6] answer: counted, and the first one located as [row, column].
    const w = tf.linalg.bandPart(tf.ones([6, 6]), -1, 0);
    const twoWrong = tf.add(
      w,
      tf.scatterND(
        [
          [1, 2],
          [4, 5],
        ],
        [1, 1],
        [6, 6],
      ),
    );
    says(
      () => checkCausalMask(twoWrong, 6),
      /^✗ Not yet: 2 of 36 entries of your mask differ from what they should be, the first at index \[1, 2\]$/,
    );
    // The right shape for the "forgot the transpose" pitfall, but other numbers: no hint about swapping axes.
    const x = tf.tensor3d(
      Array.from({ length: 2 * 6 * 4 }, (_, i) => i),
      [2, 6, 4],
    );
    const other = tf.zeros([2, 6, 2, 2]);
    const m = says(() => checkSplitHeads(other, x, 2), /shape \[2, 6, 2, 2\]; expected \[2, 2, 6, 2\]/);
    assert.ok(!m.includes("swap"), m);
    // Off-by-one hints at both ends: token 0 has no token before it, the last no token after it.
    const [row1, row4] = [attn.context.gather(1), attn.context.gather(4)];
    says(() => checkContextVector(row1, inputs, 0), /token 1: the course counts tokens from 0/);
    says(() => checkContextVector(row4, inputs, 5), /token 4: the course counts tokens from 0/);
    // A number: too large or too small when it matches no pitfall.
    says(() => checkGpt2AttentionParameters(3e6), /too large/);
    tf.dispose([attn, w, twoWrong, x, other, row1, row4]);
  });

  describe("03: context vectors", () => {
    it("checkContextVector: right, raw scores, divided by sum, weights, the query itself, 1-based index, wrong shape", () => {
      const attn = simpleSelfAttention(inputs);
      const right = attn.context.gather(4);
      says(() => checkContextVector(right, inputs, 4), /^✓/);
      says(() => checkContextVector(Array.from(right.dataSync()), inputs, 4), /^✓/); // a plain array is fine too
      const scores = tf.dot(inputs, inputs.gather(4));
      const ctx = (w: tf.Tensor) => tf.matMul(w.expandDims(0), inputs).squeeze();
      const cases: [tf.Tensor, RegExp][] = [
        [ctx(scores), /^✗ Not yet: you summed the inputs weighted by the raw scores/],
        [ctx(tf.div(scores, scores.sum())), /divided the scores by their sum; attention uses the softmax/],
        [softmax(scores), /those are the attention weights/],
        [inputs.gather(4), /the query's own embedding/],
        [attn.context.gather(5), /context vector of token 5: the course counts tokens from 0/],
        [attn.context.gather(3), /context vector of token 3: the course counts tokens from 0/],
        [right.expandDims(0), /has shape \[1, 3\]; expected \[3\]/],
        [tf.add(right, tf.tensor1d([0, 0.5, 0])), /1 of 3 entries of your context vector differ.*index \[1\]/],
        [tf.fill([3], NaN), /NaN/],
      ];
      for (const [answer, pattern] of cases) says(() => checkContextVector(answer, inputs, 4), pattern, [right.dataSync()[0].toFixed(4)]);
      says(() => checkContextVector("0.4, 0.6, 0.5", inputs, 4), /should be a tf\.Tensor, got string/);
      const gone = right.clone();
      gone.dispose();
      says(() => checkContextVector(gone, inputs, 4), /was disposed/);
      tf.dispose([attn, right, scores, ...cases.map((c) => c[0])]);
    });

    it("checkSelfAttentionFunction: right on two inputs; no softmax, columns, weights, hard-coded, a throw", () => {
      const right = (x: tf.Tensor) => simpleSelfAttention(x).context;
      says(() => checkSelfAttentionFunction(right, inputs), /^✓/);
      const scores = (x: tf.Tensor) => tf.matMul(x, x, false, true);
      says(() => checkSelfAttentionFunction((x: tf.Tensor) => tf.matMul(scores(x), x), inputs), /raw scores: apply the softmax to each row/);
      says(
        () => checkSelfAttentionFunction((x: tf.Tensor) => tf.matMul(tf.softmax(scores(x).transpose()).transpose(), x), inputs),
        /normalized each column/,
      );
      says(() => checkSelfAttentionFunction((x: tf.Tensor) => tf.softmax(scores(x)), inputs), /attention weights; multiply them by the inputs/);
      const fixed = simpleSelfAttention(inputs);
      says(() => checkSelfAttentionFunction(() => fixed.context.clone(), inputs), /on a second input \[4, 4\].*shape \[6, 3\]; expected \[4, 4\]/);
      says(
        () =>
          checkSelfAttentionFunction(() => {
            throw new Error("boom");
          }, inputs),
        /your function threw: boom/,
      );
      says(() => checkSelfAttentionFunction(42, inputs), /expected a function/);
      tf.dispose(fixed);
    });
  });

  it("04: checkScaledAttentionFunction: right; no scale, d_k, multiplied, columns, weights", () => {
    const sdpa =
      (s: (x: tf.Tensor) => tf.Tensor, axisRows = true) =>
      (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) => {
        const scores = s(tf.matMul(q, k, false, true));
        const w = axisRows ? tf.softmax(scores) : tf.softmax(scores.transpose()).transpose();
        return tf.matMul(w, v);
      };
    const dk = 16;
    says(() => checkScaledAttentionFunction(sdpa((s) => tf.div(s, Math.sqrt(dk)))), /^✓/);
    says(() => checkScaledAttentionFunction(sdpa((s) => s)), /no scaling: divide the scores by √d_k/);
    says(() => checkScaledAttentionFunction(sdpa((s) => tf.div(s, dk))), /you divided by d_k; the scale is its square root/);
    says(() => checkScaledAttentionFunction(sdpa((s) => tf.mul(s, Math.sqrt(dk)))), /multiplied by √d_k/);
    says(() => checkScaledAttentionFunction(sdpa((s) => tf.div(s, 4), false)), /normalized each column/);
    says(
      () => checkScaledAttentionFunction((q: tf.Tensor, k: tf.Tensor) => tf.softmax(tf.div(tf.matMul(q, k, false, true), 4))),
      /shape \[5, 5\]; expected \[5, 3\].*attention weights; multiply them by the values/,
    );
    says(() => checkScaledAttentionFunction((q: tf.Tensor, k: tf.Tensor, _v: tf.Tensor) => tf.matMul(q, k)), /your function threw: .*/);
  });

  describe("05: the causal mask and renormalization", () => {
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

    it("checkRenormalized: right; not renormalized, columns, unmasked, softmax again", () => {
      manualSeed(789);
      const sa = new SelfAttentionV2(3, 2);
      const { weights, ...rest } = sa.explain(inputs);
      const mask = tf.linalg.bandPart(tf.ones([6, 6]), -1, 0);
      const masked = tf.mul(weights, mask);
      const right = maskAndRenormalize(weights);
      says(() => checkRenormalized(right, weights), /^✓/);
      const cases: [tf.Tensor, RegExp][] = [
        [masked, /rows no longer sum to 1: divide each row by its sum/],
        [tf.div(masked, tf.sum(masked, 0, true)), /divided by the column sums/],
        [weights, /nothing is masked/],
        [tf.softmax(masked), /softmax of masked weights/],
      ];
      for (const [a, p] of cases) says(() => checkRenormalized(a, weights), p);
      tf.dispose([weights, rest, mask, masked, right, ...cases.map((c) => c[0])]);
      sa.dispose();
    });
  });

  describe("06: heads and parameters", () => {
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

    it("checkGpt2AttentionParameters: right; no biases, the course's module, no output projection, 12 blocks", () => {
      const right = 4 * 768 * 768 + 4 * 768;
      says(() => checkGpt2AttentionParameters(right), /^✓/);
      says(() => checkGpt2AttentionParameters(4 * 768 * 768), /left out the biases/, [String(right)]);
      says(() => checkGpt2AttentionParameters(2360064), /the course's module \(qkv_bias = false\)/, [String(right)]);
      says(() => checkGpt2AttentionParameters(3 * 768 * 768), /left out the output projection and the biases/);
      says(() => checkGpt2AttentionParameters(12 * right), /all 12 blocks/);
      says(() => checkGpt2AttentionParameters(1000), /too small/);
      says(() => checkGpt2AttentionParameters("2362368"), /should be a number/);
    });

    it("the existing checks keep working: weight copy and the two-dimensional wrapper", () => {
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
      manualSeed(123);
      const w = new MultiHeadAttentionWrapper(3, 2, 6, 0, 2);
      says(() => checkTwoDimensionalWrapper(w, inputs), /^✗ Not yet:\s+(- )?its context vectors have 4 dimensions/);
      [v1, v2, w].forEach((m) => m.dispose());
    });
  });

  describe("01 and 02: the translators' exercises", () => {
    it("checkBottleneckSize: right; all states, tokens, the embedding size", () => {
      says(() => checkBottleneckSize(128, 40, 128), /^✓/);
      says(() => checkBottleneckSize(40 * 128, 40, 128), /every encoder state; the plain decoder receives only one/, ["128 numbers"]);
      says(() => checkBottleneckSize(40, 40, 128), /counts tokens/);
      says(() => checkBottleneckSize(64, 40, 128), /size of a word embedding/);
      says(() => checkBottleneckSize(NaN, 40, 128), /should be a number, got NaN/);
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
    });

    it("checkDotProductWeights and checkAttentionContext: right; unscaled, no softmax, by H; unweighted, mean, last state", () => {
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
      const ctx = tf.matMul(right.expandDims(0), states);
      says(() => checkAttentionContext(ctx, right, states), /^✓/);
      const wrong: [tf.Tensor, RegExp][] = [
        [tf.sum(states, 0, true), /without the weights/],
        [tf.mean(states, 0, true), /plain average/],
        [states.slice([2, 0], [1, 4]), /last encoder state/],
        [ctx.reshape([-1]), /shape \[4\]; expected \[1, 4\].*keep the batch axis/],
      ];
      for (const [a, p] of wrong) says(() => checkAttentionContext(a, right, states), p);
      tf.dispose([states, query, scores, right, ctx, ...cases.map((c) => c[0]), ...wrong.map((c) => c[0])]);
    });
  });

  describe("checks of notebooks 04 and 06", () => {
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
  });
});
