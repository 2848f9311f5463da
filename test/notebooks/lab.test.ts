// The course in the front ends it is made for, driven through their UI in headless Chromium: JupyterLab 4.6
// (00 and the training notebook 01: Run All, no error output, every figure drawn, exercise checks answering;
// every other notebook and solution: the outputs the notebook test executed (test-artifacts/), opened and trusted
// through the UI, every figure drawn there; a live chart and the toolbar's Interrupt; save, close and reopen; a
// notebook from elsewhere, untrusted; Restart Kernel and Run All twice; light and dark themes), then Notebook 7
// (00 and a training notebook). Both come from the .venv/ that `npm install` sets up, started through
// `npm start`'s own script. Screenshots go to test-artifacts/lab/ and test-artifacts/notebook7/.
//
// Each notebook is executed once for the outputs checks (the notebook test, twice in one kernel); this test runs
// in the UI only what the UI itself adds: a kernel driven by JupyterLab, live charts, Interrupt, Restart, saving.
import * as assert from "assert";
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from "fs";
import { join, basename } from "path";
import type { Browser, Page } from "playwright-core";
import { FIGURE_CLASS } from "attention-lib/internal";
import { ROOT } from "../helpers";
import {
  type App,
  type NotebookJSON,
  type OpenNotebook,
  type Server,
  checkLines,
  closeAll,
  closeNotebook,
  command,
  figuresIn,
  figuresInPage,
  launchBrowser,
  notebookJSON,
  openApp,
  openInApp,
  openNotebook,
  problemsIn,
  runAll,
  startJupyter,
  waitIdle,
} from "./frontend";

const NOTEBOOKS = join(ROOT, "notebooks");
const ipynbs = (dir: string) => readdirSync(dir).filter((f) => f.endsWith(".ipynb")).sort();
const ALL = [...ipynbs(NOTEBOOKS), ...ipynbs(join(NOTEBOOKS, "solutions")).map((f) => `solutions/${f}`)];
const TRAINING = "01-limits-of-rnn-encoder-decoders.ipynb";
const FIRST = "00-how-to-use-this-course.ipynb";
/** Run All through JupyterLab's UI: figures, a live chart, exercises and (01) live training. The rest are drawn from
 *  the notebook test's executed outputs, trusted through the UI. */
const UI_RUN = [FIRST, TRAINING];
const EXECUTED = join(ROOT, "test-artifacts");

/** User settings for the test's server: every cell attached to the page (JupyterLab 4 otherwise renders only the
 *  cells in view), and no news pop-up. */
const SETTINGS = {
  "@jupyterlab/notebook-extension:tracker": { windowingMode: "none" },
  "@jupyterlab/apputils-extension:notification": { fetchNews: "false", checkForUpdates: false },
};

/** A copy of notebooks/ (the browser saves outputs into what it opens), beside a link to data/; with `executed`,
 *  those notebooks are the notebook test's executed copies (test-artifacts/), outputs and all. */
function workingCopy(app: App, executed: string[] = []): { dir: string; shots: string } {
  const base = join(ROOT, "test-artifacts", app === "lab" ? "lab" : "notebook7");
  rmSync(base, { recursive: true, force: true });
  mkdirSync(base, { recursive: true });
  cpSync(NOTEBOOKS, join(base, "notebooks"), { recursive: true });
  symlinkSync(join(ROOT, "data"), join(base, "data")); // notebooks read ../data, solutions ../../data
  const missing = executed.filter((f) => !existsSync(join(EXECUTED, f)));
  assert.deepStrictEqual(missing, [], "the notebook test runs first and leaves the executed notebooks in test-artifacts/");
  for (const f of executed) cpSync(join(EXECUTED, f), join(base, "notebooks", f));
  return { dir: join(base, "notebooks"), shots: base };
}

/** A screenshot of the whole notebook: the viewport grown to the notebook's height, then put back. */
async function screenshot(page: Page, file: string): Promise<void> {
  const height = await page.evaluate(() => {
    const outer = document.querySelector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer") ?? document.querySelector(".jp-WindowedPanel-outer");
    return outer ? outer.scrollHeight + 200 : 900;
  });
  await page.setViewportSize({ width: 1280, height: Math.min(Math.max(height, 900), 16000) });
  await page.waitForTimeout(1000); // lumino lays the panels out again
  await page.evaluate(() => document.querySelectorAll(".jp-WindowedPanel-outer").forEach((o) => (o.scrollTop = 0)));
  await page.waitForTimeout(500);
  await page.screenshot({ path: file });
  await page.setViewportSize({ width: 1280, height: 900 });
}

/** What every Run All must show: no error or stderr output, every figure drawn, the checks' answers. The outputs are
 *  the open notebook's, or `saved` (a file's before it was opened: after Trust, JupyterLab 4.6's model, and the file
 *  it saves, can hold some outputs twice, e.g. 12 figures for 02's 8, while the page shows each once). */
async function assertRanClean(page: Page, file: string, consoleErrors: string[], saved?: NotebookJSON): Promise<void> {
  const nb = saved ?? (await notebookJSON(page));
  assert.deepStrictEqual(problemsIn(nb), [], `error outputs in ${file}`);
  const emitted = figuresIn(nb);
  if (!file.startsWith("solutions/")) assert.ok(emitted > 0, `${file} showed no figure`);
  const deadline = Date.now() + 30000;
  let seen = await figuresInPage(page);
  while (seen.drawn < emitted && Date.now() < deadline) {
    await page.waitForTimeout(250);
    seen = await figuresInPage(page);
  }
  assert.strictEqual(seen.divs, emitted, "figure boxes in the page vs figures in the outputs");
  assert.strictEqual(seen.drawn, emitted, `${seen.drawn} of ${emitted} figures drawn`);
  const checks = checkLines(nb);
  assert.deepStrictEqual(checks.wrong, [], "checks that said ✗");
  if (file.startsWith("solutions/")) assert.strictEqual(checks.right, checks.exercises, `${checks.right} ✓ for ${checks.exercises} exercises`);
  else assert.strictEqual(checks.unanswered, checks.exercises, `${checks.unanswered} 'not answered yet' for ${checks.exercises} exercises`);
  assert.deepStrictEqual(consoleErrors, [], "errors in the browser console");
}

/** Every figure of the open notebook legible in `theme`: an opaque background, and text in contrast with it. */
async function assertLegible(page: Page, theme: string): Promise<void> {
  assert.strictEqual(await page.evaluate(() => document.body.dataset.jpThemeName), theme, "the theme in use");
  const report = await page.evaluate((cls) => {
    const rgb = (c: string) => (c.match(/[\d.]+/g) ?? []).map(Number);
    const lum = (c: string) => {
      const [r, g, b] = rgb(c).map((v) => v / 255).map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
      return 0.2126 * r + 0.7152 * g + 0.0722 * b;
    };
    const contrast = (a: string, b: string) => (Math.max(lum(a), lum(b)) + 0.05) / (Math.min(lum(a), lum(b)) + 0.05);
    // The first .main-svg of a plot holds the paper (plotly paints paper_bgcolor on it), the next the hover layer.
    const boxes = [...(window as any).jupyterapp.shell.currentWidget.node.querySelectorAll(`.${cls} .svg-container`)] as Element[];
    return boxes.map((box) => {
      const svg = box.querySelector(".main-svg")!;
      const background = getComputedStyle(svg).backgroundColor;
      const texts = [...svg.querySelectorAll(".xtick text, .ytick text, .gtitle, .xtitle, .ytitle, .legendtext")];
      const worst = Math.min(...texts.map((t) => contrast(getComputedStyle(t).fill, background)));
      return { background, texts: texts.length, worst, alpha: rgb(background)[3] ?? 1 };
    });
  }, FIGURE_CLASS);
  assert.ok(report.length > 0, "figures to look at");
  for (const r of report) {
    assert.strictEqual(r.alpha, 1, `a figure's background is not opaque: ${r.background}`);
    assert.ok(r.texts > 0 && r.worst >= 4.5, `text contrast ${r.worst.toFixed(2)} on ${r.background} (WCAG AA asks 4.5)`);
  }
}

/** Notebook > Trust Notebook, confirmed in its dialog (outputs saved elsewhere run their scripts from then on). */
async function trust(page: Page): Promise<void> {
  const asked = command(page, "notebook:trust");
  await page.waitForSelector(".jp-Dialog .jp-mod-accept", { timeout: 10000 });
  await page.click(".jp-Dialog .jp-mod-accept");
  await asked;
}

/** The open notebook's cells, in the page (runs in the browser). */
declare function cellsOf(): NodeListOf<Element>;

/** Each distinct drawing of the figures in cell `index` (a live chart's redraws), counted as they appear. */
async function watchRedraws(page: Page, index: number): Promise<void> {
  await page.evaluate(
    ([i, cls]) => {
      const w = window as any;
      w.__redraws = new Set<string>();
      const look = () => {
        const cell = w.jupyterapp.shell.currentWidget?.node.querySelectorAll(".jp-Cell")[i as number];
        for (const path of cell?.querySelectorAll(`.${cls} .scatterlayer path.js-line`) ?? []) w.__redraws.add(path.getAttribute("d"));
      };
      clearInterval(w.__redrawTimer);
      w.__redrawTimer = setInterval(look, 100);
      w.cellsOf = () => w.jupyterapp.shell.currentWidget.node.querySelectorAll(".jp-Cell");
    },
    [index, FIGURE_CLASS] as const,
  );
}
const redraws = (page: Page) => page.evaluate(() => (window as any).__redraws.size as number);
const stopWatching = (page: Page) => page.evaluate(() => clearInterval((window as any).__redrawTimer));

/** Notebook 7.6.3 itself throws this on every page, whatever the kernel (seen with python3 too): its shortcuts
 *  plugin reads the schema of a settings plugin it was not given. Not the course's; every other error counts. */
const NOTEBOOK7_OWN_ERRORS = [/^uncaught: Cannot read properties of undefined \(reading 'schema'\)$/];

describe("JupyterLab 4.6 through its UI (the course's .venv/, started by npm start, headless Chromium)", function () {
  this.timeout(10 * 60 * 1000);
  let server: Server | undefined;
  let browser: Browser | undefined;
  let tab: OpenNotebook | undefined; // one browser tab, as a learner works: notebooks opened one after another
  let dir = "";
  let shots = "";
  let seen = 0; // console errors already reported

  before(async () => {
    ({ dir, shots } = workingCopy("lab", ALL.filter((f) => !UI_RUN.includes(f))));
    server = await startJupyter("lab", dir, SETTINGS);
    browser = await launchBrowser();
    tab = await openApp(browser, server, "course");
  });
  after(async () => {
    if (tab) await closeAll(tab.page).catch(() => undefined);
    await browser?.close();
    if (server) assert.strictEqual(await server.stop(), 0, `Ctrl-C: ${server.log.out.slice(-2000)}`);
  });
  /** The errors the console printed since the last call. */
  const newErrors = () => tab!.consoleErrors.slice(seen, (seen = tab!.consoleErrors.length));

  for (const file of ALL) {
    const checks = file.startsWith("solutions/") ? "✓" : "'not answered yet'";
    const shot = () => join(shots, `${basename(file, ".ipynb")}${file.startsWith("solutions/") ? "-solution" : ""}.png`);
    if (UI_RUN.includes(file)) {
      const light = file === FIRST ? ", figures legible in JupyterLab Light" : "";
      it(`${file}: Run All, no error output, every figure drawn, checks ${checks}${light}`, async () => {
        const { page } = tab!;
        await openInApp(page, file);
        const started = Date.now();
        await runAll(page);
        console.log(`      ${file}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
        await assertRanClean(page, file, newErrors());
        if (light) await assertLegible(page, "JupyterLab Light");
        await screenshot(page, shot());
      });
    } else {
      // Executed once, by the notebook test (twice in one kernel): here its outputs as JupyterLab draws them.
      it(`${file}: the notebook test's executed outputs, trusted through the UI: every figure drawn, no error output, checks ${checks}`, async () => {
        const { page } = tab!;
        const saved = JSON.parse(readFileSync(join(dir, file), "utf8")) as NotebookJSON; // before JupyterLab saves it again
        await openInApp(page, file);
        await trust(page);
        await assertRanClean(page, file, newErrors(), saved);
        await screenshot(page, shot());
      });
    }
  }

  it(`${TRAINING}: the live chart redraws while training runs; the toolbar's Interrupt ends it after a step, and the cell says so`, async () => {
    const { page } = tab!;
    await openInApp(page, TRAINING);
    const nb = await notebookJSON(page);
    const source = (c: { source: string | string[] }) => (Array.isArray(c.source) ? c.source.join("") : c.source);
    const index = nb.cells.findIndex((c) => source(c).includes("await trainer.run()"));
    const chart = nb.cells.findIndex((c) => source(c).includes("new LiveLineChart("));
    assert.ok(index > 0 && chart > 0, "the training cell, and the cell that shows its live chart");
    await watchRedraws(page, chart);
    await command(page, "notebook:run-all-cells", {}, true);
    await page.waitForFunction(() => (window as any).__redraws.size >= 3, null, { timeout: 120000 });
    // A real mouse click on the toolbar's ■ (page.click's actionability checks can wait for a busy page).
    const button = await page.locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-NotebookPanel-toolbar [data-command="notebook:interrupt-kernel"]').boundingBox();
    assert.ok(button, "the toolbar's Interrupt button");
    await page.mouse.click(button.x + button.width / 2, button.y + button.height / 2);
    const cellText = () => page.evaluate((i) => cellsOf()[i].querySelector(".jp-OutputArea")?.textContent ?? "", index);
    await page
      .waitForFunction((i) => /Interrupted after \d+ steps/.test(cellsOf()[i].querySelector(".jp-OutputArea")?.textContent ?? ""), index, { timeout: 20000 })
      .catch(async (e) => {
        throw new Error(`${e.message}\nthe cell shows: ${await cellText()}\nthe server said: ${server!.log.out.slice(-800)}`);
      });
    await waitIdle(page, 60000);
    const after = await redraws(page);
    const said = (await cellText()).match(/Interrupted after (\d+) steps \(([\d.]+) s\)/);
    assert.ok(said, "the cell says how many steps ran");
    assert.ok(Number(said![2]) < 29, `interrupted at ${said![2]} s, before the 30 s budget ran out`);
    await page.waitForTimeout(3000);
    assert.strictEqual(await redraws(page), after, "the chart stops changing: the loop ended");
    await stopWatching(page);
    console.log(`      interrupted after ${said![1]} steps (${said![2]} s), ${after} drawings of the live chart`);
    await screenshot(page, join(shots, "01-interrupted.png"));
    assert.deepStrictEqual(newErrors(), [], "errors in the browser console");
  });

  it(`${FIRST}: saved, closed and reopened, its figures draw (JupyterLab signed it); a copy from elsewhere shows the note until re-run`, async () => {
    const { page } = tab!;
    await openInApp(page, FIRST);
    await runAll(page);
    const figures = figuresIn(await notebookJSON(page));
    await command(page, "docmanager:save");
    await openInApp(page, FIRST); // closes every tab, then opens it again
    await page.waitForFunction((n) => (window as any).jupyterapp.shell.currentWidget.node.querySelectorAll(".attention-course-figure .main-svg").length >= (n as number), figures, { timeout: 30000 });
    assert.deepStrictEqual(await figuresInPage(page), { drawn: figures, divs: figures, notes: 0 }, "reopened after saving in this session");

    // The same outputs in a file saved elsewhere (an executed notebook mailed to a learner): not trusted.
    const model = await page.evaluate(() => (window as any).jupyterapp.shell.currentWidget.context.model.toJSON());
    writeFileSync(join(dir, "00-from-elsewhere.ipynb"), JSON.stringify({ ...model, metadata: { ...model.metadata, received: "by mail" } }));
    await openInApp(page, "00-from-elsewhere.ipynb");
    await page.waitForTimeout(1000);
    assert.deepStrictEqual(await figuresInPage(page), { drawn: 0, divs: figures, notes: figures }, "untrusted: every figure box says to run the notebook (or trust it)");
    await screenshot(page, join(shots, "00-untrusted.png"));
    await runAll(page);
    await page.waitForFunction((n) => (window as any).jupyterapp.shell.currentWidget.node.querySelectorAll(".attention-course-figure[data-drawn='true'] .main-svg").length >= (n as number), figures, { timeout: 30000 });
    assert.deepStrictEqual(await figuresInPage(page), { drawn: figures, divs: figures, notes: 0 }, "after a re-run");
    assert.deepStrictEqual(newErrors(), [], "errors in the browser console");
  });

  it(`${FIRST}: Kernel > Restart Kernel and Run All, twice in a row, in JupyterLab Dark: figures legible (screenshot)`, async () => {
    const { page } = tab!;
    await openInApp(page, FIRST, "JupyterLab Dark");
    await page.waitForFunction(() => document.body.dataset.jpThemeName === "JupyterLab Dark", null, { timeout: 30000 });
    for (const round of [1, 2]) {
      const asked = command(page, "notebook:restart-run-all");
      await page.waitForSelector(".jp-Dialog .jp-mod-accept", { timeout: 10000 });
      await page.click(".jp-Dialog .jp-mod-accept"); // "Restart"
      await asked;
      await page.waitForTimeout(500);
      await waitIdle(page, 120000);
      const nb = await notebookJSON(page);
      const counts = nb.cells.filter((c) => c.cell_type === "code").map((c) => c.execution_count);
      assert.deepStrictEqual(counts, counts.map((_, k) => k + 1), `round ${round}: a fresh kernel ran every cell once, in order`);
      await assertRanClean(page, FIRST, newErrors());
    }
    await assertLegible(page, "JupyterLab Dark");
    await screenshot(page, join(shots, "00-dark.png"));
  });
});

describe("Notebook 7 through its UI (the course's .venv/, started by npm start with ATTENTION_JUPYTER=notebook, headless Chromium)", function () {
  this.timeout(10 * 60 * 1000);
  let server: Server | undefined;
  let browser: Browser | undefined;
  let shots = "";

  before(async () => {
    const copy = workingCopy("notebook");
    shots = copy.shots;
    // Live training 10 s instead of a learner's 30 (the whole 30 s run is JupyterLab's, above): the suite's time.
    server = await startJupyter("notebook", copy.dir, SETTINGS, { ATTENTION_TRAIN_SECONDS: "10" });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    if (server) assert.strictEqual(await server.stop(), 0, `Ctrl-C: ${server.log.out.slice(-2000)}`);
  });

  for (const [i, file] of [FIRST, TRAINING].entries()) {
    it(`${file}: Run All, no error output, every figure drawn, checks 'not answered yet'`, async () => {
      const { page, consoleErrors } = await openNotebook(browser!, server!, file, `run${i}`); // Notebook 7: one browser tab per notebook
      try {
        const started = Date.now();
        await runAll(page);
        console.log(`      ${file}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
        await assertRanClean(page, file, consoleErrors.filter((e) => !NOTEBOOK7_OWN_ERRORS.some((re) => re.test(e))));
        await screenshot(page, join(shots, `${basename(file, ".ipynb")}.png`));
      } finally {
        await closeNotebook(page);
      }
    });
  }
});
