import * as assert from "assert";
import * as tf from "@tensorflow/tfjs";
import { setup, heatmap, heatmapFrames, barChart, lineChart, vectorPlot, principalComponents } from "attention-lib";
import { project3d } from "attention-lib/internal";
import { noLeak, assertThrowsMessage } from "../helpers";

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
});

function assertCloseArr(a: number[], b: number[]): void {
  assert.strictEqual(a.length, b.length);
  a.forEach((x, i) => assert.ok(Math.abs(x - b[i]) < 1e-6, `${x} vs ${b[i]}`));
}
