// Driving the real front ends (JupyterLab 4, Notebook 7) from tests: start one through `npm start`'s own
// script with the app exposed as window.jupyterapp, open a notebook in headless Chromium, run it through the
// app's commands and read back what the learner would see (the DOM) and what would be saved (the model).
import { spawn, type ChildProcess } from "child_process";
import { mkdirSync, writeFileSync } from "fs";
import { join } from "path";
import { chromium, type Browser, type Page } from "playwright-core";
import { FIGURE_CLASS } from "attention-lib/internal";
import { ROOT, findChromium } from "../helpers";

export type App = "lab" | "notebook";

export interface Server {
  app: App;
  origin: string;
  token: string;
  /** Everything the server and start.mjs printed so far. */
  log: { out: string };
  child: ChildProcess;
  /** Ctrl-C, as a learner would; resolves with start.mjs's exit code. */
  stop(): Promise<number | null>;
}

/** A notebook as the front end's model holds it (what Save would write). */
export interface NotebookJSON {
  cells: { cell_type: string; source: string | string[]; outputs?: Output[]; execution_count?: number | null }[];
}
export interface Output {
  output_type: string;
  name?: string;
  text?: string | string[];
  data?: Record<string, unknown>;
  ename?: string;
  evalue?: string;
}

export const CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: findChromium(), args: CHROMIUM_ARGS });
}

/**
 * Start JupyterLab or Notebook 7 through scripts/start.mjs on `dir`, with its own settings and workspaces
 * (nothing read from or written to the user's ~/.jupyter). `settings` are user settings by plugin id, e.g.
 * { "@jupyterlab/notebook-extension:tracker": { windowingMode: "none" } }. `extraEnv` goes to the server and its kernels.
 */
export function startJupyter(app: App, dir: string, settings: Record<string, object> = {}, extraEnv: Record<string, string> = {}): Promise<Server> {
  const home = join(dir, "..", `.${app}-home`);
  const settingsDir = join(home, "user-settings");
  for (const [id, value] of Object.entries(settings)) {
    const [pkg, plugin] = id.split(":");
    mkdirSync(join(settingsDir, pkg), { recursive: true });
    writeFileSync(join(settingsDir, pkg, `${plugin}.jupyterlab-settings`), JSON.stringify(value));
  }
  const port = 20000 + Math.floor(Math.random() * 20000);
  const expose = app === "lab" ? "--LabApp.expose_app_in_browser=True" : "--JupyterNotebookApp.expose_app_in_browser=True";
  const child = spawn(process.execPath, [join(ROOT, "scripts", "start.mjs"), "--no-browser", `--port=${port}`, `--notebook-dir=${dir}`, expose], {
    cwd: ROOT,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      ATTENTION_JUPYTER: app,
      JUPYTER_CONFIG_DIR: join(home, "config"),
      JUPYTERLAB_SETTINGS_DIR: settingsDir,
      JUPYTERLAB_WORKSPACES_DIR: join(home, "workspaces"),
      ...extraEnv,
    },
  });
  const log = { out: "" };
  child.stdout!.on("data", (d) => (log.out += d));
  child.stderr!.on("data", (d) => (log.out += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Jupyter (${app}) did not start in 90 s:\n${log.out.slice(-3000)}`)), 90000);
    const check = () => {
      const m = log.out.match(/Open the course at: (\S+)/);
      if (!m) return;
      clearTimeout(timer);
      const url = new URL(m[1]);
      resolve({
        app,
        origin: url.origin,
        token: url.searchParams.get("token") ?? "",
        log,
        child,
        stop: async () => {
          if (child.exitCode === null) child.kill("SIGINT");
          const t = setTimeout(() => child.kill("SIGKILL"), 20000);
          const code = await exited;
          clearTimeout(t);
          return code;
        },
      });
    };
    child.stdout!.on("data", check);
    child.stderr!.on("data", check);
    child.on("exit", () => reject(new Error(`Jupyter (${app}) exited:\n${log.out.slice(-3000)}`)));
  });
}

/**
 * JupyterLab 4.6's own message when a toolbar is measured just after its tab was closed (seen once in ~20 closes
 * by the tests; a race inside JupyterLab, not the course's). Every other console error counts.
 */
const JUPYTERLAB_OWN_ERRORS = [/^Error while computing the ReactiveToolbar TypeError: Cannot read properties of null \(reading 'widgets'\)/];

/** A page and the errors its console printed (console.error and uncaught exceptions). */
export interface OpenNotebook {
  page: Page;
  consoleErrors: string[];
}

/** A fresh page that records its console errors (console.error and uncaught exceptions). */
async function watchedPage(browser: Browser): Promise<OpenNotebook> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const consoleErrors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" && !JUPYTERLAB_OWN_ERRORS.some((re) => re.test(m.text()))) consoleErrors.push(m.text());
  });
  page.on("pageerror", (e) => consoleErrors.push(`uncaught: ${e.message}${process.env.FRONTEND_STACKS ? "\n" + e.stack : ""}`));
  return { page, consoleErrors };
}

/** Open `file` (relative to the server's folder) in a fresh page; resolves once its kernel is idle. */
export async function openNotebook(browser: Browser, server: Server, file: string, workspace: string, theme?: string): Promise<OpenNotebook> {
  const { page, consoleErrors } = await watchedPage(browser);
  const path = file.split("/").map(encodeURIComponent).join("/");
  const url =
    server.app === "lab"
      ? `${server.origin}/lab/workspaces/${workspace}/tree/${path}?reset&token=${server.token}`
      : `${server.origin}/notebooks/${path}?token=${server.token}`;
  await page.goto(url);
  await page.waitForFunction(() => (window as any).jupyterapp?.shell?.currentWidget?.sessionContext !== undefined, null, { timeout: 90000 });
  if (theme) await page.evaluate((t) => (window as any).jupyterapp.commands.execute("apputils:change-theme", { theme: t }), theme);
  await waitIdle(page, 90000);
  return { page, consoleErrors };
}

/** JupyterLab's app in a fresh page (a clean workspace), for notebooks opened one after another with openInApp. */
export async function openApp(browser: Browser, server: Server, workspace: string): Promise<OpenNotebook> {
  const { page, consoleErrors } = await watchedPage(browser);
  await page.goto(`${server.origin}/lab/workspaces/${workspace}?reset&token=${server.token}`);
  await page.waitForFunction(() => (window as any).jupyterapp?.restored !== undefined, null, { timeout: 90000 });
  await page.evaluate(() => (window as any).jupyterapp.restored);
  return { page, consoleErrors };
}

/** Open `file` in the app (File > Open), as its only tab; resolves once its kernel is idle. */
export async function openInApp(page: Page, file: string, theme?: string): Promise<void> {
  await closeAll(page);
  if (theme) await page.evaluate((t) => (window as any).jupyterapp.commands.execute("apputils:change-theme", { theme: t }), theme);
  await page.evaluate(async (f) => {
    const app = (window as any).jupyterapp;
    const widget = await app.commands.execute("docmanager:open", { path: f });
    await widget.context.ready;
    app.shell.activateById(widget.id); // the tab in front, as a click on it would
  }, file);
  await page.waitForFunction((f) => (window as any).jupyterapp.shell.currentWidget?.context?.path === f, file, { timeout: 30000 });
  await waitIdle(page, 90000);
}

/** Close every tab and shut every kernel down (closing a tab leaves its kernel running). */
export async function closeAll(page: Page): Promise<void> {
  await page.evaluate(async () => {
    const app = (window as any).jupyterapp;
    for (const w of [...app.shell.widgets("main")]) {
      if (w.context?.model) w.context.model.dirty = false; // the tests save what they need first: no "Save changes?" dialog
      w.close(); // as the tab's ×
    }
    for (let t = Date.now(); [...app.shell.widgets("main")].some((w: any) => w.context) && Date.now() - t < 10000; ) {
      await new Promise((r) => setTimeout(r, 100));
    }
    await app.serviceManager.sessions.shutdownAll();
  });
  await page.waitForTimeout(300); // let the toolbars of the closed tabs settle
}

/** Shut every kernel of the server down (closing a page leaves them running, as closing a tab does), then close the page. */
export async function closeNotebook(page: Page): Promise<void> {
  await page.evaluate(() => (window as any).jupyterapp.serviceManager.sessions.shutdownAll()).catch(() => undefined);
  await page.close();
}

/** Until the notebook's kernel is idle and no cell is queued or running (a [*] prompt). */
export async function waitIdle(page: Page, timeout: number): Promise<void> {
  await page.waitForFunction(
    () => {
      const panel = (window as any).jupyterapp.shell.currentWidget;
      const kernel = panel?.sessionContext?.session?.kernel;
      if (!kernel || kernel.status !== "idle" || kernel.connectionStatus !== "connected") return false;
      return ![...panel.node.querySelectorAll(".jp-InputPrompt")].some((p: Element) => p.textContent?.includes("*"));
    },
    null,
    { timeout, polling: 250 },
  );
}

/** Run a command of the app (e.g. "notebook:run-all-cells"), and wait for the promise it returns (for Run All:
 *  until every cell ran), or with `start` only start it. */
export async function command(page: Page, id: string, args: object = {}, start = false): Promise<void> {
  await page.evaluate(
    async ([i, a, s]) => {
      const done = (window as any).jupyterapp.commands.execute(i, a);
      if (!s) await done; // the result itself (a widget, say) stays in the page
    },
    [id, args, start] as const,
  );
}

/** Run All, and wait until every cell ran (kernel idle, no [*], every code cell numbered). */
export async function runAll(page: Page, timeout = 240000): Promise<void> {
  await command(page, "notebook:run-all-cells");
  await page.waitForTimeout(500);
  await waitIdle(page, timeout);
  await page.waitForFunction(
    () => {
      const nb = (window as any).jupyterapp.shell.currentWidget.context.model.toJSON();
      return nb.cells.every((c: any) => c.cell_type !== "code" || !c.source.trim() || typeof c.execution_count === "number");
    },
    null,
    { timeout: 10000 },
  );
}

/** The open notebook as its model holds it now. */
export function notebookJSON(page: Page): Promise<NotebookJSON> {
  return page.evaluate(() => (window as any).jupyterapp.shell.currentWidget.context.model.toJSON());
}

/** Figures drawn in the open notebook (the course's divs, drawn by their script with a plotly SVG), and figure divs in all. */
export function figuresInPage(page: Page): Promise<{ drawn: number; divs: number; notes: number }> {
  return page.evaluate((cls) => {
    const divs = [...(window as any).jupyterapp.shell.currentWidget.node.querySelectorAll(`.${cls}`)] as Element[];
    return {
      drawn: divs.filter((d) => d.getAttribute("data-drawn") === "true" && d.querySelector(".main-svg")).length,
      divs: divs.length,
      notes: divs.filter((d) => /run the notebook \(or trust it\)/.test(d.textContent ?? "")).length,
    };
  }, FIGURE_CLASS);
}

const text = (s: string | string[] | undefined) => (Array.isArray(s) ? s.join("") : (s ?? ""));

/** Figures the outputs hold (one course div each). */
export function figuresIn(nb: NotebookJSON): number {
  return nb.cells.flatMap((c) => c.outputs ?? []).reduce((n, o) => n + (text(o.data?.["text/html"] as string | string[]).split(`class="${FIGURE_CLASS}"`).length - 1), 0);
}

/** Error outputs and stderr, cell by cell. */
export function problemsIn(nb: NotebookJSON): string[] {
  return nb.cells.flatMap((c, i) =>
    (c.outputs ?? []).flatMap((o) =>
      o.output_type === "error" ? [`cell ${i}: ${o.ename}: ${o.evalue}`] : o.output_type === "stream" && o.name === "stderr" ? [`cell ${i} stderr: ${text(o.text).slice(0, 500)}`] : [],
    ),
  );
}

/** The lines the exercise checks printed: ✓, ✗ or "not answered yet", and how many exercises the notebook has. */
export function checkLines(nb: NotebookJSON): { right: number; wrong: string[]; unanswered: number; exercises: number } {
  const lines = nb.cells.flatMap((c) => (c.outputs ?? []).flatMap((o) => text(o.text).split("\n")));
  const exercises = nb.cells.filter((c) => c.cell_type === "markdown" && /^#+ Exercise \d+\.\d+/m.test(text(c.source))).length;
  return {
    right: lines.filter((l) => l.startsWith("✓")).length,
    wrong: lines.filter((l) => l.startsWith("✗")),
    unanswered: lines.filter((l) => l.startsWith("not answered yet")).length,
    exercises,
  };
}
