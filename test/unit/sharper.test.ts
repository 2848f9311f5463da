// Tests aimed at plausible one-line bugs that the broader tests let through (found by planting them):
// each names the bug it catches.
import * as assert from "assert";
import * as tf from "@tensorflow/tfjs";
import { join } from "path";
import {
  setup,
  normalizeBySum,
  scalingExperiment,
  MultiHeadAttentionWrapper,
  heatmap,
  manualSeed,
  exampleInputs,
  heatmapFrames,
  lineChart,
  barChart,
  headHeatmaps,
  headView,
  vectorPlot,
  Trainer,
  Seq2Seq,
  buildVocabularies,
  encodeAll,
  Generator,
  loadCheckpoint,
  translateSentence,
} from "attention-lib";
import { clipByGlobalNorm, generatePairs, GRU, Embedding } from "attention-lib/internal";
import { assertClose, assertThrowsMessage, ROOT } from "../helpers";

const data = (t: tf.Tensor) => Array.from(t.dataSync());

describe("sharper checks of the readable code", () => {
  before(() => setup({ backend: "wasm", verbose: false }));

  it("normalizeBySum divides each row by its own sum (not the whole tensor's)", () => {
    const s = tf.tensor2d([
      [1, 3],
      [2, 8],
    ]);
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

  it("heatmap: columns are x (keys), rows are y (queries), on a non-square matrix with different labels", () => {
    const fig = heatmap(
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
      { x: ["a", "b", "c"], y: ["r0", "r1"], xTitle: "key", yTitle: "query" },
    );
    const trace = fig.data[0] as { z: number[][]; x: number[]; y: number[]; customdata: string[][][] };
    const layout = fig.layout as { xaxis: { ticktext: string[]; title: { text: string } }; yaxis: { ticktext: string[]; title: { text: string } } };
    assert.deepStrictEqual(layout.xaxis.ticktext, ["a", "b", "c"]);
    assert.deepStrictEqual(layout.yaxis.ticktext, ["r0", "r1"]);
    assert.deepStrictEqual([layout.xaxis.title.text, layout.yaxis.title.text], ["key", "query"]);
    assert.deepStrictEqual(
      [trace.x, trace.y],
      [
        [0, 1, 2],
        [0, 1],
      ],
    );
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

describe("sharper checks of the figure builders and the translator", () => {
  before(() => setup({ backend: "wasm", verbose: false }));

  it("heatmapFrames: its defaults, its slider, and its checks", () => {
    const fig = heatmapFrames([
      { label: "step 0", z: [[0.5, 0.5]] },
      { label: "step 9", z: [[0.9, 0.1]] },
    ]);
    const trace = fig.data[0] as { zmin: number; zmax: number; z: number[][] };
    assert.deepStrictEqual([trace.zmin, trace.zmax, fig.layout.height, trace.z], [0, 1, 520, [[0.9, 0.1]]]);
    const slider = (fig.layout.sliders as any[])[0];
    assert.strictEqual(slider.currentvalue.prefix, "");
    assert.deepStrictEqual(slider.pad, { t: 50 });
    assert.deepStrictEqual(slider.steps[0], {
      label: "step 0",
      method: "animate",
      args: [["step 0"], { mode: "immediate", frame: { duration: 0, redraw: true }, transition: { duration: 0 } }],
    });
    const custom = heatmapFrames([{ label: "a", z: [[1]] }], { zmin: -1, zmax: 2, height: 300, sliderPrefix: "at " });
    assert.deepStrictEqual(
      [(custom.data[0] as any).zmin, (custom.data[0] as any).zmax, custom.layout.height, (custom.layout.sliders as any[])[0].currentvalue.prefix],
      [-1, 2, 300, "at "],
    );
    assertThrowsMessage(() => heatmapFrames([]), /^heatmapFrames: expected at least one frame \{ label, z \}$/);
    assertThrowsMessage(() => heatmapFrames(undefined as never), /^heatmapFrames: expected at least one frame/);
    assertThrowsMessage(
      () =>
        heatmapFrames([
          { label: "a", z: [[1, 2]] },
          { label: "b", z: [[1]] },
        ]),
      /^heatmapFrames: frame 1 is \[1, 1\], frame 0 is \[1, 2\]; all frames must have the same shape$/,
    );
    assertThrowsMessage(
      () =>
        heatmapFrames([
          { label: "a", z: [[1]] },
          { label: "b", z: [[1], [2]] },
        ]),
      /^heatmapFrames: frame 1 is \[2, 1\]/,
    );
    assertThrowsMessage(() => heatmapFrames([{ label: "odd", z: [1] as never }]), /^heatmapFrames: frame 0 \('odd'\) must be 2-D/);
  });

  it("lineChart draws scatter traces; the other builders name what is wrong", () => {
    assert.strictEqual((lineChart([{ name: "a", y: [1, 2] }]).data[0] as any).type, "scatter");
    assertThrowsMessage(() => lineChart("x" as never), /^lineChart: expected an array of lines/);
    assertThrowsMessage(() => heatmap([[]]), /^heatmap: values has no columns$/);
    assertThrowsMessage(() => heatmap([[1]], { x: "a" as never }), /^heatmap: the column labels must be an array of strings, got the string "a"$/);
    assertThrowsMessage(() => heatmap([{} as never]), /^heatmap: values must be 2-D \[rows, columns\], but row 0 is an object/);
    assertThrowsMessage(() => barChart(["a"], {}), /^barChart: no series given; expected values, or \{ name: values \}$/);
    const m = tf.ones([2, 2]);
    assertThrowsMessage(() => barChart(["a", "b"], m), /^barChart: values must be a 1-D tensor, got shape \[2, 2\]$/);
    assertThrowsMessage(
      () => headHeatmaps("w" as never, ["a"]),
      /^headHeatmaps: weights must be a tensor or nested arrays \[heads, tokens, tokens\], got string$/,
    );
    const titled = headHeatmaps(tf.ones([1, 2, 2]), ["a", "b"], { title: "T" });
    assert.deepStrictEqual((titled.layout as any).title, { text: "T" });
    const view = headView(
      [
        [
          [1, 0],
          [0.5, 0.5],
        ],
      ],
      ["a", "b"],
      { title: "V" },
    );
    assert.deepStrictEqual((view.layout as any).title, { text: "V" });
    m.dispose();
  });

  it("vectorPlot draws points when asked, not arrows", () => {
    const fig = vectorPlot(
      [
        [1, 2],
        [3, 4],
      ],
      ["a", "b"],
      { style: "points", highlight: ["b"] },
    );
    const [a, b] = fig.data as any[];
    assert.deepStrictEqual([a.x, a.y, a.mode, a.text, a.hovertext.length], [[1], [2], "markers+text", ["a"], 1]);
    assert.deepStrictEqual(b.marker, { size: 14 });
    assert.deepStrictEqual(a.marker, { size: 10 });
  });

  it("Trainer: options and pairs that are not what it expects, a second run at once, and a time limit", async () => {
    const pairs = generatePairs(30, 5);
    const vocabs = buildVocabularies(pairs);
    const encoded = encodeAll(pairs, vocabs);
    const m = new Seq2Seq({ kind: "plain", srcVocab: vocabs.src.size, tgtVocab: vocabs.tgt.size, embedding: 8, hidden: 8 });
    assertThrowsMessage(() => new Trainer(m, encoded, null as never), /^Trainer: options must be an object such as \{ steps: 300 \}$/);
    assertThrowsMessage(() => new Trainer(m, encoded, { steps: 2, seed: -1 }), /^Trainer: seed must be a non-negative integer, got -1$/);
    assertThrowsMessage(() => new Trainer(m, encoded, { steps: 2, seed: 1.5 }), /^Trainer: seed must be a non-negative integer, got 1.5$/);
    assert.doesNotThrow(() => new Trainer(m, encoded, { steps: 2, seed: 0 }).dispose());
    assertThrowsMessage(
      () => new Trainer(m, encoded, { steps: 2, onReport: 5 as never }),
      /^Trainer: onReport must be a function \(step, loss\) => \.\.\.$/,
    );
    assertThrowsMessage(
      () => new Trainer(m, [{ src: [], tgt: [2] }], { steps: 2 }),
      /^Trainer: pair 0 has no source ids; expected \{ src: number\[\], tgt: number\[\] \} from encodeAll$/,
    );
    const t = new Trainer(m, encoded, { steps: 100000, maxSeconds: 0.3, batchSize: 8 });
    const first = t.run();
    await assert.rejects(t.run(), /^Error: Trainer.run: this trainer is already running; wait for it, or call stop\(\)$/);
    const r = await first;
    assert.ok(r.stoppedEarly && !r.interrupted && r.steps > 0 && r.steps < 100000 && r.seconds >= 0.3 && r.seconds < 5, JSON.stringify(r));
    t.dispose();
    m.dispose();
  });

  it("the translator: its kind, the GRU's input size, and greedy decoding stops at <eos>", () => {
    assertThrowsMessage(
      () => new Seq2Seq({ kind: "lstm" as never, srcVocab: 5, tgtVocab: 5, embedding: 2, hidden: 2 }),
      /^Seq2Seq: kind must be 'plain' or 'bahdanau', got 'lstm'$/,
    );
    const gru = new GRU(3, 4, new Generator(1));
    const x = tf.ones([2, 5]);
    assertThrowsMessage(() => gru.projectInputs(x), /^GRU: inputs have size 5 \(shape \[2, 5\]\), expected 3$/);
    x.dispose();
    gru.dispose();
    const before = tf.memory().numTensors;
    const emb = new Embedding(5, 2, new Generator(1));
    emb.dispose();
    assert.strictEqual(tf.memory().numTensors, before, "Embedding.dispose frees its table");
    const ck = loadCheckpoint(join(ROOT, "data", "checkpoints", "attention"));
    const t = translateSentence(ck.model, ck.vocabs, "the white song sees a strong house .");
    assert.strictEqual(t.attention!.length, t.output.split(" ").length + 1, "one attention row per word and one for <eos>, then it stops");
    ck.model.dispose();
  });
});
