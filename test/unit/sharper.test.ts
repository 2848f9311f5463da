// Tests aimed at plausible one-line bugs that the broader tests let through (found by planting them):
// each names the bug it catches.
import * as assert from "assert";
import * as tf from "@tensorflow/tfjs";
import { setup, normalizeBySum, scalingExperiment, MultiHeadAttentionWrapper, heatmap, manualSeed, exampleInputs } from "attention-lib";
import { clipByGlobalNorm } from "attention-lib/internal";
import { assertClose } from "../helpers";

const data = (t: tf.Tensor) => Array.from(t.dataSync());

describe("sharper checks of the readable code", () => {
  before(() => setup({ backend: "wasm", verbose: false }));

  it("normalizeBySum divides each row by its own sum (not the whole tensor's)", () => {
    const s = tf.tensor2d([[1, 3], [2, 8]]);
    const w = normalizeBySum(s);
    assertClose(data(w), [0.25, 0.75, 0.2, 0.8], 1e-6);
    tf.dispose([s, w]);
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

  it("the wrapper passes eval() and train() on to its heads (dropout 0.5)", () => {
    manualSeed(123);
    const w = new MultiHeadAttentionWrapper(3, 2, 6, 0.5, 2);
    const x = exampleInputs();
    const a = w.eval().forward(x);
    const b = w.forward(x);
    assertClose(data(a), data(b), 0, "evaluation is deterministic");
    assert.ok(w.heads.every((h) => !h.training), "every head in evaluation mode");
    const c = w.train().forward(x);
    assert.ok(w.heads.every((h) => h.training), "every head back in training mode");
    assert.ok(data(c).some((v, i) => Math.abs(v - data(a)[i]) > 1e-6), "training mode drops weights");
    tf.dispose([a, b, c, x]);
    w.dispose();
  });

  it("heatmap: columns are x (keys), rows are y (queries), on a non-square matrix with different labels", () => {
    const fig = heatmap([[1, 2, 3], [4, 5, 6]], { x: ["a", "b", "c"], y: ["r0", "r1"], xTitle: "key", yTitle: "query" });
    const trace = fig.data[0] as { z: number[][]; x: number[]; y: number[]; customdata: string[][][] };
    const layout = fig.layout as { xaxis: { ticktext: string[]; title: { text: string } }; yaxis: { ticktext: string[]; title: { text: string } } };
    assert.deepStrictEqual(layout.xaxis.ticktext, ["a", "b", "c"]);
    assert.deepStrictEqual(layout.yaxis.ticktext, ["r0", "r1"]);
    assert.deepStrictEqual([layout.xaxis.title.text, layout.yaxis.title.text], ["key", "query"]);
    assert.deepStrictEqual([trace.x, trace.y], [[0, 1, 2], [0, 1]]);
    assert.deepStrictEqual(trace.customdata[1][2], ["r1", "c"], "hover of z[1][2] names row r1 and column c");
  });

  it("clipByGlobalNorm scales by maxNorm / sqrt(sum of squares), and leaves small gradients alone", () => {
    const grads = { a: tf.tensor1d([3]), b: tf.tensor1d([4]) }; // global norm 5
    const big = clipByGlobalNorm(grads, 1);
    assertClose(data(big.norm), [5], 1e-6);
    assertClose([...data(big.grads.a), ...data(big.grads.b)], [0.6, 0.8], 1e-5);
    const small = clipByGlobalNorm(grads, 10);
    assertClose([...data(small.grads.a), ...data(small.grads.b)], [3, 4], 1e-5);
    tf.dispose([grads, big.grads, big.norm, small.grads, small.norm]);
  });
});
