import * as assert from "assert";
import { setup, show, LivePlot, LiveLineChart, lineChart, heatmap } from "attention-lib";
import { figureBundle, figureHtml, plotlyLibrary, plotlyScriptHtml, inKernel, FIGURE_CLASS } from "attention-lib/internal";
import { refuses } from "../helpers";

type Msg = { data: Record<string, unknown>; metadata: object; transient: { display_id?: string } };

/** Pretend to be tslab's kernel: a module in require's cache under .../tslab/dist/jupyter.js. */
function fakeKernel(): { sent: { msg: Msg; update: boolean }[]; remove: () => void } {
  const key = "/fake/node_modules/tslab/dist/jupyter.js";
  const sent: { msg: Msg; update: boolean }[] = [];
  const mod = { lastWriteDisplayData: (msg: Msg, update: boolean) => sent.push({ msg, update }) };
  (require.cache as any)[key] = { id: key, filename: key, loaded: true, exports: mod };
  return { sent, remove: () => delete (require.cache as any)[key] };
}

const fig = () =>
  heatmap(
    [
      [1, 2],
      [3, 4],
    ],
    { x: ["a", "b"], y: ["c", "d"], title: "t" },
  );

/** The figure spec a figure's HTML draws (the JSON in its script). */
function specOf(html: string): any {
  const m = /var fig = (.*);\n/.exec(html);
  assert.ok(m, "the HTML holds the figure's spec");
  return JSON.parse(m[1]);
}

describe("show: figures in every Jupyter front end, offline", () => {
  before(() => setup({ backend: "wasm", verbose: false }));

  it("inlines plotly.js (at most 2 MB) and shadows AMD so window.Plotly gets set under require.js", () => {
    const { code, version } = plotlyLibrary();
    assert.match(version, /^\d+\.\d+\.\d+$/);
    const html = plotlyScriptHtml();
    assert.ok(html.length < 2 * 1024 * 1024, `plot payload ${html.length} bytes`);
    assert.ok(html.length > code.length);
    assert.match(html, /\(function \(define, module, exports\) \{/);
    assert.strictEqual((html.match(/<\/script>/gi) ?? []).length, 1, "no early </script> inside the library");
  });

  it("sends one bundle with HTML and a text stand-in (no plotly JSON for a renderer to take over)", () => {
    const b = figureBundle(fig(), { id: "fig-x" });
    const html = b["text/html"] as string;
    assert.ok(html.startsWith(`<div id="fig-x" class="${FIGURE_CLASS}"`));
    assert.match(html, /"ticktext":\["a","b"\]/);
    assert.doesNotMatch(html, /cdn|https?:/i, "no CDN");
    assert.deepStrictEqual(specOf(html).data[0].z, [
      [1, 2],
      [3, 4],
    ]);
    assert.strictEqual(b["text/plain"], "<Figure 't': 1 trace(s) (heatmap)>");
    assert.deepStrictEqual(Object.keys(b).sort(), ["text/html", "text/plain"]);
    assert.ok(
      html.includes(`<p class="${FIGURE_CLASS}-note"`) && html.includes("run the notebook (or trust it)"),
      "a note for where the script cannot run",
    );
  });

  it("escapes labels that could close the script", () => {
    const html = figureHtml(heatmap([[1]], { x: ["</script><b>"], y: ["y"] }), "id1");
    assert.strictEqual((html.match(/<\/script>/g) ?? []).length, 1);
  });

  it("outside a notebook, show() prints a stand-in instead of throwing", () => {
    assert.strictEqual(inKernel(), false);
    const lines: string[] = [];
    const orig = console.log;
    console.log = (s: string) => lines.push(s);
    try {
      show(fig());
    } finally {
      console.log = orig;
    }
    assert.deepStrictEqual(lines, ["<Figure 't': 1 trace(s) (heatmap)>"]);
  });

  it("LivePlot refuses what is not a figure and a redraw interval that is not a number of milliseconds >= 0", () => {
    const cases: [() => unknown, RegExp][] = [
      [() => new LivePlot({} as never), /^LivePlot: expected a figure made by heatmap\(\), .*, got an object without data and layout$/],
      [() => new LivePlot(3 as never), /^LivePlot: expected a figure .*, got number$/],
      [() => new LivePlot(fig(), -1), /^LivePlot: minIntervalMs must be a number of milliseconds >= 0, got -1$/],
      [() => new LivePlot(fig(), NaN), /^LivePlot: minIntervalMs must be a number of milliseconds >= 0, got NaN$/],
      [() => new LivePlot(fig(), "250" as never), /^LivePlot: minIntervalMs must be .*, got the string "250"$/],
      [() => new LivePlot(fig(), 60000).update({} as never), /^LivePlot\.update: expected a figure .*, got an object without data and layout$/],
      [() => new LiveLineChart(["a"], {}, -1), /^LiveLineChart: minIntervalMs must be a number of milliseconds >= 0, got -1$/],
    ];
    for (const [make, pattern] of cases) refuses(make, pattern);
    assert.strictEqual(new LivePlot(fig(), 0).draws, 0); // outside a notebook nothing is sent, and 0 ms is allowed
  });

  describe("inside a kernel", () => {
    let k: ReturnType<typeof fakeKernel>;
    beforeEach(() => {
      k = fakeKernel();
    });
    afterEach(() => k.remove());

    it("setup() sends plotly.js once; later figures do not repeat it", async () => {
      const orig = console.log;
      console.log = () => undefined;
      try {
        await setup({ backend: "wasm" });
      } finally {
        console.log = orig;
      }
      show(fig());
      show(fig());
      const withLib = k.sent.filter((s) => String(s.msg.data["text/html"]).includes("data-plotly-version"));
      assert.strictEqual(withLib.length, 1);
      assert.strictEqual(k.sent.length, 3);
      assert.ok(k.sent.every((s) => s.update === false));
    });

    it("a live plot updates one display in place, at most once per interval", () => {
      const live = new LivePlot(lineChart([{ name: "loss", y: [1] }]), 60000);
      live.update(lineChart([{ name: "loss", y: [1, 0.5] }])); // too soon: kept for later
      assert.strictEqual(k.sent.length, 1);
      live.flush();
      assert.strictEqual(k.sent.length, 2);
      const [first, second] = k.sent;
      assert.ok(first.msg.transient.display_id);
      assert.strictEqual(second.msg.transient.display_id, first.msg.transient.display_id);
      assert.deepStrictEqual([first.update, second.update], [false, true]);
      assert.deepStrictEqual(specOf(second.msg.data["text/html"] as string).data[0].y, [1, 0.5]);
      assert.strictEqual(live.draws, 2);
    });

    it("LiveLineChart grows its lines and draws the final state on done()", () => {
      const chart = new LiveLineChart(["train", "valid"], { title: "loss" }, 60000);
      chart.push("train", 0, 2);
      chart.push("train", 1, 1);
      chart.push("valid", 1, 1.5);
      chart.done();
      assert.deepStrictEqual(chart.points.train, { x: [0, 1], y: [2, 1] });
      const last = specOf(k.sent[k.sent.length - 1].msg.data["text/html"] as string);
      assert.deepStrictEqual(
        last.data.map((d: any) => d.y),
        [[2, 1], [1.5]],
      );
      assert.strictEqual(chart.draws, 2);
      assert.throws(() => chart.push("test", 0, 1), /no line named 'test'; the lines are train, valid/);
    });
  });
});
