#!/usr/bin/env node
// `npm run site` and `npm run slides`: finds a Python with Jupyter's nbclient and nbconvert, registers the course's
// kernel, and runs scripts/publish.py (see there). Arguments after `--` are passed on:
//   npm run site                          execute every notebook, write site/ (open site/index.html)
//   npm run site -- --serve               ... then serve it on http://127.0.0.1:8000/
//   npm run slides                        one reveal.js deck per notebook in slides/
//   npm run site -- --executed test-artifacts   reuse the notebooks `npm test` executed (no re-run)
import { spawn } from "node:child_process";
import { join, delimiter } from "node:path";
import { install, ROOT, LOCAL_JUPYTER_PATH } from "./kernel.mjs";
import { findPython, pythonCandidates } from "./python.mjs";

function pythonForPublishing() {
  const python = findPython(["nbclient", "nbconvert", "nbformat"]);
  if (python) return python;
  console.error(
    `publish: no Python with nbclient and nbconvert (tried ${pythonCandidates().join(", ")}).\n` +
      "`npm install` sets them up in .venv/ with JupyterLab (`npm run jupyter:venv` retries); or set ATTENTION_PYTHON.",
  );
  process.exit(2);
}

const python = pythonForPublishing();
install();
const env = { ...process.env, JUPYTER_PATH: [LOCAL_JUPYTER_PATH, process.env.JUPYTER_PATH].filter(Boolean).join(delimiter) };
const child = spawn(python, [join(ROOT, "scripts", "publish.py"), ...process.argv.slice(2)], { stdio: "inherit", env, cwd: ROOT });
process.on("SIGINT", () => child.kill("SIGINT"));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
