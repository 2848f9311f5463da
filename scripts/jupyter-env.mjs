#!/usr/bin/env node
// JupyterLab for the course, set up by `npm install` when none is found.
//
//   node scripts/jupyter-env.mjs             what `npm install` runs: use a JupyterLab found on PATH as it is,
//                                            else make .venv/ (a Python virtual environment in this folder,
//                                            git-ignored) with the pinned JupyterLab and Notebook 7 of
//                                            scripts/jupyter-requirements.txt, and register the course's kernel there
//   node scripts/jupyter-env.mjs --force     make or update .venv/ even when a JupyterLab is on PATH
//   ATTENTION_SKIP_JUPYTER=1 npm install     leave Jupyter alone (install it yourself: see the README)
//   ATTENTION_VENV=DIR                       put the virtual environment in DIR instead of .venv/
//
// Nothing outside this folder changes: no `pip install --user`, no global Python package. When Python or its
// venv module is missing, it says what to install and lets the rest of `npm install` go on.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { install as installKernel } from "./kernel.mjs";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** Where JupyterLab goes: .venv/ in the course folder ($ATTENTION_VENV elsewhere, e.g. for the tests). */
export const VENV = process.env.ATTENTION_VENV ? resolve(process.env.ATTENTION_VENV) : join(ROOT, ".venv");
const REQUIREMENTS = join(ROOT, "scripts", "jupyter-requirements.txt");
const WINDOWS = process.platform === "win32";
const BIN = join(VENV, WINDOWS ? "Scripts" : "bin");

/** The venv's Python and Jupyter (whether or not they exist yet). */
export const venvPython = join(BIN, WINDOWS ? "python.exe" : "python");
export const venvJupyter = join(BIN, WINDOWS ? "jupyter.exe" : "jupyter");

/** The versions scripts/jupyter-requirements.txt pins, e.g. { jupyterlab: "4.6.4", notebook: "7.6.3" }. */
export function pinned() {
  const pins = {};
  for (const line of readFileSync(REQUIREMENTS, "utf8").split("\n")) {
    const m = line.trim().match(/^([A-Za-z0-9_.-]+)==([^\s#]+)/);
    if (m) pins[m[1].toLowerCase()] = m[2];
  }
  return pins;
}

function run(cmd, args, options = {}) {
  return spawnSync(cmd, args, { encoding: "utf8", timeout: 60000, ...options });
}

/** The version `jupyter lab --version` prints with this command, or null when it does not work. */
export function labVersion(jupyter) {
  const r = run(jupyter, ["lab", "--version"]);
  return r.status === 0 ? r.stdout.trim().split("\n").pop().trim() : null;
}

/** The project's JupyterLab when .venv/ holds the pinned one. */
export function venvReady() {
  return existsSync(venvJupyter) && labVersion(venvJupyter) === pinned().jupyterlab;
}

/** A Python 3.9+ to build the venv with: $ATTENTION_VENV_PYTHON, python3, python (py -3 on Windows). */
function findBasePython() {
  const candidates = [
    process.env.ATTENTION_VENV_PYTHON && [process.env.ATTENTION_VENV_PYTHON],
    ["python3"],
    ["python"],
    WINDOWS && ["py", "-3"],
  ].filter(Boolean);
  for (const [cmd, ...pre] of candidates) {
    const r = run(cmd, [...pre, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]);
    if (r.status !== 0) continue;
    const [major, minor] = r.stdout.trim().split(".").map(Number);
    if (major === 3 && minor >= 9) return { cmd, pre, version: r.stdout.trim() };
  }
  return null;
}

const step = (n, total, text) => console.log(`[jupyter ${n}/${total}] ${text}`);

const NO_PYTHON = `
No Python 3.9 or newer was found, so JupyterLab could not be set up (the rest of the install went on).
Install Python, then run \`npm install\` again:
  Debian/Ubuntu:  sudo apt-get install python3 python3-venv
  macOS, Windows: the installer from https://www.python.org/downloads/
Or install JupyterLab your own way (conda, pipx) and make sure \`jupyter lab\` is on PATH.`;

function noVenv(python, output) {
  return `
Python ${python.version} (${python.cmd}) cannot make a virtual environment, so JupyterLab could not be set up
(the rest of the install went on). Its venv module or ensurepip is missing:
  Debian/Ubuntu:  sudo apt-get install python3-venv     (or python${python.version}-venv)
  elsewhere:      the installer from https://www.python.org/downloads/ includes it
then run \`npm install\` again.
Python said: ${output.trim().split("\n").slice(-3).join("\n  ")}`;
}

/**
 * Set up JupyterLab for the course. Returns what it did: "skipped", "found" (a JupyterLab on PATH),
 * "ready" (.venv/ was already set up), "installed", or "failed" (with the advice printed).
 */
export function provision({ force = false, env = process.env } = {}) {
  if (env.ATTENTION_SKIP_JUPYTER && env.ATTENTION_SKIP_JUPYTER !== "0") {
    console.log("[jupyter] ATTENTION_SKIP_JUPYTER is set: Jupyter is left as it is.");
    return "skipped";
  }
  const pins = pinned();
  if (!force) {
    if (venvReady()) {
      installKernel({ prefix: VENV });
      configureLab();
      console.log(`[jupyter] JupyterLab ${pins.jupyterlab} is set up in .venv/ (npm start uses it).`);
      return "ready";
    }
    // A JupyterLab of the user's own (system, conda, pipx) is used as it is; classic Notebook 6 alone does not count.
    const found = labVersion("jupyter");
    if (found && Number(found.split(".")[0]) >= 4) {
      console.log(`[jupyter] Found JupyterLab ${found} on PATH: npm start uses it (\`npm run jupyter:venv\` sets up the course's own).`);
      return "found";
    }
  }
  const total = 3;
  const python = findBasePython();
  if (!python) {
    console.log(NO_PYTHON);
    return "failed";
  }
  step(1, total, `Making a Python virtual environment in .venv/ with ${python.cmd} (Python ${python.version}) ...`);
  if (!existsSync(venvPython)) {
    const made = run(python.cmd, [...python.pre, "-m", "venv", VENV], { timeout: 300000 });
    if (made.status !== 0 || !existsSync(venvPython)) {
      rmSync(VENV, { recursive: true, force: true }); // a half-made venv would look ready next time
      console.log(noVenv(python, `${made.stdout}\n${made.stderr}`));
      return "failed";
    }
  }
  step(2, total, `Installing JupyterLab ${pins.jupyterlab} and Notebook ${pins.notebook} with pip (a minute or a few; log: .venv/pip.log) ...`);
  const started = Date.now();
  const pip = run(
    venvPython,
    ["-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--retries", env.PIP_RETRIES ?? "0", "-r", REQUIREMENTS],
    { timeout: 30 * 60000, env: { ...env, PIP_REQUIRE_VIRTUALENV: "1" } },
  );
  writeFileSync(join(VENV, "pip.log"), `${pip.stdout ?? ""}\n${pip.stderr ?? ""}`);
  if (pip.status !== 0 || !venvReady()) {
    const tail = `${pip.stdout ?? ""}\n${pip.stderr ?? ""}`.trim().split("\n").slice(-8).join("\n  ");
    console.log(`
pip could not install JupyterLab into .venv/ (the rest of the install went on). It said:
  ${tail || pip.error?.message}
Check your network (pip needs https://pypi.org, or your own package index), then run \`npm install\` again;
or install JupyterLab your own way (see the README's "Getting Jupyter").`);
    return "failed";
  }
  step(3, total, `Registering the course's kernel with it (${Math.round((Date.now() - started) / 1000)} s for pip) ...`);
  installKernel({ prefix: VENV });
  configureLab();
  console.log(`[jupyter] JupyterLab ${pins.jupyterlab} is ready in .venv/: \`npm start\` opens the course.`);
  return "installed";
}

/**
 * JupyterLab's settings for .venv/: its debugger extension off. tslab speaks no Jupyter Debug Protocol (its
 * kernel_info has no `debugger` field), so JupyterLab rightly shows no debugger for it; but JupyterLab 4.6's
 * debugger handler still calls displayModules() after every execute_reply, which throws "No active debugger
 * session" into the browser console for a kernel without one. Only the course's own JupyterLab is changed.
 */
export function configureLab() {
  const dir = join(VENV, "etc", "jupyter", "labconfig");
  const file = join(dir, "page_config.json");
  const config = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : {};
  config.disabledExtensions = { ...config.disabledExtensions, "@jupyterlab/debugger-extension": true };
  mkdirSync(dir, { recursive: true });
  writeFileSync(file, JSON.stringify(config, null, 2) + "\n");
}

/** The Jupyter command `npm start` and the tests use: the project's .venv/ first, then PATH. */
export function jupyterCommand() {
  return existsSync(venvJupyter) ? venvJupyter : "jupyter";
}

/** PATH with .venv/'s bin first, so that Jupyter's own subprocesses find the venv's tools. */
export function venvPath(env = process.env) {
  const key = Object.keys(env).find((k) => k.toUpperCase() === "PATH") ?? "PATH";
  return existsSync(BIN) ? { [key]: [BIN, env[key]].filter(Boolean).join(delimiter) } : {};
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  provision({ force: process.argv.includes("--force") });
}
