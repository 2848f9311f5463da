#!/usr/bin/env node
// Register the course's Jupyter kernel (tslab from this folder's node_modules).
//
//   node scripts/kernel.mjs install          project-local: .jupyter/kernels/attention-course
//                                             (used by `npm start` and `npm test` through JUPYTER_PATH;
//                                             nothing outside the project changes). Run by `npm install`.
//                                             (`npm install` also registers it in .venv/ when it sets up JupyterLab there)
//   node scripts/kernel.mjs install --user   user-wide, for VS Code or a JupyterLab you start yourself
//   node scripts/kernel.mjs uninstall --user
//   node scripts/kernel.mjs where            print the kernelspec folders
//
// Writing kernel.json ourselves needs no Python, so `npm install` works before Jupyter is installed.
import { mkdirSync, writeFileSync, rmSync, existsSync } from "node:fs";
import { homedir, platform } from "node:os";
import { join, dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
export const KERNEL_NAME = "attention-course";
export const DISPLAY_NAME = "TypeScript (attention course)";
/** The folder to put on JUPYTER_PATH; it holds kernels/attention-course/kernel.json. */
export const LOCAL_JUPYTER_PATH = join(ROOT, ".jupyter");

function userDataDir() {
  if (process.env.JUPYTER_DATA_DIR) return process.env.JUPYTER_DATA_DIR;
  if (platform() === "darwin") return join(homedir(), "Library", "Jupyter");
  if (platform() === "win32") return join(process.env.APPDATA ?? join(homedir(), "AppData", "Roaming"), "jupyter");
  return join(process.env.XDG_DATA_HOME ?? join(homedir(), ".local", "share"), "jupyter");
}

/** Where the kernelspec goes: the project (default), the user's Jupyter (`user`), or a Python environment (`prefix`). */
/** @param {{ user?: boolean, prefix?: string }} [where] */
export function kernelDir({ user = false, prefix = undefined } = {}) {
  const data = prefix ? join(prefix, "share", "jupyter") : user ? userDataDir() : LOCAL_JUPYTER_PATH;
  return join(data, "kernels", KERNEL_NAME);
}

export function kernelSpec() {
  const tslab = join(ROOT, "node_modules", "tslab", "bin", "tslab");
  if (!existsSync(tslab)) {
    throw new Error(`tslab is not installed at ${tslab}; run \`npm install\` in ${ROOT} first`);
  }
  return {
    // The node running this script, and the project's own tslab: the kernel never depends on PATH.
    argv: [process.execPath, tslab, "kernel", "--config-path", "{connection_file}"],
    display_name: DISPLAY_NAME,
    language: "typescript",
    // No Jupyter Debug Protocol in tslab: say so, and JupyterLab shows no debugger for this kernel.
    metadata: { course: "attention-course", debugger: false },
  };
}

/** @param {{ user?: boolean, prefix?: string }} [where] */
export function install(where = {}) {
  const dir = kernelDir(where);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "kernel.json"), JSON.stringify(kernelSpec(), null, 2) + "\n");
  return dir;
}

function main(argv) {
  const [cmd, ...flags] = argv;
  const user = flags.includes("--user");
  if (cmd === "install") {
    const dir = install({ user });
    console.log(`Registered the Jupyter kernel '${DISPLAY_NAME}' in ${dir}`);
    if (!user) console.log("(project-local: `npm start` uses it; for VS Code or your own JupyterLab run `npm run kernel:user`)");
  } else if (cmd === "uninstall") {
    rmSync(kernelDir({ user }), { recursive: true, force: true });
    console.log(`Removed ${kernelDir({ user })}`);
  } else if (cmd === "where") {
    console.log(`project: ${kernelDir()}\nuser:    ${kernelDir({ user: true })}`);
  } else {
    console.error("usage: node scripts/kernel.mjs install|uninstall|where [--user]");
    process.exit(2);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    console.error(`kernel: ${e.message}`);
    process.exit(1);
  }
}
