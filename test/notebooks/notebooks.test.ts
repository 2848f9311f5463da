// Every notebook, executed headless through real Jupyter with the course's tslab kernel (twice in one
// kernel, as a learner re-running it would), then exported to HTML and opened in headless Chromium,
// where every figure must be drawn. Artifacts (executed notebooks, HTML, screenshots) go to test-artifacts/:
// the site and slides (publish.test.ts) and JupyterLab's drawing of the outputs (lab.test.ts) reuse them.
import * as assert from "assert";
import { spawn, spawnSync } from "child_process";
import { readdirSync, readFileSync, mkdirSync, cpSync } from "fs";
import { availableParallelism } from "os";
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
/**
 * Notebooks run once, not twice. The second run catches what a re-run meets from the first (models, optimizers,
 * trainers, live charts, tensors held in top-level variables) and, through the tensor count, any cell that leaks.
 * 07's cells each build, time and free their own modules and tensors (nothing passes from one cell to the next but
 * a timing helper), and its second run would repeat a minute of timing sweeps; the modules it times are checked
 * for leaks by the unit tests (efficient.test.ts).
 */
const RUN_ONCE = new Set(["07-efficient-attention"]);
const runsOf = (name: string, solutions: boolean) => (RUN_ONCE.has(name) && !solutions ? 1 : 2);
const ipynbs = (dir: string) => readdirSync(dir).filter((f) => f.endsWith(".ipynb")).sort();
// Every notebook, then every solutions notebook (their artifacts go to test-artifacts/solutions/).
const notebooks = [
  ...ipynbs(NOTEBOOKS).map((f) => ({ file: join(NOTEBOOKS, f), artifacts: ARTIFACTS, solutions: false })),
  ...ipynbs(SOLUTIONS).map((f) => ({ file: join(SOLUTIONS, f), artifacts: join(ARTIFACTS, "solutions"), solutions: true })),
];

/**
 * Kernels at work at once. The notebooks' cells run on one core each (tfjs wasm is single-threaded in Node), so on 2
 * cores two notebooks run in about the time of one. ATTENTION_TEST_JOBS sets it (1: one after another).
 */
const JOBS = Math.max(1, Math.floor(Number(process.env.ATTENTION_TEST_JOBS)) || Math.min(2, availableParallelism()));

interface Run {
  status: number | null;
  stderr: string;
}

/**
 * The notebooks' runs, JOBS at a time in the tests' order: a notebook's test asks for its own run (`runOf`), which
 * also starts the next ones while its checks go on; a run that no test asks for (mocha --grep) is never started,
 * beyond the few just ahead.
 */
class Runs {
  private readonly runs = notebooks.map(() => {
    let resolve!: (r: Run) => void;
    const promise = new Promise<Run>((r) => (resolve = r));
    return { promise, resolve, started: false };
  });
  private running = 0;
  private next = 0;
  private cursor = 0;
  constructor(private readonly start: (k: number) => Promise<Run>) {}

  runOf(k: number): Promise<Run> {
    this.cursor = k;
    if (!this.runs[k].started && this.next < k) this.next = k; // tests left out by --grep: not their runs
    this.fill();
    return this.runs[k].promise;
  }

  /** Every run started so far, ended. */
  async settled(): Promise<void> {
    await Promise.all(this.runs.filter((r) => r.started).map((r) => r.promise));
  }

  private fill(): void {
    const ahead = JOBS > 1 ? JOBS : 0;
    while (this.running < JOBS && this.next < notebooks.length && this.next <= this.cursor + ahead) {
      const k = this.next++;
      this.runs[k].started = true;
      this.running++;
      void this.start(k).then((r) => {
        this.running--;
        this.runs[k].resolve(r);
        this.fill();
      });
    }
  }
}

describe("notebooks: executed in Jupyter with the course kernel, drawn in Chromium", function () {
  this.timeout(15 * 60 * 1000);
  let python: string;
  let browser: Browser | undefined;
  // Live training cells run 5 s instead of 25-30 (twice per notebook): the suite's time, not the notebooks' behaviour.
  const env = () => ({
    ...process.env,
    ATTENTION_TRAIN_SECONDS: "5",
    JUPYTER_PATH: [join(ROOT, ".jupyter"), process.env.JUPYTER_PATH].filter(Boolean).join(delimiter),
  });
  const runs = new Runs(
    (k) =>
      new Promise<Run>((resolve) => {
        const { file, artifacts, solutions } = notebooks[k];
        const child = spawn(python, [RUNNER, file, artifacts, "--runs", String(runsOf(basename(file, ".ipynb"), solutions))], { env: env(), stdio: ["ignore", "ignore", "pipe"] });
        let stderr = "";
        child.stderr.on("data", (d) => (stderr = (stderr + d).slice(-20000)));
        child.on("error", (e) => resolve({ status: null, stderr: `${stderr}\n${e.message}` }));
        child.on("close", (status) => resolve({ status, stderr }));
      }),
  );

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
  after(async () => {
    await browser?.close();
    await runs.settled(); // runs started ahead for tests that --grep left out: no kernel left behind
  });

  it("there are notebooks to run, and notebooks 01-06 and 08 each have a solutions notebook", () => {
    assert.ok(notebooks.length > 0);
    const solved = ipynbs(SOLUTIONS);
    for (const f of ipynbs(NOTEBOOKS).filter((f) => /^0[1-68]-/.test(f))) assert.ok(solved.includes(f), `notebooks/solutions/${f} is missing`);
  });

  for (const [k, { file, artifacts, solutions }] of notebooks.entries()) {
    const name = basename(file, ".ipynb");
    describe(solutions ? `solutions/${name}` : name, () => {
      let summary: Summary | undefined;

      const count = runsOf(name, solutions);
      it(count === 2 ? "runs top to bottom twice in one kernel: no error, no stderr, no tensor growth" : "runs top to bottom: no error, no stderr", async () => {
        const r = await runs.runOf(k);
        assert.strictEqual(r.status, 0, `the notebook runner failed:\n${r.stderr.slice(-3000)}`);
        summary = JSON.parse(readFileSync(join(artifacts, `${name}.json`), "utf8")) as Summary;
        const problems = summary.problems.map((p) => `run ${p.run}, cell ${p.cell}, ${p.kind}: ${p.text.slice(0, 1500)}`);
        assert.deepStrictEqual(problems, [], `problems in ${file}`);
        assert.strictEqual(summary.runs.length, count);
        const [first, second] = summary.runs;
        if (!second) {
          console.log(`      ${name}: run 1 ${first.seconds}s, tensors ${first.tensors}, figures ${summary.figures}`);
          assert.ok(first.tensors !== null, "tensor count probe failed");
          return;
        }
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
