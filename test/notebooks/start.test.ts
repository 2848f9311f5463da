// `npm start` for real: the server comes up with the course kernel listed, notebook 00 runs in the
// browser (classic Notebook or JupyterLab UI, live and trusted), its figures draw, and Ctrl-C stops it.
import * as assert from "assert";
import { spawn, type ChildProcess } from "child_process";
import { cpSync, mkdirSync, rmSync, readFileSync, readdirSync } from "fs";
import { join } from "path";
import { chromium } from "playwright-core";
import { FIGURE_CLASS } from "attention-lib/internal";
import { ROOT, findChromium } from "../helpers";

const LIVE_DIR = join(ROOT, "test-artifacts", "live-notebooks"); // inside the project: imports resolve
const NOTEBOOK = "00-how-to-use-this-course.ipynb";

function waitFor(child: ChildProcess, re: RegExp, ms: number, seen: { out: string }): Promise<RegExpMatchArray> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re}; output:\n${seen.out.slice(-3000)}`)), ms);
    const check = () => {
      const m = seen.out.match(re);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout!.on("data", check);
    child.stderr!.on("data", check);
    check();
  });
}

describe("npm start", function () {
  this.timeout(5 * 60 * 1000);
  let child: ChildProcess | undefined;
  const seen = { out: "" };

  after(async () => {
    // If the test failed midway: SIGTERM lets start.mjs stop Jupyter (its own process group) before exiting.
    if (child && child.exitCode === null) {
      const gone = new Promise((r) => child!.once("exit", r));
      child.kill("SIGTERM");
      await Promise.race([gone, new Promise((r) => setTimeout(r, 15000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });

  it("serves the notebooks with the course kernel, runs notebook 00 in a browser, and stops on Ctrl-C", async () => {
    rmSync(LIVE_DIR, { recursive: true, force: true });
    mkdirSync(LIVE_DIR, { recursive: true });
    cpSync(join(ROOT, "notebooks", NOTEBOOK), join(LIVE_DIR, NOTEBOOK)); // the browser autosaves outputs
    const port = 20000 + Math.floor(Math.random() * 20000);
    child = spawn(process.execPath, [join(ROOT, "scripts", "start.mjs"), "--no-browser", `--port=${port}`, `--notebook-dir=${LIVE_DIR}`], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout!.on("data", (d) => (seen.out += d));
    child.stderr!.on("data", (d) => (seen.out += d));
    const [, url] = await waitFor(child, /Open the course at: (\S+)/, 60000, seen);
    const base = new URL(url);
    const token = base.searchParams.get("token") ?? "";

    const specs = (await (await fetch(`${base.origin}/api/kernelspecs?token=${token}`)).json()) as { kernelspecs: Record<string, unknown> };
    assert.ok("attention-course" in specs.kernelspecs, `kernelspecs: ${Object.keys(specs.kernelspecs).join(", ")}`);

    const browser = await chromium.launch({
      executablePath: findChromium(),
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const lab = /JupyterLab/.test(seen.out) && !/classic Jupyter Notebook/.test(seen.out);
      await page.goto(lab ? `${base.origin}/lab/tree/${NOTEBOOK}?token=${token}` : `${base.origin}/notebooks/${NOTEBOOK}?token=${token}`);
      if (lab) {
        await page.waitForSelector(".jp-Notebook", { timeout: 60000 });
        await page.waitForTimeout(3000);
        await page.keyboard.press("Control+Shift+Enter").catch(() => undefined);
        await page.evaluate(() => (window as any).jupyterapp?.commands.execute("notebook:run-all-cells"));
      } else {
        await page.waitForFunction(() => (window as any).Jupyter?.notebook?.kernel?.is_connected?.(), null, { timeout: 60000 });
        await page.evaluate(() => (window as any).Jupyter.notebook.execute_all_cells());
      }
      const nb = JSON.parse(readFileSync(join(LIVE_DIR, NOTEBOOK), "utf8"));
      const showCalls = nb.cells.filter((c: any) => c.cell_type === "code").map((c: any) => c.source.join(""))
        .reduce((n: number, s: string) => n + (s.match(/show\(|new LiveLineChart\(/g) ?? []).length, 0);
      await page.waitForFunction(
        ([n, cls]) => [...document.querySelectorAll(`.${cls}[data-drawn="true"]`)].filter((d) => d.querySelector(".main-svg")).length >= n,
        [showCalls, FIGURE_CLASS] as const,
        { timeout: 120000 },
      );
      if (!lab) {
        await page.waitForFunction(
          () => (window as any).Jupyter.notebook.get_cells().every((c: any) => c.cell_type !== "code" || typeof c.input_prompt_number === "number"),
          null,
          { timeout: 120000 },
        );
      }
      await page.screenshot({ path: join(ROOT, "test-artifacts", "npm-start-00.png"), fullPage: true });
      const drawn = await page.evaluate((cls) => document.querySelectorAll(`.${cls}[data-drawn="true"]`).length, FIGURE_CLASS);
      assert.strictEqual(drawn, showCalls);
    } finally {
      await browser.close();
    }

    const exited = new Promise<number | null>((resolve) => child!.on("exit", (code) => resolve(code)));
    child.kill("SIGINT"); // what Ctrl-C sends
    const code = await exited;
    assert.strictEqual(code, 0, seen.out.slice(-2000));
    assert.match(seen.out, /Jupyter stopped\./);
    await assert.rejects(fetch(`${base.origin}/api/status?token=${token}`), "the server is down");
  });

  /** Processes whose command line mentions `needle` (from /proc). */
  function processesWith(needle: string): string[] {
    return readdirSync("/proc").filter((d) => /^\d+$/.test(d)).flatMap((pid) => {
      try {
        const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
        return cmd.includes(needle) ? [cmd.trim()] : [];
      } catch {
        return [];
      }
    });
  }

  for (const [how, signal] of [["SIGTERM to `npm start` itself", "SIGTERM"], ["SIGHUP (the terminal closing) to `npm start`", "SIGHUP"]] as const) {
    it(`stops start.mjs and Jupyter together on ${how}`, async () => {
      const port = 20000 + Math.floor(Math.random() * 20000);
      const npm = spawn("npm", ["start", "--", "--no-browser", `--port=${port}`], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
      const out = { out: "" };
      npm.stdout!.on("data", (d) => (out.out += d));
      npm.stderr!.on("data", (d) => (out.out += d));
      try {
        const [, url] = await waitFor(npm, /Open the course at: (\S+)/, 60000, out);
        assert.ok(processesWith(`--port=${port}`).length >= 2, "start.mjs and Jupyter are running");
        npm.kill(signal);
        const deadline = Date.now() + 15000;
        while (processesWith(`--port=${port}`).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
        assert.deepStrictEqual(processesWith(`--port=${port}`), [], "nothing of the course is left running");
        await assert.rejects(fetch(`${new URL(url).origin}/api/status`), "the server is down");
      } finally {
        if (npm.exitCode === null) npm.kill("SIGKILL");
      }
    });
  }
});
