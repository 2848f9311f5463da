// Every notebook, executed headless through real Jupyter with the course's tslab kernel (twice in one
// kernel, as a learner re-running it would), then exported to HTML and opened in headless Chromium,
// where every figure must be drawn. Artifacts (executed notebooks, HTML, screenshots) go to test-artifacts/.
import * as assert from "assert";
import { spawnSync } from "child_process";
import { readdirSync, readFileSync, mkdirSync, cpSync } from "fs";
import { join, delimiter, basename } from "path";
import { chromium, type Browser } from "playwright-core";
import { FIGURE_CLASS } from "attention-lib/internal";
import { ROOT, findChromium, findPython } from "../helpers";
import { checkLines, type NotebookJSON } from "./frontend";

const NOTEBOOKS = join(ROOT, "notebooks");
const ARTIFACTS = join(ROOT, "test-artifacts");
const RUNNER = join(ROOT, "test", "notebooks", "run_notebook.py");

interface Summary {
  runs: { run: number; seconds: number; tensors: number | null; figures: number }[];
  problems: { run: number; cell: number | string; kind: string; text: string }[];
  figures: number;
}

const SOLUTIONS = join(NOTEBOOKS, "solutions");
const ipynbs = (dir: string) => readdirSync(dir).filter((f) => f.endsWith(".ipynb")).sort();
// Every notebook, then every solutions notebook (their artifacts go to test-artifacts/solutions/).
const notebooks = [
  ...ipynbs(NOTEBOOKS).map((f) => ({ file: join(NOTEBOOKS, f), artifacts: ARTIFACTS, solutions: false })),
  ...ipynbs(SOLUTIONS).map((f) => ({ file: join(SOLUTIONS, f), artifacts: join(ARTIFACTS, "solutions"), solutions: true })),
];

describe("notebooks: executed in Jupyter with the course kernel, drawn in Chromium", function () {
  this.timeout(15 * 60 * 1000);
  let python: string;
  let browser: Browser | undefined;

  before(async () => {
    python = findPython();
    mkdirSync(join(ARTIFACTS, "solutions"), { recursive: true });
    cpSync(join(NOTEBOOKS, "figures"), join(ARTIFACTS, "figures"), { recursive: true }); // the diagrams the HTML links to
    const k = spawnSync(process.execPath, [join(ROOT, "scripts", "kernel.mjs"), "install"], { encoding: "utf8" });
    assert.strictEqual(k.status, 0, `registering the kernel failed: ${k.stderr}`);
    browser = await chromium.launch({
      executablePath: findChromium(),
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    });
  });
  after(async () => browser?.close());

  it("there are notebooks to run, and notebooks 01-06 and 08 each have a solutions notebook", () => {
    assert.ok(notebooks.length > 0);
    const solved = ipynbs(SOLUTIONS);
    for (const f of ipynbs(NOTEBOOKS).filter((f) => /^0[1-68]-/.test(f))) assert.ok(solved.includes(f), `notebooks/solutions/${f} is missing`);
  });

  for (const { file, artifacts, solutions } of notebooks) {
    const name = basename(file, ".ipynb");
    describe(solutions ? `solutions/${name}` : name, () => {
      let summary: Summary | undefined;

      it("runs top to bottom twice in one kernel: no error, no stderr, no tensor growth", () => {
        // Live training cells run 5 s instead of 25-30 (twice per notebook): the suite's time, not the notebooks' behaviour.
        const env = {
          ...process.env,
          ATTENTION_TRAIN_SECONDS: "5",
          JUPYTER_PATH: [join(ROOT, ".jupyter"), process.env.JUPYTER_PATH].filter(Boolean).join(delimiter),
        };
        const r = spawnSync(python, [RUNNER, file, artifacts, "--runs", "2"], { env, encoding: "utf8", maxBuffer: 64 << 20 });
        assert.strictEqual(r.status, 0, `the notebook runner failed:\n${r.stderr.slice(-3000)}`);
        summary = JSON.parse(readFileSync(join(artifacts, `${name}.json`), "utf8")) as Summary;
        const problems = summary.problems.map((p) => `run ${p.run}, cell ${p.cell}, ${p.kind}: ${p.text.slice(0, 1500)}`);
        assert.deepStrictEqual(problems, [], `problems in ${file}`);
        assert.strictEqual(summary.runs.length, 2);
        const [first, second] = summary.runs;
        console.log(`      ${name}: run 1 ${first.seconds}s, run 2 ${second.seconds}s, tensors ${first.tensors} -> ${second.tensors}, figures ${summary.figures}`);
        assert.ok(first.tensors !== null && second.tensors !== null, "tensor count probe failed");
        assert.ok(second.tensors! <= first.tensors!, `tf.memory().numTensors grew from ${first.tensors} to ${second.tensors} on the second run`);
        assert.strictEqual(second.figures, first.figures, "both runs emit the same figures");
      });

      it(solutions ? "every exercise check prints ✓" : "every exercise check answers at once: 'not answered yet' for the placeholders", () => {
        const lines = checkLines(JSON.parse(readFileSync(join(artifacts, `${name}.ipynb`), "utf8")) as NotebookJSON);
        if (/^0[1-68]-/.test(name)) assert.ok(lines.exercises >= 2, `${name} has ${lines.exercises} exercises; notebooks 01-06 and 08 have at least 2`);
        assert.deepStrictEqual(lines.wrong, [], "checks that said ✗");
        if (solutions) {
          assert.ok(lines.exercises > 0, "a solutions notebook with no exercise heading");
          assert.strictEqual(lines.unanswered, 0, "a solution left a placeholder unanswered");
          assert.strictEqual(lines.right, lines.exercises, `${lines.right} ✓ for ${lines.exercises} exercises`);
        } else {
          assert.strictEqual(lines.right, 0, "a notebook answers its own exercise: the solutions belong in notebooks/solutions/");
          assert.strictEqual(lines.unanswered, lines.exercises, `${lines.unanswered} 'not answered yet' for ${lines.exercises} exercises`);
        }
      });

      it("carries plotly.js once (about 1.5 MB), however many figures", () => {
        const executed = readFileSync(join(artifacts, `${name}.ipynb`), "utf8");
        const copies = executed.split("data-plotly-version=").length - 1;
        assert.strictEqual(copies, 1, `plotly.js inlined ${copies} times`);
      });

      it("draws every figure in headless Chromium (nbconvert HTML, offline)", async () => {
        assert.ok(summary, "the notebook did not run");
        const page = await browser!.newPage({ viewport: { width: 1200, height: 900 } });
        const errors: string[] = [];
        page.on("pageerror", (e) => errors.push(e.message));
        await page.route(/^(?!file:)/, (route) => route.abort()); // offline: nothing from a CDN
        await page.goto(`file://${join(artifacts, `${name}.html`)}`);
        const expected = summary!.figures;
        const drawn = async () =>
          page.evaluate((cls) => [...document.querySelectorAll(`.${cls}[data-drawn="true"]`)].filter((d) => d.querySelector(".main-svg")).length, FIGURE_CLASS);
        const deadline = Date.now() + 30000;
        while ((await drawn()) < expected && Date.now() < deadline) await page.waitForTimeout(200);
        const count = await drawn();
        const divs = await page.evaluate((cls) => document.querySelectorAll(`.${cls}`).length, FIGURE_CLASS);
        await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
        await page.close();
        assert.deepStrictEqual(errors, [], "page errors");
        assert.strictEqual(divs, expected, `figure divs in the page vs figures emitted`);
        assert.strictEqual(count, expected, `${count} of ${expected} figures drawn (with a plotly SVG)`);
      });
    });
  }
});
