// npm run lite [-- --serve [--port N]] [-- --out DIR]
// Builds the course in JupyterLab in the browser (JupyterLite) as a static folder, lite/ by default: the app and
// the kernel's worker bundled by esbuild, the settings schemas and the theme, the notebooks, solutions, figures and
// data, plotly.js and tfjs's wasm files. --serve then serves it with the headers that make the page cross-origin
// isolated (a service worker, sw.js, adds them on hosts that cannot).
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { dirname, extname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, "..");
const args = process.argv.slice(2);
const opt = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const OUT = resolve(ROOT, opt("--out", "lite"));
const KERNEL_NAME = "attention-course";

function run(cmd, cmdArgs, what) {
  const r = spawnSync(cmd, cmdArgs, { cwd: ROOT, stdio: "inherit" });
  if (r.status !== 0) throw new Error(`lite: ${what} failed (${cmd} ${cmdArgs.join(" ")})`);
}

/** The browser build's own dependencies (JupyterLab's front end, esbuild): installed here, never by the root install. */
function ensureDependencies() {
  if (existsSync(join(HERE, "node_modules", ".package-lock.json")) && existsSync(join(HERE, "node_modules", "esbuild"))) return;
  console.log("lite: installing the browser build's dependencies (npm ci --prefix browser) ...");
  run("npm", ["ci", "--prefix", "browser", "--no-audit", "--no-fund"], "installing browser/'s dependencies");
}

function ensureLibrary() {
  if (existsSync(join(ROOT, "lib", "dist", "index.js"))) return;
  console.log("lite: building the library (tsc -b lib) ...");
  run(process.execPath, [join(ROOT, "node_modules", "typescript", "bin", "tsc"), "-b", "lib"], "building the library");
}

const require = createRequire(join(HERE, "package.json"));
const pkgDir = (name) => dirname(require.resolve(`${name}/package.json`));
const rootRequire = createRequire(join(ROOT, "package.json"));
const rootPkgDir = (name) => dirname(rootRequire.resolve(`${name}/package.json`));

/** esbuild plugins: webpack's `~pkg/file` in CSS, one yjs, and Node's modules left out of the browser. */
function plugins(esbuild, { nodeStubs }) {
  const yjs = join(pkgDir("yjs"), "dist", "yjs.mjs");
  return [
    {
      name: "course",
      setup(build) {
        build.onResolve({ filter: /^~/ }, (a) => ({ path: require.resolve(a.path.slice(1), { paths: [a.resolveDir] }) }));
        build.onResolve({ filter: /^yjs$/ }, () => ({ path: yjs }));
        if (nodeStubs) {
          build.onResolve({ filter: /^(fs|crypto|path)$/ }, (a) => ({ path: a.path, namespace: "stub" }));
          build.onLoad({ filter: /.*/, namespace: "stub" }, () => ({ contents: "module.exports = {};", loader: "js" }));
          build.onResolve({ filter: /^util$/ }, () => ({ path: join(pkgDir("util"), "util.js") }));
        }
      },
    },
  ];
}

/**
 * JupyterLab's MathJax plugin imports MathJax's CommonJS modules with import() from an ES module package, where esbuild
 * (as Node) gives only `default`: hand it the module's exports as named ones, as webpack does.
 */
const mathjaxNamedExports = {
  name: "mathjax-named-exports",
  setup(build) {
    build.onLoad({ filter: /[\\/]@jupyterlab[\\/]mathjax-extension[\\/]lib[\\/]index\.js$/ }, (a) => ({
      contents: readFileSync(a.path, "utf8").replace(
        /import\((['"]mathjax-full\/js\/[^'"]+['"])\)/g,
        "import($1).then((m) => ({ ...m.default, ...m }))",
      ),
      loader: "js",
      resolveDir: dirname(a.path),
    }));
  },
};

async function bundle() {
  const esbuild = await import(require.resolve("esbuild"));
  const loader = { ".svg": "text", ".woff": "file", ".woff2": "file", ".ttf": "file", ".eot": "file", ".png": "file", ".gif": "file", ".md": "text" };
  const common = { bundle: true, minify: true, logLevel: "error", legalComments: "none", target: "es2022" };
  const define = { "process.env.NODE_ENV": '"production"' };
  await esbuild.build({
    ...common,
    entryPoints: { bundle: join(HERE, "src", "app.ts") },
    outdir: join(OUT, "build"),
    format: "esm",
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
    assetNames: "assets/[name]-[hash]",
    loader,
    // MathJax's require-configuration reads Node's __dirname (only outside a page).
    define: { ...define, global: "globalThis", __dirname: '"/"' },
    inject: [join(HERE, "src", "process-shim.js")],
    plugins: [...plugins(esbuild, { nodeStubs: false }), mathjaxNamedExports],
  });
  const plotly = JSON.parse(readFileSync(join(rootPkgDir("plotly.js-cartesian-dist-min"), "package.json"), "utf8"));
  await esbuild.build({
    ...common,
    entryPoints: { "kernel-worker": join(HERE, "src", "worker.ts") },
    outdir: join(OUT, "build"),
    format: "iife",
    platform: "browser",
    define: {
      ...define,
      "process.env.NODE_DEBUG": "false",
      PLOTLY_VERSION: JSON.stringify(plotly.version),
      PLOTLY_FILE: JSON.stringify("plotly-cartesian.min.js"),
    },
    plugins: plugins(esbuild, { nodeStubs: true }),
  });
  await esbuild.build({
    ...common,
    entryPoints: [join(pkgDir("@jupyterlab/theme-light-extension"), "style", "theme.css")],
    outfile: join(OUT, "build", "themes", "@jupyterlab", "theme-light-extension", "index.css"),
    loader: { ...loader, ".svg": "dataurl", ".png": "dataurl" },
    plugins: plugins(esbuild, { nodeStubs: false }),
  });
}

/** build/schemas/all.json: every bundled extension's settings schemas, as JupyterLite's settings service reads them. */
function schemas() {
  const deps = Object.keys(JSON.parse(readFileSync(join(HERE, "package.json"), "utf8")).dependencies).filter((d) => d.endsWith("-extension"));
  const all = [];
  for (const name of deps) {
    const dir = pkgDir(name);
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    const schemaDir = pkg.jupyterlab?.schemaDir;
    if (!schemaDir || !existsSync(join(dir, schemaDir))) continue;
    for (const f of readdirSync(join(dir, schemaDir))
      .filter((f) => f.endsWith(".json"))
      .sort()) {
      const schema = JSON.parse(readFileSync(join(dir, schemaDir, f), "utf8"));
      all.push({ id: `${name}:${f.replace(/\.json$/, "")}`, raw: "{}", schema, settings: {}, version: pkg.version });
    }
  }
  mkdirSync(join(OUT, "build", "schemas"), { recursive: true });
  writeFileSync(join(OUT, "build", "schemas", "all.json"), JSON.stringify(all));
  writeFileSync(join(OUT, "build", "schemas", "all_federated.json"), "[]");
  // English only: JupyterLab's own strings.
  mkdirSync(join(OUT, "api", "translations"), { recursive: true });
  writeFileSync(
    join(OUT, "api", "translations", "all.json"),
    JSON.stringify({ data: { en: { displayName: "English", nativeName: "English" } }, message: "" }),
  );
  writeFileSync(join(OUT, "api", "translations", "en.json"), JSON.stringify({ data: {}, message: "" }));
  return all.length;
}

/** files/: what the notebooks open and read; api/contents/<dir>/all.json: one listing per folder. */
function contents() {
  const files = join(OUT, "files");
  const copy = (from, filter = () => true) => cpSync(join(ROOT, from), join(files, from), { recursive: true, filter: (src) => filter(src) });
  copy("notebooks", (src) => !src.includes(".ipynb_checkpoints"));
  for (const d of ["corpus", "checkpoints", "results"]) copy(join("data", d));
  copy(join("data", "README.md"));
  const listing = (dir) => {
    const abs = join(files, dir);
    const content = readdirSync(abs)
      .sort()
      .map((name) => {
        const path = dir ? `${dir}/${name}` : name;
        const st = statSync(join(abs, name));
        const isDir = st.isDirectory();
        if (isDir) listing(path);
        const type = isDir ? "directory" : name.endsWith(".ipynb") ? "notebook" : "file";
        const mimetype = isDir
          ? null
          : name.endsWith(".ipynb") || name.endsWith(".json")
            ? "application/json"
            : (MIME[extname(name)] ?? "text/plain");
        const time = st.mtime.toISOString();
        return {
          name,
          path,
          type,
          format: null,
          mimetype,
          size: isDir ? null : st.size,
          writable: true,
          created: time,
          last_modified: time,
          content: null,
        };
      });
    const out = join(OUT, "api", "contents", dir);
    mkdirSync(out, { recursive: true });
    const time = new Date(0).toISOString();
    const model = {
      name: dir.split("/").pop() ?? "",
      path: dir,
      type: "directory",
      format: "json",
      mimetype: null,
      size: null,
      writable: true,
      created: time,
      last_modified: time,
      content,
    };
    writeFileSync(join(out, "all.json"), JSON.stringify(model));
  };
  listing("");
}

function statics() {
  const s = join(OUT, "static");
  mkdirSync(join(s, "tfjs-wasm"), { recursive: true });
  cpSync(join(rootPkgDir("plotly.js-cartesian-dist-min"), "plotly-cartesian.min.js"), join(s, "plotly-cartesian.min.js"));
  const wasm = join(rootPkgDir("@tensorflow/tfjs-backend-wasm"), "dist");
  for (const f of ["tfjs-backend-wasm.wasm", "tfjs-backend-wasm-simd.wasm"]) cpSync(join(wasm, f), join(s, "tfjs-wasm", f));
  for (const f of ["index.html", "sw.js", "kernel-logo.svg"])
    cpSync(join(HERE, "static", f), join(OUT, f === "kernel-logo.svg" ? "build/kernel-logo.svg" : f));
  mkdirSync(join(OUT, "lab"), { recursive: true });
  cpSync(join(HERE, "static", "lab.html"), join(OUT, "lab", "index.html"));
  writeFileSync(join(OUT, ".nojekyll"), "");
}

const MIME = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".ipynb": "application/json",
  ".wasm": "application/wasm",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".gif": "image/gif",
  ".woff": "font/woff",
  ".woff2": "font/woff2",
  ".ttf": "font/ttf",
  ".tsv": "text/tab-separated-values; charset=utf-8",
  ".md": "text/markdown; charset=utf-8",
  ".bin": "application/octet-stream",
};

/** Serve `dir` on localhost with the headers for cross-origin isolation (SharedArrayBuffer: Interrupt of any loop). */
export function serve(dir, port = 8000, host = "127.0.0.1") {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    let file = join(dir, decodeURIComponent(url.pathname));
    if (!file.startsWith(dir)) {
      res.writeHead(403).end();
      return;
    }
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, "index.html");
    if (!existsSync(file)) {
      res.writeHead(404, { "Content-Type": "text/plain" }).end("not found");
      return;
    }
    const body = readFileSync(file);
    res.writeHead(200, {
      "Content-Type": MIME[extname(file)] ?? "application/octet-stream",
      "Content-Length": body.length,
      "Cross-Origin-Opener-Policy": "same-origin",
      "Cross-Origin-Embedder-Policy": "require-corp",
      "Cross-Origin-Resource-Policy": "same-origin",
      "Cache-Control": "no-cache",
    });
    res.end(req.method === "HEAD" ? undefined : body);
  });
  return new Promise((ok) => server.listen(port, host, () => ok(server)));
}

function size(dir) {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) n += e.isDirectory() ? size(join(dir, e.name)) : statSync(join(dir, e.name)).size;
  return n;
}

export async function build() {
  const t0 = Date.now();
  ensureDependencies();
  ensureLibrary();
  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  await bundle();
  const n = schemas();
  contents();
  statics();
  const seconds = (Date.now() - t0) / 1000;
  const mb = size(OUT) / 1e6;
  console.log(
    `lite: built ${relative(ROOT, OUT) || "."}/ in ${seconds.toFixed(1)} s: ${mb.toFixed(1)} MB, ${n} settings schemas, kernel '${KERNEL_NAME}'`,
  );
  return { seconds, bytes: size(OUT) };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await build();
  if (args.includes("--serve")) {
    const port = Number(opt("--port", "8000"));
    await serve(OUT, port);
    console.log(`lite: serving ${relative(ROOT, OUT)}/ at http://127.0.0.1:${port}/lab/index.html (Ctrl-C stops)`);
  }
}
