// `npm start` for real: the server comes up with the course kernel listed, notebook 00 runs in JupyterLab
// in a browser (live and trusted), its figures draw, and Ctrl-C stops it; SIGTERM and SIGHUP stop it too.
// And a fresh clone on a machine with no Jupyter on PATH: `npm install`, then `npm start` serves JupyterLab.
import * as assert from "assert";
import { spawn, spawnSync, type ChildProcess } from "child_process";
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, readFileSync, readdirSync, statfsSync, symlinkSync } from "fs";
import { tmpdir } from "os";
import { delimiter, dirname, join } from "path";
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
    child = spawn(process.execPath, [join(ROOT, "scripts", "start.mjs"), "--no-browser", `--port=${port}`, `--notebook-dir=${LIVE_DIR}`, "--LabApp.expose_app_in_browser=True"], {
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
      assert.match(seen.out, /Starting JupyterLab/, "npm start opens JupyterLab by default");
      await page.goto(`${base.origin}/lab/tree/${NOTEBOOK}?token=${token}`);
      await page.waitForSelector(".jp-Notebook", { timeout: 60000 });
      await page.waitForFunction(() => (window as any).jupyterapp?.shell?.currentWidget?.sessionContext?.session?.kernel?.status === "idle", null, { timeout: 90000 });
      await page.evaluate(() => void (window as any).jupyterapp.commands.execute("notebook:run-all-cells"));
      const nb = JSON.parse(readFileSync(join(LIVE_DIR, NOTEBOOK), "utf8"));
      const showCalls = nb.cells.filter((c: any) => c.cell_type === "code").map((c: any) => c.source.join(""))
        .reduce((n: number, s: string) => n + (s.match(/show\(|new LiveLineChart\(/g) ?? []).length, 0);
      await page.waitForFunction(
        ([n, cls]) => [...document.querySelectorAll(`.${cls}[data-drawn="true"]`)].filter((d) => d.querySelector(".main-svg")).length >= n,
        [showCalls, FIGURE_CLASS] as const,
        { timeout: 120000 },
      );
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

/**
 * Where to put the fresh clone: /dev/shm when it is RAM with room to spare and allows programs, else the system's
 * temporary folder. The clone's npm install writes ~0.8 GB in ~40,000 files, and removing them takes minutes on a
 * slow disk (84 s for .venv/ alone on the CI machine).
 */
function scratchDir(): string {
  try {
    const mount = readFileSync("/proc/mounts", "utf8").split("\n").find((l) => l.split(" ")[1] === "/dev/shm");
    const free = statfsSync("/dev/shm");
    if (mount && !/\bnoexec\b/.test(mount) && free.bavail * free.bsize > 4 * 2 ** 30) return "/dev/shm";
  } catch {
    // no /dev/shm (macOS, Windows)
  }
  return tmpdir();
}

/**
 * `path` with no `jupyter*` command on it: each folder that holds one is replaced by a folder in `into` of links to
 * everything else it holds, so the other commands of that folder stay where PATH puts them.
 */
function pathWithoutJupyter(path: string, into: string): string {
  return path
    .split(delimiter)
    .map((dir, i) => {
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        return dir; // missing or unreadable: nothing on it to hide
      }
      if (!names.some((n) => n.startsWith("jupyter"))) return dir;
      const view = join(into, String(i));
      mkdirSync(view);
      for (const n of names) if (!n.startsWith("jupyter")) symlinkSync(join(dir, n), join(view, n));
      return view;
    })
    .join(delimiter);
}

describe("a fresh clone on a machine with no Jupyter on PATH: npm install, then npm start", function () {
  this.timeout(15 * 60 * 1000);
  let clone = "";
  let views = "";
  let server: ChildProcess | undefined;
  after(async () => {
    if (server && server.exitCode === null) {
      server.kill("SIGINT");
      await new Promise((r) => setTimeout(r, 5000));
      if (server.exitCode === null) server.kill("SIGKILL");
    }
    if (clone) rmSync(clone, { recursive: true, force: true });
    if (views) rmSync(views, { recursive: true, force: true });
  });

  it("npm install sets up JupyterLab in .venv/ with the course's kernel, and npm start serves it", async () => {
    // The project's files as git sees them (committed or new, never ignored: no node_modules, no .venv).
    const files = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: ROOT, encoding: "utf8" });
    assert.strictEqual(files.status, 0, files.stderr);
    clone = mkdtempSync(join(scratchDir(), "attention-fresh-"));
    for (const f of files.stdout.split("\0").filter((f) => f && existsSync(join(ROOT, f)))) {
      mkdirSync(dirname(join(clone, f)), { recursive: true });
      copyFileSync(join(ROOT, f), join(clone, f));
    }
    // The same PATH with only the `jupyter` commands hidden: node, npm and python3 (it builds the venv) stay, even
    // where they share a folder with Jupyter (Debian's jupyter-core puts it in /usr/bin, beside node).
    views = mkdtempSync(join(tmpdir(), "attention-path-"));
    const env = { ...process.env, PATH: pathWithoutJupyter(process.env.PATH ?? "", views), JUPYTER_PATH: "", ATTENTION_SKIP_JUPYTER: "" };
    assert.notStrictEqual(spawnSync("jupyter", ["--version"], { env }).status, 0, "no jupyter on the test's PATH");
    for (const tool of ["node", "npm"]) assert.strictEqual(spawnSync(tool, ["--version"], { env }).status, 0, `${tool} is still on the test's PATH`);

    const installStarted = Date.now();
    const install = spawnSync("npm", ["install", "--no-audit", "--prefer-offline"], { cwd: clone, env, encoding: "utf8", timeout: 12 * 60 * 1000 });
    const installSeconds = Math.round((Date.now() - installStarted) / 1000);
    const said = `${install.stdout}\n${install.stderr}`;
    assert.strictEqual(install.status, 0, said.slice(-3000));
    for (const stage of ["[jupyter 1/3]", "[jupyter 2/3]", "[jupyter 3/3]"]) assert.ok(said.includes(stage), `npm install said ${stage}:\n${said.slice(-2000)}`);
    assert.match(said, /JupyterLab 4\.6\.\d+ is ready in \.venv\//);
    assert.ok(existsSync(join(clone, ".venv", "share", "jupyter", "kernels", "attention-course", "kernel.json")), "the kernel is registered in .venv/");

    const port = 20000 + Math.floor(Math.random() * 20000);
    server = spawn("npm", ["start", "--", "--no-browser", `--port=${port}`], { cwd: clone, env, stdio: ["ignore", "pipe", "pipe"] });
    const seen = { out: "" };
    server.stdout!.on("data", (d) => (seen.out += d));
    server.stderr!.on("data", (d) => (seen.out += d));
    const [, url] = await waitFor(server, /Open the course at: (\S+)/, 90000, seen);
    assert.match(seen.out, /Starting JupyterLab/);
    const base = new URL(url);
    const token = base.searchParams.get("token") ?? "";
    assert.ok(token.length > 0, "the address carries its token");
    // The address is printed as the server starts; give it a few seconds to answer (a loaded machine is slow).
    for (let t = Date.now(); Date.now() - t < 20000; await new Promise((r) => setTimeout(r, 250))) {
      if (await fetch(`${base.origin}/api/status?token=${token}`).then((r) => r.ok, () => false)) break;
    }
    const specs = (await (
      await fetch(`${base.origin}/api/kernelspecs?token=${token}`).catch((e) => {
        throw new Error(`${e.message} (${e.cause?.message}); npm start said:\n${seen.out.slice(-3000)}`);
      })
    ).json()) as { kernelspecs: Record<string, { resource_dir?: string }> };
    assert.ok("attention-course" in specs.kernelspecs, `kernelspecs: ${Object.keys(specs.kernelspecs).join(", ")}`);
    const lab = await fetch(`${base.origin}/lab?token=${token}`);
    assert.strictEqual(lab.status, 200);
    assert.match(await lab.text(), /JupyterLab/);
    const version = spawnSync(join(clone, ".venv", "bin", "jupyter"), ["lab", "--version"], { encoding: "utf8" }).stdout.trim();
    console.log(`      fresh clone in ${dirname(clone)}: npm install (${installSeconds} s) set up JupyterLab ${version}; npm start served ${base.origin}/lab`);
    const exited = new Promise((resolve) => server!.on("exit", resolve));
    server.kill("SIGTERM"); // start.mjs sees npm go and stops Jupyter (tested above)
    await exited;
    const deadline = Date.now() + 15000;
    let up = true;
    while (up && Date.now() < deadline) {
      up = await fetch(`${base.origin}/api/status`).then(() => true, () => false);
      if (up) await new Promise((r) => setTimeout(r, 250));
    }
    assert.ok(!up, "the server is down");
  });
});
