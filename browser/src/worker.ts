// The course's TypeScript kernel, in a Web Worker: runs cells (see transform.ts) with @tensorflow/tfjs and the
// course's library bundled in, and installs the library's browser platform (files read from the static site,
// figures sent to the page, the kernel's Interrupt).
import * as tf from "@tensorflow/tfjs";
import { setWasmPaths } from "@tensorflow/tfjs-backend-wasm";
import * as lib from "attention-lib";
import { setPlatform, type Platform } from "attention-lib/internal";
import { sha256 } from "@noble/hashes/sha2.js";
import { bytesToHex } from "@noble/hashes/utils.js";
import { format } from "util";
import { stripTypes, rewrite, HOOKS } from "./transform";
import type { ToWorker, FromWorker } from "./protocol";

declare const PLOTLY_VERSION: string;
declare const PLOTLY_FILE: string;

const MODULES: Record<string, unknown> = { "@tensorflow/tfjs": tf, "attention-lib": lib };
const post = (m: FromWorker) => (self as unknown as Worker).postMessage(m);

let baseUrl = "";
let filesUrl = "";
let env: Record<string, string> = {};
let flag: Int32Array | null = null; // set to 1 by the page on Interrupt, when the page is cross-origin isolated
let current = -1; // id of the running cell
let interrupted = false;
let signalled = false;
const listeners = new Set<() => void>();

class KeyboardInterrupt extends Error {
  constructor() {
    super("the cell was interrupted");
    this.name = "KeyboardInterrupt";
  }
}

function isInterrupted(): boolean {
  if (!interrupted && flag && Atomics.load(flag, 0) === 1) interrupted = true;
  if (interrupted && !signalled) {
    signalled = true;
    for (const l of [...listeners]) l();
  }
  return interrupted;
}

// Standard output: buffered, flushed before any display message and at the end of a cell.
const out = { stdout: "", stderr: "" };
let flushTimer: ReturnType<typeof setTimeout> | null = null;
function flush() {
  if (flushTimer) clearTimeout(flushTimer);
  flushTimer = null;
  for (const name of ["stdout", "stderr"] as const) {
    if (out[name]) post({ type: "stream", name, text: out[name] });
    out[name] = "";
  }
}
function write(name: "stdout" | "stderr", text: string) {
  out[name] += text;
  if (!flushTimer) flushTimer = setTimeout(flush, 50);
}
console.log = console.info = console.debug = (...args: unknown[]) => write("stdout", format(...args) + "\n");
console.warn = console.error = (...args: unknown[]) => write("stderr", format(...args) + "\n");

function request(path: string, binary: boolean, method = "GET"): XMLHttpRequest {
  const x = new XMLHttpRequest();
  x.open(method, new URL(path, filesUrl).href, false); // synchronous: allowed in workers, and the library's reads are synchronous
  if (binary) x.responseType = "arraybuffer";
  x.send();
  return x;
}
function read(path: string, binary: boolean): XMLHttpRequest {
  const x = request(path, binary);
  if (x.status !== 200) throw new Error(`${path}: not found on this site (HTTP ${x.status} for ${new URL(path, filesUrl).pathname})`);
  return x;
}

const browserPlatform: Platform = {
  name: "browser",
  readText: (path) => read(path, false).responseText,
  readBytes: (path) => new Uint8Array(read(path, true).response as ArrayBuffer),
  exists: (path) => request(path, false, "HEAD").status === 200,
  writeFile(path) {
    throw new Error(`writeFile: the course in the browser cannot write files (${path}); run the course locally to save them`);
  },
  sha256: (bytes) => bytesToHex(sha256(bytes)),
  randomHex: (n) => bytesToHex(crypto.getRandomValues(new Uint8Array(n))),
  env: (name) => env[name],
  onInterrupt(listener) {
    listeners.add(listener);
    return () => void listeners.delete(listener);
  },
  yieldToEventLoop: () =>
    new Promise<void>((resolve) => {
      const ch = new MessageChannel();
      ch.port1.onmessage = () => {
        isInterrupted();
        resolve();
      };
      ch.port2.postMessage(null);
    }),
  displayChannel: () => (msg, update) => {
    flush();
    post({ type: "display", content: msg, update });
  },
  plotly: () => ({ version: PLOTLY_VERSION, url: new URL(`static/${PLOTLY_FILE}`, baseUrl).href }),
};

const hooks = globalThis as unknown as Record<string, unknown>;
hooks[HOOKS.importModule] = (name: string) => {
  if (!(name in MODULES)) {
    throw new Error(`Cannot find module '${name}': the course's kernel in the browser has ${Object.keys(MODULES).join(" and ")}`);
  }
  return MODULES[name];
};
hooks[HOOKS.check] = () => {
  if (isInterrupted()) throw new KeyboardInterrupt();
};
hooks[HOOKS.awaited] = <T>(v: T): T => {
  if (isInterrupted()) throw new KeyboardInterrupt();
  return v;
};

const ours = new Set<string>(); // globals the cells declared
/** Make each declared name an ordinary writable global (a worker's own `name`, `location`, ... would ignore writes). */
function declare(names: string[]) {
  for (const n of names) {
    if (ours.has(n)) continue;
    ours.add(n);
    const d = Object.getOwnPropertyDescriptor(globalThis, n);
    if (!d || !("value" in d) || !d.writable)
      Object.defineProperty(globalThis, n, { value: undefined, writable: true, configurable: true, enumerable: true });
  }
}

/** The cell's line from an error's stack (frames of `cell-N.js`), or from a syntax error's position. */
function cellLine(e: unknown, file: string): number | null {
  const loc = (e as { loc?: { line: number } }).loc;
  if (loc) return loc.line;
  const m = String((e as Error)?.stack ?? "").match(new RegExp(`${file.replace(".", "\\.")}:(\\d+):\\d+`));
  return m ? Number(m[1]) : null;
}

async function execute(id: number, code: string, count: number) {
  current = id;
  interrupted = false;
  signalled = false;
  if (flag) Atomics.store(flag, 0, 0);
  const file = `cell-${count}.js`;
  try {
    let body: string;
    let declared: string[];
    try {
      ({ body, declared } = rewrite(stripTypes(code)));
    } catch (e) {
      const err = e as Error & { loc?: { line: number } };
      if (!err.loc) {
        const m = err.message.match(/\((\d+):(\d+)\)/);
        if (m) err.loc = { line: Number(m[1]) };
      }
      err.name = "SyntaxError";
      throw err;
    }
    declare(declared);
    const fn = (0, eval)(`(async function () {${body}\n})\n//# sourceURL=${file}`) as () => Promise<unknown>;
    const value = await fn();
    // tslab prints a cell's last value (not undefined or null); print() shows tensors the course's way.
    if (value !== undefined && value !== null) lib.print(value);
    flush();
    post({ type: "done", id, status: "ok" });
  } catch (e) {
    flush();
    const err = e instanceof Error ? e : new Error(String(e));
    const line = cellLine(err, file);
    const where = line === null ? [] : [`    at line ${line} of this cell`];
    post({
      type: "done",
      id,
      status: "error",
      ename: err.name || "Error",
      evalue: err.message,
      traceback: [`${err.name}: ${err.message}`, ...where],
    });
  } finally {
    current = -1;
  }
}

self.onmessage = (ev: MessageEvent<ToWorker>) => {
  const m = ev.data;
  if (m.type === "init") {
    baseUrl = m.baseUrl;
    filesUrl = new URL(`files/${m.location ? m.location.replace(/\/?$/, "/") : ""}`, baseUrl).href;
    env = m.env;
    flag = m.interruptBuffer ? new Int32Array(m.interruptBuffer) : null;
    setWasmPaths(new URL("static/tfjs-wasm/", baseUrl).href);
    // One thread, as under Node: the same numbers as the local course, and no nested workers. (Registered, not
    // set: setup() resets tfjs's flags, which would detect threads again on an isolated page.)
    tf.env().registerFlag("WASM_HAS_MULTITHREAD_SUPPORT", () => false);
    setPlatform(browserPlatform);
    post({ type: "ready" });
  } else if (m.type === "execute") {
    void execute(m.id, m.code, m.count);
  } else if (m.type === "interrupt") {
    if (m.id === current) {
      interrupted = true;
      isInterrupted();
    }
  }
};
