#!/usr/bin/env node
// The one place that finds a Python with the modules a task needs: $ATTENTION_PYTHON, the project's .venv/ (made by
// `npm install`, scripts/jupyter-env.mjs), Debian's /usr/bin/python3, then python3 on PATH. Used by `npm run site`
// (publish.mjs), the notebook tests (test/helpers.ts, through the command line below) and the bench's PyTorch side.
//   node scripts/python.mjs nbclient nbconvert     prints the first Python that imports them (exit 1: none does)
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { venvPython } from "./jupyter-env.mjs";

/** The Pythons to try, in order (those that exist or are looked up on PATH). */
export function pythonCandidates() {
  return [process.env.ATTENTION_PYTHON, existsSync(venvPython) && venvPython, "/usr/bin/python3", "python3"].filter(
    /** @returns {p is string} */ (p) => typeof p === "string" && p.length > 0,
  );
}

/**
 * The first candidate that imports every one of `modules`, or null.
 * @param {string[]} modules
 * @returns {string | null}
 */
export function findPython(modules) {
  const probe = modules.length ? `import ${modules.join(", ")}` : "pass";
  return pythonCandidates().find((py) => spawnSync(py, ["-c", probe], { stdio: "ignore" }).status === 0) ?? null;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const modules = process.argv.slice(2);
  const python = findPython(modules);
  if (python) console.log(python);
  else {
    console.error(`no Python that imports ${modules.join(", ")} (tried ${pythonCandidates().join(", ")})`);
    process.exit(1);
  }
}
