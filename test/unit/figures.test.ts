import * as assert from "assert";
import * as tf from "@tensorflow/tfjs";
import {
  LiveLineChart,
  barChart,
  formatTensor,
  headHeatmaps,
  headView,
  heatmap,
  heatmapFrames,
  lineChart,
  principalComponents,
  setup,
  show,
  vectorPlot,
} from "attention-lib";
import { project3d } from "attention-lib/internal";
import { assertThrowsMessage, noLeak, refuses, withTensors } from "../helpers";
import * as lib from "attention-lib";

const tokens = ["Your", "journey", "starts"];

describe("figures: plot specs with labels, shapes and values", () => {
  before(() => setup({ backend: "wasm", verbose: false }));

  describe("heatmap", () => {
    it("puts the matrix in z, row 0 on top, token labels on both axes and values on hover", () => {
      const w = tf.tensor([
        [0.5, 0.25, 0.25],
        [0.1, 0.8, 0.1],
        [0.3, 0.3, 0.4],
      ]);
      const fig = noLeak(() => heatmap(w, { x: tokens, y: tokens, xTitle: "key", yTitle: "query", title: "weights" }));
      w.dispose();
      const t = fig.data[0] as Record<string, any>;
      assert.strictEqual(t.type, "heatmap");
      assert.deepStrictEqual(t.z[1], [0.10000000149011612, 0.800000011920929, 0.10000000149011612]);
      assert.deepStrictEqual(t.customdata[1][2], ["journey", "starts"]);
      assert.match(t.hovertemplate, /query %\{customdata\[0\]\}.*key %\{customdata\[1\]\}.*%\{z:\.4f\}/);
      assert.strictEqual(t.texttemplate, "%{z:.2f}");
      const layout = fig.layout as Record<string, any>;
      assert.deepStrictEqual(layout.xaxis.ticktext, tokens);
      assert.deepStrictEqual(layout.yaxis.ticktext, tokens);
      assert.strictEqual(layout.yaxis.autorange, "reversed");
      assert.strictEqual(layout.title.text, "weights");
    });

    it("fills in the other colour bound when only zmin or zmax is given (plotly needs both)", () => {
      const t = heatmap(
        [
          [0.2, 0.5],
          [0.3, 0.9],
        ],
        { zmin: 0 },
      ).data[0] as Record<string, any>;
      assert.deepStrictEqual([t.zmin, t.zmax], [0, 0.9]);
      const u = heatmap([[0.2, 0.5]]).data[0] as Record<string, any>;
      assert.deepStrictEqual([u.zmin, u.zmax], [undefined, undefined]);
    });

    it("keeps repeated tokens apart (each row has its own place on the axis)", () => {
      const fig = heatmap(
        [
          [1, 2],
          [3, 4],
        ],
        { x: ["the", "the"], y: ["the", "the"] },
      );
      const t = fig.data[0] as Record<string, any>;
      assert.deepStrictEqual(t.x, [0, 1]);
      assert.deepStrictEqual((fig.layout as any).xaxis.tickvals, [0, 1]);
    });

    it("rejects wrong label counts and non-matrices clearly", () => {
      assertThrowsMessage(() => heatmap([[1, 2]], { x: ["a"] }), /heatmap: 1 column labels for 2 columns/);
      const v = tf.tensor([1, 2]);
      assertThrowsMessage(() => heatmap(v), /heatmap: values must be a non-empty 2-D tensor \[rows, columns\], got shape \[2\]/);
      v.dispose();
      assertThrowsMessage(() => heatmap([[1, 2], [3]]), /row 1 has 1 values, row 0 has 2/);
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
  });

  describe("barChart", () => {
    it("draws one bar per label, grouped series for several named inputs", () => {
      const a = tf.tensor([0.2, 0.3, 0.5]);
      const fig = noLeak(() => barChart(tokens, { sum: a, softmax: [0.1, 0.2, 0.7] }));
      a.dispose();
      assert.strictEqual(fig.data.length, 2);
      assert.deepStrictEqual(
        fig.data.map((d) => d.name),
        ["sum", "softmax"],
      );
      assertCloseArr((fig.data[0] as any).y, [0.2, 0.3, 0.5]);
      assert.deepStrictEqual((fig.layout as any).xaxis.ticktext, tokens);
      assert.strictEqual((fig.layout as any).barmode, "group");
    });
    it("rejects a length mismatch", () => {
      assertThrowsMessage(() => barChart(tokens, [1, 2]), /barChart: 3 bar labels for 2 bars/);
    });
  });

  describe("lineChart", () => {
    it("uses 0, 1, 2, ... as x by default", () => {
      const fig = lineChart([{ name: "loss", y: [3, 2, 1] }], { yTitle: "loss", logY: true });
      assert.deepStrictEqual((fig.data[0] as any).x, [0, 1, 2]);
      assert.strictEqual((fig.layout as any).yaxis.type, "log");
    });
    it("rejects x and y of different lengths", () => {
      assertThrowsMessage(() => lineChart([{ name: "a", x: [1], y: [1, 2] }]), /line 'a' has 1 x values and 2 y values/);
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
  });

  describe("vectorPlot", () => {
    it("draws 2-D vectors as arrows from the origin, one labelled trace each", () => {
      const fig = vectorPlot(
        [
          [1, 2],
          [3, 4],
        ],
        ["a", "b"],
        { highlight: ["b"] },
      );
      assert.strictEqual(fig.data.length, 2);
      assert.deepStrictEqual((fig.data[1] as any).x, [0, 3]);
      assert.deepStrictEqual((fig.data[1] as any).y, [0, 4]);
      assert.strictEqual((fig.data[1] as any).line.width, 5);
      assert.strictEqual((fig.data[0] as any).line.width, 2);
    });

    it("projects 3-D vectors and adds a slider that turns the view", () => {
      const v = tf.tensor([
        [0.43, 0.15, 0.89],
        [0.55, 0.87, 0.66],
      ]);
      const fig = noLeak(() => vectorPlot(v, ["Your", "journey"]));
      v.dispose();
      assert.strictEqual(fig.frames!.length, 24);
      assert.strictEqual(fig.data.length, 5); // 3 axes + 2 vectors
      const steps = (fig.layout as any).sliders[0].steps;
      assert.strictEqual(steps.length, 24);
      assert.deepStrictEqual(fig.frames![0].data.length, 5);
    });

    it("projection: azimuth 0, elevation 0 shows x across and z up", () => {
      assert.deepStrictEqual(project3d([1, 0, 0], 0, 0), [1, 0]);
      assert.deepStrictEqual(project3d([0, 0, 1], 0, 0), [0, 1]);
      const [sx, sy] = project3d([0, 1, 0], Math.PI / 2, 0);
      assert.ok(Math.abs(sx + 1) < 1e-12 && Math.abs(sy) < 1e-12);
    });

    it("rejects 4-D vectors and unknown highlight names", () => {
      assertThrowsMessage(() => vectorPlot([[1, 2, 3, 4]], ["a"]), /must be \[n, 2\] or \[n, 3\], got \[1, 4\]/);
      assertThrowsMessage(() => vectorPlot([[1, 2]], ["a"], { highlight: ["z"] }), /highlight names z are not among the labels a/);
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
  });
});

describe("figures for notebooks 01-02", () => {
  it("heatmapFrames: one frame per snapshot, a slider that redraws, starting on the last", () => {
    const fig = heatmapFrames(
      [
        { label: "step 0", z: [[0.5, 0.5]] },
        { label: "step 9", z: [[0.9, 0.1]] },
      ],
      { x: ["a", "b"], y: ["c"] },
    );
    assert.deepStrictEqual(
      fig.frames!.map((f) => f.name),
      ["step 0", "step 9"],
    );
    assert.deepStrictEqual((fig.frames![0].data[0] as any).z, [[0.5, 0.5]]);
    assert.deepStrictEqual((fig.data[0] as any).z, [[0.9, 0.1]]);
    const slider = (fig.layout as any).sliders[0];
    assert.strictEqual(slider.active, 1);
    assert.strictEqual(slider.steps[0].args[1].frame.redraw, true);
    assertThrowsMessage(
      () =>
        heatmapFrames([
          { label: "a", z: [[1]] },
          { label: "b", z: [[1, 2]] },
        ]),
      /frame 1 is \[1, 2\], frame 0 is \[1, 1\]/,
    );
  });

  it("lineChart writes a label next to each point when given text", () => {
    const fig = lineChart([{ name: "state", x: [0, 1], y: [1, 0], text: ["the", "cat"] }]);
    assert.strictEqual((fig.data[0] as any).mode, "lines+markers+text");
    assertThrowsMessage(() => lineChart([{ name: "s", y: [1, 2], text: ["a"] }]), /line 's' has 1 labels for 2 points/);
  });

  it("principalComponents finds the direction of largest variance", () => {
    // points on a line along (3, 4)/5 plus a small perpendicular wobble
    const pts = Array.from({ length: 20 }, (_, i) => {
      const t = i - 10;
      const w = i % 2 ? 0.1 : -0.1;
      return [0.6 * t - 0.8 * w, 0.8 * t + 0.6 * w];
    });
    const { points, explained } = principalComponents(pts, 2);
    assert.ok(explained[0] > 0.99, `explained ${explained}`);
    points.forEach((p, i) => assert.ok(Math.abs(Math.abs(p[0]) - Math.abs(i - 10 + 0.5)) < 1e-3, `${p[0]} at ${i}`)); // centred: the mean t is -0.5
    assertThrowsMessage(() => principalComponents([[1, 2]]), /expected at least 2 rows/);
  });

  describe("careless arguments", () => {
    it("name the function and the argument that is wrong", () => {
      refuses(
        () => show(undefined as never),
        /show: expected a figure made by heatmap\(\), barChart\(\), lineChart\(\), vectorPlot\(\), ... \(an object with data and layout\), got undefined/,
      );
      refuses(() => show({} as never), /show: expected a figure .* got an object without data and layout/);
      refuses(() => formatTensor(undefined as never), /formatTensor: expected a tf.Tensor, got undefined/);
      refuses(() => barChart(undefined as never, [1, 2]), /barChart: labels must be an array of strings \(one per bar\), got undefined/);
      refuses(
        () => barChart(["a", "b"], undefined as never),
        /barChart: expected values \(a 1-D tensor or array\) or \{ name: values \}, got undefined/,
      );
      refuses(() => barChart(["a", "b"], ["x", "y"] as never), /barChart: values must hold numbers, but entry 0 is the string "x"/);
      refuses(
        () => heatmap([1, 2, 3] as never),
        /heatmap: values must be 2-D \[rows, columns\], but row 0 is the number 1 \(for one row of numbers, wrap it: \[values\]\)/,
      );
      refuses(() => heatmap(undefined as never), /heatmap: values must be a non-empty 2-D array or tensor \[rows, columns\], got undefined/);
      refuses(() => lineChart([{ name: "a", y: undefined as never }]), /lineChart: .*must be a 1-D tensor or an array of numbers, got undefined/);
      const w = tf.ones([2, 3, 3]);
      refuses(() => headHeatmaps(w, undefined as never), /headHeatmaps: tokens must be an array of strings \(one label per token\), got undefined/);
      refuses(() => headView(w, undefined as never), /headView: tokens must be an array of strings/);
      w.dispose();
      withTensors(
        () => [tf.scalar(1)],
        (one) => refuses(() => formatTensor(one, { precision: 200 }), /formatTensor: precision must be an integer from 0 to 16, got 200/),
      );
    });

    it("large inputs do not overflow the stack: a 400x400 heatmap with zmax, printing with threshold Infinity", () => {
      const big = tf.randomUniform([400, 400], 0, 1, "float32", 1);
      const fig = heatmap(big, { zmax: 1 });
      const trace = fig.data[0] as { zmin: number; zmax: number };
      assert.ok(trace.zmin >= 0 && trace.zmin < 0.01 && trace.zmax === 1, `zmin ${trace.zmin}, zmax ${trace.zmax}`);
      const text = formatTensor(big, { threshold: Infinity });
      assert.ok(!text.includes("..."), "nothing summarised");
      assert.strictEqual(text.match(/\d\.\d{4}/g)!.length, 160000, "every value printed");
      big.dispose();
    });

    it("NaN and Infinity in the data of every figure builder, the live chart and principalComponents", () => {
      const nan = [0.1, NaN, 0.3];
      refuses(
        () =>
          heatmap([
            [1, 2],
            [3, Infinity],
          ]),
        /^heatmap: values holds Infinity at row 1, column 1; expected finite numbers/,
      );
      withTensors(
        () => [tf.tensor2d([[1, NaN]])],
        (t) => refuses(() => heatmap(t), /^heatmap: values holds NaN at entry 1; expected finite numbers/),
      );
      refuses(() => barChart(["a", "b", "c"], nan), /^barChart: values holds NaN at entry 1/);
      refuses(() => lineChart([{ name: "loss", y: [1, -Infinity] }]), /^lineChart: line 'loss' y holds -Infinity at entry 1/);
      refuses(() => lineChart([{ name: "loss", x: [0, NaN], y: [1, 2] }]), /^lineChart: line 'loss' x holds NaN at entry 1/);
      // A gap is written null (plotly draws no point there), never NaN.
      assert.deepStrictEqual(lineChart([{ name: "w", y: [0.5, 0.2, null, null] }]).data[0].y, [0.5, 0.2, null, null]);
      refuses(() => lineChart([{ name: "w", y: [0.5, NaN, null] }]), /^lineChart: line 'w' y \(apart from its gaps\) holds NaN at entry 1/);
      refuses(
        () =>
          headHeatmaps(
            [
              [
                [1, 0],
                [0.5, NaN],
              ],
            ],
            ["a", "b"],
          ),
        /^headHeatmaps: the weights of head 0 holds NaN at row 1, column 1/,
      );
      withTensors(
        () => [
          tf.tensor3d([
            [
              [1, 0],
              [Infinity, 0],
            ],
          ]),
        ],
        (t) => refuses(() => headView(t, ["a", "b"]), /^headView: the weights of head 0 holds Infinity at row 1, column 0/),
      );
      refuses(
        () =>
          principalComponents([
            [1, 2],
            [3, NaN],
            [0, 1],
          ]),
        /^principalComponents: x holds NaN at row 1, column 1/,
      );
      const chart = new LiveLineChart(["loss"]);
      refuses(() => chart.push("loss", 1, NaN), /^LiveLineChart\.push: the point \(1, NaN\) of line 'loss' is not two finite numbers/);
      refuses(() => chart.push("loss", "2" as unknown as number, 1), /^LiveLineChart\.push: the point \(2, 1\)/);
      assert.deepStrictEqual(chart.points, { loss: { x: [], y: [] } }, "a refused point is not kept");
    });
  });

  describe("figures for notebooks 01-02 (more)", () => {
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
  });
});

function assertCloseArr(a: number[], b: number[]): void {
  assert.strictEqual(a.length, b.length);
  a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) < 1e-6, `${x} vs ${b[i]}`));
}

describe("figures refuse what would draw an empty or broken figure", () => {
  before(() => lib.setup({ backend: "wasm", verbose: false }));
  const m = [
    [0.1, 0.9],
    [0.6, 0.4],
  ];

  it("heatmap: an inverted or empty colour range, a bad height, options of the wrong type", () => {
    refuses(
      () => lib.heatmap(m, { zmin: 1, zmax: 0 }),
      /^heatmap: the colour range \[zmin, zmax\] \[1, 0\] is empty or inverted; expected low < high$/,
    );
    refuses(() => lib.heatmap(m, { zmin: 0.5, zmax: 0.5 }), /^heatmap: the colour range \[zmin, zmax\] \[0\.5, 0\.5\] is empty or inverted/);
    // Only zmin given: zmax comes from the data (0.9), so a zmin above it is inverted too.
    refuses(() => lib.heatmap(m, { zmin: 5 }), /^heatmap: the colour range \[zmin, zmax\] \[5, 0\.9\] is empty or inverted/);
    refuses(
      () => lib.heatmap(m, { zmin: NaN }),
      /^heatmap: the colour range \[zmin, zmax\] must be two finite numbers \[low, high\], got \[NaN, 0\.9\]$/,
    );
    refuses(() => lib.heatmap(m, { zmin: "0" as never }), /got \[the string "0", 0\.9\]$/);
    refuses(() => lib.heatmap(m, { height: 0 }), /^heatmap: height must be a number of pixels > 0, got the number 0$/);
    refuses(() => lib.heatmap(m, { height: "400" as never }), /^heatmap: height must be a number of pixels > 0, got the string "400"$/);
    refuses(() => lib.heatmap(m, { showValues: "no" as never }), /^heatmap: the option showValues must be true or false, got the string "no"$/);
    refuses(() => lib.heatmap(m, { colorscale: [] }), /^heatmap: colorscale must be a plotly colorscale name/);
    refuses(() => lib.heatmap(m, { title: 3 as never }), /^heatmap: title must be a string, got the number 3$/);
    refuses(() => lib.heatmap(m, 3 as never), /^heatmap: options must be an object like \{ title: "\.\.\." \}, got the number 3$/);
    refuses(() => lib.heatmapFrames([{ label: "a", z: m }], { zmin: 1, zmax: 0 }), /^heatmap: the colour range \[zmin, zmax\] \[1, 0\]/);
    const fig = lib.heatmap(m, { zmin: 0 });
    assert.deepStrictEqual([fig.data[0].zmin, fig.data[0].zmax], [0, 0.9]);
  });

  it("lineChart: values <= 0 on a log axis, no lines or no points, lines of the wrong shape", () => {
    refuses(
      () => lib.lineChart([{ name: "loss", y: [1, 0, -1] }], { logY: true }),
      /^lineChart: line 'loss' y holds 0 at entry 1, but the y axis is logarithmic; expected values > 0 \(or turn off logY\)$/,
    );
    refuses(
      () => lib.lineChart([{ name: "t", y: [1, 2], x: [0, 10] }], { logX: true }),
      /^lineChart: line 't' x holds 0 at entry 0, but the x axis is logarithmic/,
    );
    refuses(
      () => lib.lineChart([{ name: "t", y: [1, 2] }], { logX: true }),
      /^lineChart: line 't' has no x values, and the default x \(0, 1, 2, \.\.\.\) starts at 0/,
    );
    refuses(() => lib.lineChart([]), /^lineChart: expected an array of lines \[\{ name, y, x\? \}\], at least one, got \[\]$/);
    refuses(() => lib.lineChart([{ name: "a", y: [] }]), /^lineChart: line 'a' has no y values to draw; expected at least one number$/);
    refuses(() => lib.lineChart([{ name: "a", y: [null, null] }]), /^lineChart: line 'a' has no y values to draw/);
    refuses(() => lib.lineChart([null as never]), /^lineChart: line 0 must be an object \{ name: string, y, x\? \}, got null$/);
    refuses(() => lib.lineChart([{ y: [1] } as never]), /^lineChart: line 0 must be an object \{ name: string, y, x\? \}, got a name of undefined$/);
    refuses(() => lib.lineChart([{ name: "a", y: [1, 2], text: "ab" as never }]), /^lineChart: line 'a' text must be an array of strings/);
    refuses(
      () => lib.lineChart([{ name: "a", y: [1, 2] }], { logY: "yes" as never }),
      /^lineChart: the option logY must be true or false, got the string "yes"$/,
    );
    refuses(
      () => lib.lineChart([{ name: "a", y: [1, 2] }], { yRange: [2, 1] }),
      /^lineChart: yRange \[2, 1\] is empty or inverted; expected low < high$/,
    );
    refuses(
      () => lib.barChart(["a", "b"], [1, 2], { yRange: [NaN, 1] }),
      /^barChart: yRange must be two finite numbers \[low, high\], got \[NaN, 1\]$/,
    );
    refuses(() => lib.barChart([], []), /^barChart: labels is empty; expected at least one bar$/);
    const fig = lib.lineChart([{ name: "loss", y: [4, 2, 1], x: [1, 10, 100] }], { logX: true, logY: true });
    assert.deepStrictEqual([(fig.layout.xaxis as { type: string }).type, (fig.layout.yaxis as { type: string }).type], ["log", "log"]);
  });

  it("vectorPlot, heatmapFrames, headHeatmaps, headView, principalComponents, LiveLineChart: options that would be ignored or break the layout", () => {
    refuses(
      () => lib.vectorPlot(m, ["a", "b"], { style: "arrow" as never }),
      /^vectorPlot: style must be "arrows" or "points", got the string "arrow"$/,
    );
    refuses(() => lib.vectorPlot(m, ["a", "b"], { highlight: "a" as never }), /^vectorPlot: highlight must be an array of labels/);
    refuses(
      () => lib.vectorPlot(m, ["a", "b"], { axisNames: ["x"] }),
      /^vectorPlot: axisNames must be an array of 2 strings \(one per axis\), got \["x"\]$/,
    );
    refuses(
      () =>
        lib.heatmapFrames([
          { label: "step 1", z: m },
          { label: "step 1", z: m },
        ]),
      /^heatmapFrames: frames 0 and 1 share the label 'step 1'; the slider needs one label per frame$/,
    );
    refuses(() => lib.heatmapFrames([null as never]), /^heatmapFrames: frame 0 must be \{ label: string, z \}, got null$/);
    withTensors(
      () => [tf.fill([2, 2, 2], 0.5), tf.zeros([1, 0, 0]), tf.fill([1, 2, 2], 1.5)],
      (w, empty, heavy) => {
        refuses(() => lib.headHeatmaps(w, ["a", "b"], { columns: 0 }), /^headHeatmaps: columns must be a positive integer, got 0$/);
        refuses(() => lib.headHeatmaps(w, ["a", "b"], { zmax: 0 }), /^headHeatmaps: the colour range \[0, zmax\] \[0, 0\] is empty or inverted/);
        refuses(
          () => lib.headHeatmaps(w, ["a", "b"], { headNames: ["x"] }),
          /^headHeatmaps: headNames must be 2 strings, one per head, got \["x"\]$/,
        );
        refuses(
          () =>
            lib.headHeatmaps(
              [
                [
                  [0.5, 0.5],
                  [0.5, 0.5],
                ],
                [[1]],
              ],
              ["a", "b"],
            ),
          /^headHeatmaps: head 1 is \[1, 1\], head 0 is \[2, 2\]; expected every head \[tokens, tokens\]$/,
        );
        refuses(() => lib.headHeatmaps(empty, []), /^headHeatmaps: weights must be \[heads, tokens, tokens\], got shape \[1, 0, 0\]/);
        refuses(() => lib.headView(w, ["a", "b"], { minWeight: 2 }), /^headView: minWeight must be a weight from 0 to 1, got 2$/);
        refuses(
          () => lib.headView(heavy, ["a", "b"]),
          /^headView: head 0 has the weight 1\.5 at row 0, column 0; expected attention weights from 0 to 1$/,
        );
      },
    );
    const rows = [
      [1, 2],
      [3, 4],
      [5, 7],
    ];
    refuses(() => lib.principalComponents(rows, 0), /^principalComponents: k must be a positive integer, got 0$/);
    refuses(() => lib.principalComponents(rows, "2" as never), /^principalComponents: k must be a positive integer, got the string "2"$/);
    refuses(() => lib.principalComponents(rows, 3), /^principalComponents: k = 3 components asked of 2-dimensional rows; expected k <= 2$/);
    assert.strictEqual(lib.principalComponents(rows, 2).points[0].length, 2);
    refuses(() => new lib.LiveLineChart(["loss", "loss"]), /^LiveLineChart: the name 'loss' is given twice; expected one name per line$/);
    refuses(() => new lib.LiveLineChart(["loss"], {}, -1), /^LiveLineChart: minIntervalMs must be a number of milliseconds >= 0, got -1$/);
    const live = new lib.LiveLineChart(["loss"], { logY: true });
    refuses(
      () => live.push("loss", 1, 0),
      /^LiveLineChart\.push: the point \(1, 0\) of line 'loss' has y <= 0, which the logarithmic y axis cannot show; expected y > 0$/,
    );
    assert.deepStrictEqual(live.points, { loss: { x: [], y: [] } });
  });
});
