// Everything the library needs from where it runs: files, hashes, settings, Interrupt and the notebook's display.
// Under Node (tslab, mocha, scripts) these are Node's modules; the browser course (JupyterLite) installs its own
// with setPlatform() before a notebook runs, so one build of the library serves both.
import { createHash, randomBytes } from "crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "fs";
import { dirname } from "path";

export type Bundle = Record<string, unknown>;
export type WriteDisplayData = (msg: { data: Bundle; metadata: object; transient: object }, update: boolean) => void;

/** plotly.js for the notebook page: its source to inline, or the address of a copy the page can load. */
export type PlotlySource = { version: string; code: string } | { version: string; url: string };

export interface Platform {
  /** "node" or "browser", for messages. */
  readonly name: string;
  /** A file's text; `path` is relative to the notebook's folder (the kernel's working directory). */
  readText(path: string): string;
  /** A file's bytes. */
  readBytes(path: string): Uint8Array;
  exists(path: string): boolean;
  /** Write a file, making its folder first. */
  writeFile(path: string, data: string | Uint8Array): void;
  /** SHA-256 of the bytes, as lowercase hex. */
  sha256(bytes: Uint8Array): string;
  /** `n` random bytes as hex (ids of figures and displays). */
  randomHex(n: number): string;
  /** A setting such as ATTENTION_TRAIN_SECONDS (Node: the environment variable). */
  env(name: string): string | undefined;
  /** Call `listener` on the kernel's Interrupt until the returned function is called. */
  onInterrupt(listener: () => void): () => void;
  /** Let other work run (Interrupt, live plots) before going on. */
  yieldToEventLoop(): Promise<void>;
  /** The channel to the notebook's outputs while a cell runs, or null outside a kernel. */
  displayChannel(): WriteDisplayData | null;
  /** plotly.js: `file` of `pkg`. */
  plotly(pkg: string, file: string): PlotlySource;
}

/** The Node implementation: Node's fs and crypto, process.env, SIGINT, and tslab's display channel. */
export const nodePlatform: Platform = {
  name: "node",
  readText: (path) => readFileSync(path, "utf8"),
  readBytes: (path) => readFileSync(path),
  exists: (path) => existsSync(path),
  writeFile(path, data) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, data);
  },
  sha256: (bytes) => createHash("sha256").update(bytes).digest("hex"),
  randomHex: (n) => randomBytes(n).toString("hex"),
  env: (name) => process.env[name],
  onInterrupt(listener) {
    // Jupyter's Interrupt is a SIGINT to the kernel.
    process.on("SIGINT", listener);
    return () => void process.removeListener("SIGINT", listener);
  },
  yieldToEventLoop: () => new Promise((r) => setImmediate(r)),
  displayChannel() {
    // Look tslab up in require's cache instead of requiring it: loading tslab outside a kernel (mocha, node
    // scripts) would pull in its TypeScript compiler for nothing.
    for (const [key, mod] of Object.entries(require.cache)) {
      if (mod && /[\\/]tslab[\\/]dist[\\/]jupyter\.js$/.test(key)) {
        const fn = (mod.exports as { lastWriteDisplayData?: WriteDisplayData }).lastWriteDisplayData;
        if (typeof fn === "function") return fn;
      }
    }
    return null;
  },
  plotly(pkg, file) {
    const pkgJson = require.resolve(`${pkg}/package.json`);
    const version = (JSON.parse(readFileSync(pkgJson, "utf8")) as { version: string }).version;
    return { version, code: readFileSync(pkgJson.replace(/package\.json$/, file), "utf8") };
  },
};

let current: Platform = nodePlatform;

/** Where the library is running now. */
export function platform(): Platform {
  return current;
}

/** Install another platform (the browser kernel does, before any cell runs); returns the one it replaced. */
export function setPlatform(p: Platform): Platform {
  const names = [
    "readText",
    "readBytes",
    "exists",
    "writeFile",
    "sha256",
    "randomHex",
    "env",
    "onInterrupt",
    "yieldToEventLoop",
    "displayChannel",
    "plotly",
  ];
  const missing = names.filter((k) => typeof (p as unknown as Record<string, unknown>)?.[k] !== "function");
  if (missing.length > 0) throw new Error(`setPlatform: expected a Platform object, got one without ${missing.join(", ")}`);
  const old = current;
  current = p;
  return old;
}
