// The course in JupyterLab in the browser (npm run lite): build the static folder, serve it on localhost with
// `npm run lite -- --serve`, and in headless Chromium (no network beyond localhost) Run All of every notebook and
// solution with the browser kernel. Each is held to the tslab run of test/notebooks/notebooks.test.ts, which mocha
// runs first (test-artifacts/NAME.json and NAME.ipynb): the same figures, the same exercise-check answers, and for
// 03-06 the same printed text, cell by cell. Then Interrupt from the toolbar (a training cell, and a loop that never
// yields), Restart, and an edit saved, reloaded, then reset to the course's version.
import * as assert from "assert";
import { spawn, type ChildProcess } from "child_process";
import { existsSync, readdirSync, readFileSync } from "fs";
import { join, basename } from "path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { FIGURE_CLASS } from "attention-lib/internal";
import { ROOT } from "../helpers";
import { checkLines, launchBrowser, type NotebookJSON } from "./frontend";

const ARTIFACTS = join(ROOT, "test-artifacts");
const PORT = 20000 + Math.floor(Math.random() * 20000);
const ORIGIN = `http://127.0.0.1:${PORT}`;
const ipynbs = (dir: string) => readdirSync(join(ROOT, dir)).filter((f) => f.endsWith(".ipynb")).sort();
const NOTEBOOKS = [...ipynbs("notebooks").map((f) => `notebooks/${f}`), ...ipynbs("notebooks/solutions").map((f) => `notebooks/solutions/${f}`)];
/** Where notebooks.test.ts left its run of a notebook. */
const reference = (path: string) => join(ARTIFACTS, ...(path.includes("/solutions/") ? ["solutions"] : []), basename(path, ".ipynb"));
const text = (t: string | string[] | undefined) => (Array.isArray(t) ? t.join("") : (t ?? ""));
/** A cell's printed text, without the lines that hold a duration (they differ from run to run). */
const printed = (cell: NotebookJSON["cells"][number]) =>
  (cell.outputs ?? [])
    .filter((o) => o.output_type === "stream" && o.name === "stdout")
    .map((o) => text(o.text))
    .join("")
    .split("\n")
    .filter((l) => !/\d\s*(ms|s|seconds?)\b/.test(l))
    // The tslab run is the second run in its kernel: setup() says what it freed of the first.
    .map((l) => l.replace(/; freed \d+ tensors of an earlier run$/, ""))
    .join("\n")
    .trimEnd();

async function open(page: Page, path: string): Promise<void> {
  await page.evaluate(async (p) => {
    const app = (window as any).jupyterapp;
    const w = await app.commands.execute("docmanager:open", { path: p, factory: "Notebook", kernel: { name: "attention-course" } });
    await w.context.ready;
    await w.sessionContext.ready;
    app.shell.activateById(w.id);
    (window as any).__nb = w;
  }, path);
}

/** Run the given cells (all when null) and wait until none is queued or running and the kernel is idle. */
async function run(page: Page, cells: number[] | null, timeout: number): Promise<void> {
  await page.evaluate(async (which) => {
    const app = (window as any).jupyterapp;
    const w = (window as any).__nb;
    if (which === null) return void (await app.commands.execute("notebook:run-all-cells"));
    for (const i of which) {
      w.content.activeCellIndex = i;
      await app.commands.execute("notebook:run-cell");
    }
  }, cells);
  await waitIdle(page, timeout);
}

async function waitIdle(page: Page, timeout: number): Promise<void> {
  await page.waitForTimeout(300);
  await page.waitForFunction(
    () => {
      const w = (window as any).__nb;
      const cells = w.content.model.cells;
      for (let i = 0; i < cells.length; i++) if (cells.get(i).executionState === "running") return false;
      return w.sessionContext.session?.kernel?.status === "idle";
    },
    null,
    { timeout, polling: 250 },
  );
}

const model = (page: Page): Promise<NotebookJSON> => page.evaluate(() => (window as any).__nb.content.model.toJSON());

async function close(page: Page): Promise<void> {
  await page.evaluate(async () => {
    const w = (window as any).__nb;
    await w.sessionContext.shutdown();
    w.context.model.dirty = false;
    w.dispose();
  });
}

/** Click the toolbar's ■ (a real mouse click: the page may be busy). */
async function clickInterrupt(page: Page): Promise<void> {
  const box = await page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-NotebookPanel-toolbar [data-command="notebook:interrupt-kernel"]').boundingBox();
  assert.ok(box, "the toolbar's Interrupt button");
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
}

describe("the course in the browser (JupyterLite): npm run lite, every notebook in headless Chromium", function () {
  this.timeout(20 * 60 * 1000);
  let server: ChildProcess | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let page: Page;
  const problems: string[] = [];

  before(async () => {
    const t0 = Date.now();
    server = spawn(process.execPath, [join(ROOT, "browser", "build.mjs"), "--serve", "--port", String(PORT)], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    server.stdout!.on("data", (d) => (log += d));
    server.stderr!.on("data", (d) => (log += d));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`npm run lite did not serve within 5 minutes:\n${log.slice(-3000)}`)), 5 * 60 * 1000);
      server!.stdout!.on("data", () => log.includes("lite: serving") && (clearTimeout(timer), resolve()));
      server!.on("exit", (code) => reject(new Error(`npm run lite exited (${code}):\n${log.slice(-3000)}`)));
    });
    console.log(`      ${log.match(/lite: built .*/)?.[0]} (${((Date.now() - t0) / 1000).toFixed(1)} s with the install check)`);
    browser = await launchBrowser();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    // Nothing from the network: only the local server answers.
    await context.route(/.*/, (route) => (route.request().url().startsWith(ORIGIN) ? route.continue() : route.abort()));
    // Live training capped at 5 s, as the tslab test caps it (the kernel reads these settings when it starts).
    await context.addInitScript(() => localStorage.setItem("attention-course:env", JSON.stringify({ ATTENTION_TRAIN_SECONDS: "5" })));
    page = await context.newPage();
    page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    page.on("console", (m) => m.type() === "error" && problems.push(`console: ${m.text()}`));
    const t1 = Date.now();
    await page.goto(`${ORIGIN}/lab/index.html`);
    await page.waitForSelector("body[data-course-ready=true]", { state: "attached", timeout: 60000 });
    console.log(`      first page usable after ${((Date.now() - t1) / 1000).toFixed(1)} s; cross-origin isolated: ${await page.evaluate(() => self.crossOriginIsolated)}`);
  });

  after(async () => {
    await browser?.close();
    server?.kill();
  });

  it("serves the course's kernel under the notebooks' kernelspec name, cross-origin isolated", async () => {
    const specs = await page.evaluate(() => Object.keys((window as any).jupyterapp.serviceManager.kernelspecs.specs.kernelspecs));
    const name = (JSON.parse(readFileSync(join(ROOT, NOTEBOOKS[0]), "utf8")) as { metadata: { kernelspec: { name: string } } }).metadata.kernelspec.name;
    assert.deepStrictEqual(specs, [name]);
    assert.strictEqual(await page.evaluate(() => self.crossOriginIsolated), true, "npm run lite -- --serve sends COOP/COEP");
  });

  for (const path of NOTEBOOKS) {
    it(`${path}: Run All with no error; the tslab run's figures and exercise answers${/\/0[3-6]-/.test(path) ? ", and its printed text" : ""}`, async () => {
      const ref = reference(path);
      assert.ok(existsSync(`${ref}.json`), `${ref}.json is missing: test/notebooks/notebooks.test.ts (run before this file) writes it`);
      const tslab = JSON.parse(readFileSync(`${ref}.ipynb`, "utf8")) as NotebookJSON;
      const expectedFigures = (JSON.parse(readFileSync(`${ref}.json`, "utf8")) as { figures: number }).figures;
      const sources = (n: NotebookJSON) => n.cells.map((c) => text(c.source));
      const current = JSON.parse(readFileSync(join(ROOT, path), "utf8")) as NotebookJSON;
      assert.deepStrictEqual(sources(tslab), sources(current), `${ref}.ipynb was executed from another version of ${path}: run notebooks.test.ts first`);
      const t0 = Date.now();
      await open(page, path);
      try {
        await check(path, tslab, expectedFigures);
      } finally {
        await close(page).catch(() => {}); // (a failure above is the one to report)
      }
      console.log(`      ${basename(path)}: ${((Date.now() - t0) / 1000).toFixed(1)} s, ${expectedFigures} figures`);
    });
  }

  /** Run All in the open notebook and hold it to the tslab run. */
  async function check(path: string, tslab: NotebookJSON, expectedFigures: number): Promise<void> {
    await run(page, null, 5 * 60 * 1000);
      const nb = await model(page);
      const errors = nb.cells.flatMap((c, i) =>
        (c.outputs ?? []).filter((o) => o.output_type === "error" || o.name === "stderr").map((o) => `cell ${i}: ${o.ename ?? "stderr"}: ${o.evalue ?? text(o.text)}`),
      );
      assert.deepStrictEqual(errors, [], "error or stderr outputs");
      const notRun = nb.cells.filter((c) => c.cell_type === "code" && c.execution_count == null).length;
      assert.strictEqual(notRun, 0, "code cells that did not run");
      const emitted = nb.cells.flatMap((c) => c.outputs ?? []).filter((o) => String(o.data?.["text/html"] ?? "").includes(`class="${FIGURE_CLASS}"`)).length;
      assert.strictEqual(emitted, expectedFigures, "figures emitted, against the tslab run");
      const drawn = () => page.evaluate((cls) => document.querySelectorAll(`.jp-NotebookPanel:not(.lm-mod-hidden) .${cls}[data-drawn="true"]`).length, FIGURE_CLASS);
      await page.waitForFunction((args) => document.querySelectorAll(`.jp-NotebookPanel:not(.lm-mod-hidden) .${args[0]}[data-drawn="true"]`).length >= Number(args[1]), [FIGURE_CLASS, expectedFigures], { timeout: 30000 }).catch(() => {});
      assert.strictEqual(await drawn(), expectedFigures, "figures drawn by plotly.js in the page");
      const lite = checkLines(nb);
      const local = checkLines(tslab);
      assert.deepStrictEqual({ right: lite.right, wrong: lite.wrong, unanswered: lite.unanswered }, { right: local.right, wrong: local.wrong, unanswered: local.unanswered }, "exercise checks");
      if (/\/0[3-6]-/.test(path)) {
        const code = (n: NotebookJSON) => n.cells.filter((c) => c.cell_type === "code");
        const [a, b] = [code(nb), code(tslab)];
        assert.strictEqual(a.length, b.length);
        const differ = a.flatMap((c, i) => (printed(c) === printed(b[i]) ? [] : [`code cell ${i + 1}:\n${printed(c)}\n--- tslab printed:\n${printed(b[i])}`]));
        assert.deepStrictEqual(differ, [], "printed text that differs from the tslab run");
      }
  }

  it("Interrupt from the toolbar stops a training cell after its step and a loop that never yields; the kernel goes on; Restart clears it", async () => {
    const cells = [
      'import { setup, print, loadCorpus, buildVocabularies, encodeAll, Seq2Seq, Trainer } from "attention-lib";\nawait setup();\n' +
        'const corpus = loadCorpus("../data/corpus");\nconst vocabs = buildVocabularies(corpus.train);\n' +
        'const model = new Seq2Seq({ kind: "plain", srcVocab: vocabs.src.size, tgtVocab: vocabs.tgt.size, embedding: 16, hidden: 32, seed: 1 });\n' +
        "const trainer = new Trainer(model, encodeAll(corpus.train.slice(0, 2000), vocabs), { steps: 100000, reportEvery: 5 });",
      'const result = await trainer.run();\nprint("finished", result.steps);',
      'console.log("still here", 1 + 1);',
      "let spins = 0;\nwhile (true) spins++;",
      "console.log(typeof trainer);",
      "const fine = 1;\nconst broken = (null as any).field;",
    ];
    const nb = { nbformat: 4, nbformat_minor: 5, metadata: { kernelspec: { name: "attention-course", display_name: "TypeScript (attention course)", language: "typescript" } } };
    const content = { ...nb, cells: cells.map((source) => ({ cell_type: "code", source, metadata: {}, outputs: [], execution_count: null })) };
    await page.evaluate((c) => (window as any).jupyterapp.serviceManager.contents.save("notebooks/interrupt-check.ipynb", { type: "notebook", format: "json", content: c }), content);
    await open(page, "notebooks/interrupt-check.ipynb");
    await run(page, [0], 120000);
    const out = async (i: number) => (await model(page)).cells[i].outputs ?? [];
    const said = async (i: number) => (await out(i)).map((o) => text(o.text) + (o.ename ? `${o.ename}: ${o.evalue}` : "")).join("");
    assert.match(await said(0), /^tfjs [\d.]+, backend: wasm \(SIMD\)\n$/, "setup() says which backend it picked, and nothing else is printed");
    // The training cell: stopped by the toolbar's Interrupt after a second (its cap is 5 s).
    await page.evaluate(async () => {
      const w = (window as any).__nb;
      w.content.activeCellIndex = 1;
      void (window as any).jupyterapp.commands.execute("notebook:run-cell");
    });
    await page.waitForTimeout(1500);
    const t0 = Date.now();
    await clickInterrupt(page);
    await waitIdle(page, 20000);
    const stopped = (Date.now() - t0) / 1000;
    const training = await said(1);
    assert.match(training, /Interrupted after \d+ steps/);
    assert.match(training, /KeyboardInterrupt/);
    assert.doesNotMatch(training, /finished/);
    await run(page, [2], 20000);
    assert.match(await said(2), /still here 2/);
    // A loop that never yields: only the shared flag of an isolated page reaches it.
    await page.evaluate(async () => {
      (window as any).__nb.content.activeCellIndex = 3;
      void (window as any).jupyterapp.commands.execute("notebook:run-cell");
    });
    await page.waitForTimeout(1500);
    await clickInterrupt(page);
    await waitIdle(page, 20000);
    assert.match(await said(3), /KeyboardInterrupt/);
    await run(page, [4], 20000);
    assert.match(await said(4), /^object/, "the kernel kept its state through both interrupts");
    await page.evaluate(() => (window as any).__nb.sessionContext.restartKernel());
    await page.waitForFunction(() => (window as any).__nb.sessionContext.session?.kernel?.status === "idle", null, { timeout: 30000 });
    await run(page, [4], 30000);
    const fresh = await said(4);
    assert.match(fresh, /^undefined/, `Restart starts a fresh kernel (the cell printed: ${fresh})`);
    await run(page, [2], 20000);
    assert.match(await said(2), /still here 2/);
    await run(page, [5], 20000);
    const error = (await out(5)).find((o) => o.output_type === "error") as { ename?: string; traceback?: string[] } | undefined;
    assert.strictEqual(error?.ename, "TypeError");
    assert.match((error?.traceback ?? []).join("\n"), /at line 2 of this cell/, "a run-time error names the cell's line");
    await close(page);
    console.log(`      training interrupted ${stopped.toFixed(1)} s after the click: ${training.match(/Interrupted after \d+ steps \([\d.]+ s\)/)?.[0]}`);
  });

  it("an edit is kept in the browser across a reload; Download gives the edited notebook; Reset brings the course's version back", async () => {
    const path = "notebooks/00-how-to-use-this-course.ipynb";
    const original = JSON.parse(readFileSync(join(ROOT, path), "utf8")) as NotebookJSON;
    const mark = "An edit made by the browser test.";
    await open(page, path);
    await page.evaluate(async (m) => {
      const w = (window as any).__nb;
      const cell = w.content.model.sharedModel.cells[0];
      cell.setSource(cell.getSource() + "\n\n" + m);
      await w.context.save();
    }, mark);
    const download = page.waitForEvent("download", { timeout: 20000 });
    await page.evaluate(() => (window as any).jupyterapp.commands.execute("docmanager:download"));
    const file = await (await download).path();
    assert.ok(readFileSync(file, "utf8").includes(mark), "the downloaded notebook holds the edit");
    await page.reload();
    await page.waitForSelector("body[data-course-ready=true]", { state: "attached", timeout: 60000 });
    await open(page, path);
    assert.ok(text((await model(page)).cells[0].source).endsWith(mark), "the edit survived the reload");
    await page.evaluate(() => (window as any).jupyterapp.commands.execute("attention-course:reset-notebook", { force: true }));
    await page.waitForFunction(
      (m) => {
        const app = (window as any).jupyterapp;
        const w = app.shell.currentWidget;
        if (!w?.content?.model || w === (window as any).__nb || !w.context.isReady) return false;
        const first = w.content.model.sharedModel.cells[0]?.getSource() ?? "";
        if (first === "" || first.includes(m)) return false;
        (window as any).__nb = w;
        return true;
      },
      mark,
      { timeout: 30000 },
    );
    const reset = await model(page);
    assert.strictEqual(text(reset.cells[0].source), text(original.cells[0].source), "the course's version is back");
    await page.evaluate(() => (window as any).__nb.sessionContext.ready);
    await close(page);
    assert.deepStrictEqual(
      problems.filter((p) => !/Failed to load resource/.test(p)),
      [],
      "errors in the page",
    );
  });
});
