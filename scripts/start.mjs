#!/usr/bin/env node
// `npm start`: open the course in Jupyter with the course's kernel.
// JupyterLab (the one `npm install` set up in .venv/, or one on PATH), else Notebook; extra arguments go to Jupyter
// (`npm start -- --no-browser --port=8899`). Ctrl-C stops the server and its kernels.
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, delimiter } from "node:path";
import { install, ROOT, LOCAL_JUPYTER_PATH, DISPLAY_NAME } from "./kernel.mjs";
import { jupyterCommand, venvPath } from "./jupyter-env.mjs";

const HELP_NO_JUPYTER = `
No Jupyter was found: \`npm install\` sets up JupyterLab in .venv/ when it can, and said above
why it could not (usually Python, or its venv module, is missing). Fix that and run
\`npm run jupyter:venv\`, or install JupyterLab your own way (see the README's "Getting Jupyter").

VS Code works too: run \`npm run kernel:user\`, open a notebook in notebooks/ and pick
the kernel '${DISPLAY_NAME}'.
`;

function works(cmd, args, env) {
  const r = spawnSync(cmd, args, { env, stdio: "ignore", timeout: 60000 });
  return r.status === 0;
}

/**
 * Which Jupyter front end to start: the project's .venv/ (set up by `npm install`) first, then PATH;
 * JupyterLab if present, else Notebook (7, or classic 6), else null. ATTENTION_JUPYTER=notebook asks for Notebook.
 */
export function findJupyter(env = process.env) {
  const forced = env.ATTENTION_JUPYTER; // "lab" or "notebook", to choose by hand
  const cmd = jupyterCommand();
  if (forced !== "notebook" && works(cmd, ["lab", "--version"], env)) return { cmd, sub: "lab" };
  if (forced !== "lab" && works(cmd, ["notebook", "--version"], env)) return { cmd, sub: "notebook" };
  return null;
}

function main() {
  install(); // (re)write the project-local kernelspec, in case the folder moved
  const env = {
    ...process.env,
    ...venvPath(),
    JUPYTER_PATH: [LOCAL_JUPYTER_PATH, process.env.JUPYTER_PATH].filter(Boolean).join(delimiter),
  };
  const jupyter = findJupyter(env);
  if (!jupyter) {
    console.error(HELP_NO_JUPYTER);
    process.exit(1);
  }
  const extra = process.argv.slice(2);
  const args = [jupyter.sub];
  if (!extra.some((a) => a.startsWith("--notebook-dir"))) args.push(`--notebook-dir=${join(ROOT, "notebooks")}`);
  if (process.getuid && process.getuid() === 0) args.push("--allow-root"); // containers run as root
  args.push(...extra);
  const name = jupyter.sub === "lab" ? "JupyterLab" : "Jupyter Notebook";
  console.log(`Starting ${name} on notebooks/ with the kernel '${DISPLAY_NAME}'. Ctrl-C stops it.`);

  // Own process group: the terminal's Ctrl-C reaches only us, and we stop Jupyter without its
  // "Shutdown this notebook server (y/[n])?" prompt.
  const child = spawn(jupyter.cmd, args, { env, cwd: ROOT, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  let announced = false;
  const watch = (stream, out) => {
    let buffer = "";
    stream.on("data", (chunk) => {
      out.write(chunk);
      buffer += chunk.toString();
      const lines = buffer.split("\n");
      buffer = lines.pop() ?? "";
      for (const line of lines) {
        const m = line.match(/(https?:\/\/(?:127\.0\.0\.1|localhost)[^\s]*)/);
        if (m && !announced) {
          announced = true;
          console.log(`\n  Open the course at: ${m[1]}\n`);
        }
      }
    });
  };
  watch(child.stdout, process.stdout);
  watch(child.stderr, process.stderr);

  let stopping = false;
  const stop = (signal) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping Jupyter ...`);
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      /* already gone */
    }
    setTimeout(() => {
      try {
        process.kill(-child.pid, "SIGKILL");
      } catch {
        /* gone */
      }
    }, 10000).unref();
  };
  for (const s of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(s, () => stop(s));
  // `npm start` runs us as npm -> sh -c -> node: when npm is killed (SIGTERM) or its terminal goes away,
  // neither npm nor the shell passes the signal on, and we would serve on, orphaned. So we watch our
  // parent and grandparent, and stop with them.
  const watched = ancestors(2);
  setInterval(() => {
    if (ancestors(2).join() !== watched.join()) stop("npm start's process is gone");
  }, 500).unref();
  child.on("exit", (code, signal) => {
    if (stopping) {
      console.log("Jupyter stopped.");
      process.exit(0);
    }
    process.exit(code ?? (signal ? 1 : 0));
  });
}

/** Our nearest `n` ancestors' pids, parent first (from /proc on Linux; elsewhere only the parent). */
function ancestors(n) {
  const chain = [];
  let pid = process.ppid;
  while (chain.length < n && pid > 1) {
    chain.push(pid);
    try {
      // /proc/PID/stat: "pid (command) state ppid ..."; the command may hold spaces, so split after ")".
      pid = Number(readFileSync(`/proc/${pid}/stat`, "utf8").split(") ").pop().split(" ")[1]);
    } catch {
      break;
    }
  }
  return chain;
}

main();
