// `npm install` on a newcomer's machine: no warnings about unreviewed install scripts, no funding banner; and its
// Jupyter step when Python or its venv module is missing (the step that works is tested by start.test.ts, for real).
import * as assert from "assert";
import { spawnSync } from "child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { ROOT } from "../helpers";

describe("npm install is quiet", () => {
  it("every dependency's install script is declared in allowScripts (npm 11), and no funding banner", function () {
    this.timeout(30000);
    const ls = spawnSync("npm", ["install-scripts", "ls"], { cwd: ROOT, encoding: "utf8" });
    if (ls.status !== 0 && /Unknown command|not a valid command/i.test(ls.stderr + ls.stdout)) this.skip(); // npm 10 runs them all anyway
    assert.strictEqual(ls.status, 0, ls.stderr);
    assert.match(ls.stdout, /No packages with unreviewed install scripts/);
    const fund = spawnSync("npm", ["config", "get", "fund"], { cwd: ROOT, encoding: "utf8" });
    assert.strictEqual(fund.stdout.trim(), "false", "the project's .npmrc turns the funding banner off");
  });
});

describe("npm install's Jupyter step (scripts/jupyter-env.mjs) when it cannot set up JupyterLab", function () {
  this.timeout(60000);
  let dir = "";
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "attention-jupyter-env-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** Run the step with only `bin/` on PATH (node, and whatever the test puts there), its venv in dir/venv. */
  function runStep(extraEnv: Record<string, string> = {}) {
    const bin = join(dir, "bin");
    mkdirSync(bin, { recursive: true });
    if (!existsSync(join(bin, "node"))) symlinkSync(process.execPath, join(bin, "node"));
    const env = { HOME: dir, PATH: bin, ATTENTION_VENV: join(dir, "venv"), ...extraEnv };
    return spawnSync(join(bin, "node"), [join(ROOT, "scripts", "jupyter-env.mjs"), "--force"], { env, encoding: "utf8" });
  }

  it("without Python: says what to install, touches nothing, and lets npm install go on (exit 0)", () => {
    const r = runStep();
    assert.strictEqual(r.status, 0, r.stderr);
    assert.match(r.stdout, /No Python 3\.9 or newer was found/);
    assert.match(r.stdout, /sudo apt-get install python3 python3-venv/);
    assert.match(r.stdout, /python\.org/);
    assert.ok(!existsSync(join(dir, "venv")), "no half-made environment");
  });

  it("with a Python that has no venv module (Debian without python3-venv): names the package, leaves no half-made venv", () => {
    // A stand-in for Debian's python3 without python3-venv: it knows its version, and `-m venv` fails as Debian's does.
    writeFileSync(
      join(dir, "python3"),
      '#!/bin/sh\nif [ "$1" = "-c" ]; then echo 3.11; exit 0; fi\nmkdir -p "$3/bin"\necho "The virtual environment was not created successfully because ensurepip is not available." >&2\nexit 1\n',
    );
    chmodSync(join(dir, "python3"), 0o755);
    const r = runStep({ ATTENTION_VENV_PYTHON: join(dir, "python3") });
    assert.strictEqual(r.status, 0, r.stderr);
    assert.match(r.stdout, /\[jupyter 1\/3\]/);
    assert.match(r.stdout, /cannot make a virtual environment/);
    assert.match(r.stdout, /sudo apt-get install python3-venv\s+\(or python3\.11-venv\)/);
    assert.match(r.stdout, /ensurepip is not available/);
    assert.ok(!existsSync(join(dir, "venv")), "the half-made environment is removed");
  });

  it("ATTENTION_SKIP_JUPYTER=1 leaves Jupyter alone", () => {
    const bin = join(dir, "bin");
    mkdirSync(bin, { recursive: true });
    symlinkSync(process.execPath, join(bin, "node"));
    const r = spawnSync(join(bin, "node"), [join(ROOT, "scripts", "jupyter-env.mjs")], {
      env: { HOME: dir, PATH: bin, ATTENTION_VENV: join(dir, "venv"), ATTENTION_SKIP_JUPYTER: "1" },
      encoding: "utf8",
    });
    assert.strictEqual(r.status, 0, r.stderr);
    assert.match(r.stdout, /ATTENTION_SKIP_JUPYTER is set/);
    assert.ok(!existsSync(join(dir, "venv")));
  });
});
