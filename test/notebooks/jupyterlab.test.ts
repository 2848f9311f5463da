// JupyterLab cannot be installed here, but its output renderers can: every executed notebook's outputs
// (from the notebook test, in test-artifacts/) are rendered by @jupyterlab/rendermime + @jupyterlab/outputarea
// 4.x in headless Chromium, without a plotly extension and with jupyterlab-plotly's MIME renderer. Every
// figure must draw in both; a live chart must redraw on update_display_data in both; a notebook saved
// there must not grow (no PNG per figure); untrusted outputs must say how to see the figure.
import * as assert from "assert";
import { existsSync, readdirSync, readFileSync, mkdirSync } from "fs";
import { join, basename } from "path";
import { build } from "esbuild";
import { chromium, type Browser, type Page } from "playwright-core";
import { lineChart } from "attention-lib";
import { FIGURE_CLASS, figureBundle, plotlyScriptHtml } from "attention-lib/internal";
import { ROOT, findChromium } from "../helpers";

const ARTIFACTS = join(ROOT, "test-artifacts");
const BUNDLE = join(ROOT, "build", "jupyterlab-harness.js");
const MODES = [
  { name: "JupyterLab", plotly: false },
  { name: "JupyterLab + jupyterlab-plotly", plotly: true },
] as const;

type Output = { output_type: string; data?: Record<string, unknown>; [k: string]: unknown };

/** A notebook's code-cell outputs as the Jupyter server hands them to JupyterLab: multi-line strings joined. */
function cellOutputs(file: string): Output[][] {
  const join1 = (v: unknown) => (Array.isArray(v) ? v.join("") : v);
  const nb = JSON.parse(readFileSync(file, "utf8")) as { cells: { cell_type: string; outputs?: Output[] }[] };
  return nb.cells.filter((c) => c.cell_type === "code").map((c) =>
    (c.outputs ?? []).map((o) => ({
      ...o,
      ...(o.text !== undefined ? { text: join1(o.text) } : {}),
      ...(o.data ? { data: Object.fromEntries(Object.entries(o.data).map(([k, v]) => [k, k.endsWith("json") ? v : join1(v)])) } : {}),
    })),
  );
}

async function page(browser: Browser): Promise<Page> {
  const p = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  await p.setContent("<!doctype html><html><body></body></html>");
  await p.addScriptTag({ path: BUNDLE });
  return p;
}

/** Figures drawn: the course's divs drawn by their script, and graphs drawn by jupyterlab-plotly. */
const drawnCount = (cls: string) =>
  [...document.querySelectorAll(`.${cls}[data-drawn="true"]`)].filter((d) => d.querySelector(".main-svg")).length +
  [...document.querySelectorAll(".jp-RenderedPlotly")].filter((d) => d.querySelector(".main-svg")).length;

describe("JupyterLab's own renderer (rendermime + outputarea 4.x) draws the course's outputs", function () {
  this.timeout(10 * 60 * 1000);
  let browser: Browser | undefined;

  before(async () => {
    await build({
      entryPoints: [join(ROOT, "test", "jupyterlab", "harness.ts")],
      bundle: true,
      format: "iife",
      outfile: BUNDLE,
      loader: { ".css": "empty", ".svg": "text" },
      // The extension's plotly.js (its own copy, 2.35), and one copy of lumino for both packages.
      alias: {
        "plotly.js/dist/plotly": join(ROOT, "node_modules", "jupyterlab-plotly", "node_modules", "plotly.js", "plotly.min.js"),
        "@lumino/widgets": join(ROOT, "node_modules", "@lumino", "widgets"),
        "@lumino/messaging": join(ROOT, "node_modules", "@lumino", "messaging"),
      },
      define: { "process.env.NODE_ENV": '"production"' },
      logLevel: "error",
    });
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({ executablePath: findChromium(), args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"] });
  });
  after(async () => browser?.close());

  it("has the executed notebooks of the notebook test to render", () => {
    // Read when the test runs: the notebook test, earlier in the same mocha run, writes them.
    const executed = existsSync(ARTIFACTS) ? readdirSync(ARTIFACTS).filter((f) => /^\d\d-.*\.ipynb$/.test(f)).sort() : [];
    assert.ok(executed.length >= 7, `executed notebooks in test-artifacts/: ${executed.join(", ") || "none (run the notebook test first)"}`);
  });

  for (const mode of MODES) {
    describe(mode.name, () => {
      for (const file of readdirSync(join(ROOT, "notebooks")).filter((f) => f.endsWith(".ipynb")).sort()) {
        const name = basename(file, ".ipynb");
        it(`${name}: every figure draws, as HTML, and saving adds nothing`, async () => {
          const cells = cellOutputs(join(ARTIFACTS, file));
          const expected = cells.flat().filter((o) => String(o.data?.["text/html"] ?? "").includes(`class="${FIGURE_CLASS}"`)).length;
          const p = await page(browser!);
          try {
            const result = await p.evaluate(([c, plotly]) => (window as any).renderCells(c, { plotly, trusted: true }), [cells, mode.plotly] as const);
            await p.waitForFunction(([fn, cls, n]) => new Function("cls", `return (${fn})(cls)`)(cls) >= n, [drawnCount.toString(), FIGURE_CLASS, expected] as const, { timeout: 60000 }).catch(() => undefined);
            const drawn = await p.evaluate(([fn, cls]) => new Function("cls", `return (${fn})(cls)`)(cls), [drawnCount.toString(), FIGURE_CLASS] as const);
            await p.screenshot({ path: join(ARTIFACTS, `jupyterlab${mode.plotly ? "-plotly" : ""}-${name}.png`), fullPage: true });
            assert.strictEqual(drawn, expected, `${drawn} of ${expected} figures drawn`);
            const mimes = (result.mimes as string[][]).flat();
            assert.ok(!mimes.includes("application/vnd.plotly.v1+json"), "figures render as the course's HTML");
            await p.waitForTimeout(500); // jupyterlab-plotly stores its PNG a moment after drawing
            const saved = await p.evaluate(() => (window as any).savedBytes());
            assert.strictEqual(saved, result.loadedBytes, `saved outputs ${saved} bytes, loaded ${result.loadedBytes}: nothing (no PNG) added`);
          } finally {
            await p.close();
          }
        });
      }

      it("a live chart redraws on update_display_data", async () => {
        const id = "fig-live";
        const frame = (n: number) => ({
          output_type: "display_data",
          metadata: {},
          data: figureBundle(lineChart([{ name: "loss", y: Array.from({ length: n }, (_, i) => 1 / (i + 1)) }]), { id }),
          transient: { display_id: "live" },
        });
        const p = await page(browser!);
        try {
          const first = frame(2);
          first.data["text/html"] = plotlyScriptHtml() + String(first.data["text/html"]); // the library arrives first
          await p.evaluate(([c, plotly]) => (window as any).renderCells(c, { plotly, trusted: true }), [[[first]], mode.plotly] as const);
          const points = () => p.evaluate((i) => (document.getElementById(i) as any)?.data?.[0]?.y?.length ?? 0, id);
          await p.waitForFunction((i) => (document.getElementById(i) as any)?.data?.[0]?.y?.length === 2, id, { timeout: 30000 });
          for (const n of [5, 9]) {
            await p.evaluate(([o]) => (window as any).updateOutput(0, 0, o), [frame(n)] as const);
            await p.waitForFunction(([i, k]) => (document.getElementById(i as string) as any)?.data?.[0]?.y?.length === k, [id, n] as const, { timeout: 30000 }).catch(() => undefined);
            assert.strictEqual(await points(), n, `after the update to ${n} points`);
          }
        } finally {
          await p.close();
        }
      });
    });
  }

  it("untrusted outputs (a notebook opened from disk) say how to see each figure instead of a blank box", async () => {
    const cells = cellOutputs(join(ARTIFACTS, "00-how-to-use-this-course.ipynb"));
    const p = await page(browser!);
    try {
      await p.evaluate(([c]) => (window as any).renderCells(c, { plotly: true, trusted: false }), [cells] as const);
      await p.waitForTimeout(1000);
      const boxes = await p.evaluate((cls) => [...document.querySelectorAll(`.${cls}-note`)].map((n) => (n as HTMLElement).innerText), FIGURE_CLASS);
      const expected = cells.flat().filter((o) => String(o.data?.["text/html"] ?? "").includes(`class="${FIGURE_CLASS}"`)).length;
      await p.screenshot({ path: join(ARTIFACTS, "jupyterlab-untrusted-00.png"), fullPage: true });
      assert.strictEqual(boxes.length, expected, "every figure's box shows the note");
      assert.ok(boxes.every((t) => /run the notebook \(or trust it\) to see it/.test(t)), boxes[0]);
      assert.strictEqual(await p.evaluate((cls) => document.querySelectorAll(`.${cls}[data-drawn="true"]`).length, FIGURE_CLASS), 0, "no script ran");
    } finally {
      await p.close();
    }
  });
});
