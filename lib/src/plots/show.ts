// Put a figure on screen in any Jupyter front end, offline.
//
// Each figure goes out as one display message holding two views of the same figure:
//  - text/html: a <div> plus a small script that draws it with plotly.js. plotly.js itself is inlined
//    once per notebook (by `setup()`, or by the first figure when setup was skipped), so classic
//    Notebook, VS Code, JupyterLab without extensions and nbconvert's HTML all draw it without a CDN.
//  - text/plain: a one-line stand-in.
// (No application/vnd.plotly.v1+json, see figureBundle.)
// A live figure (`LivePlot`) re-sends its display with update_display_data, replacing itself in place.
import type { Figure } from "./figures";
import { jupyterDisplayChannel, type Bundle } from "../core/jupyter";
import { platform, type Platform, type PlotlySource } from "../core/platform";
import { describeValue } from "../core/checks";

export { inKernel } from "../core/jupyter";

/** The plotly.js build the course inlines: scatter, bar, heatmap and the other 2-D traces. */
export const PLOTLY_PACKAGE = "plotly.js-cartesian-dist-min";
const PLOTLY_FILE = "plotly-cartesian.min.js";

/** Class of every figure's <div>; the browser test counts them. */
export const FIGURE_CLASS = "attention-course-figure";

let plotlyCache: { from: Platform; source: PlotlySource } | null = null;

/** Where plotly.js comes from on this platform (read once). */
function plotlySource(): PlotlySource {
  if (plotlyCache?.from !== platform()) plotlyCache = { from: platform(), source: platform().plotly(PLOTLY_PACKAGE, PLOTLY_FILE) };
  return plotlyCache.source;
}

/** The plotly.js library source and version, read from node_modules (never from a CDN). */
export function plotlyLibrary(): { version: string; code: string } {
  const source = plotlySource();
  if (!("code" in source)) throw new Error(`plotlyLibrary: on this platform (${platform().name}) the page loads plotly.js from ${source.url}`);
  return source;
}

/**
 * A <script> that defines window.Plotly. The library is a UMD bundle: under require.js (nbconvert's
 * HTML, classic Notebook) it would register as an AMD module and leave window.Plotly unset, so
 * `define`, `module` and `exports` are shadowed while it runs.
 */
export function plotlyScriptHtml(): string {
  const source = plotlySource();
  const { version } = source;
  const guard = `if (!window.Plotly || window.Plotly.version !== "${version}")`;
  if ("url" in source) {
    // A copy the page loads itself (the browser course): the notebook stays small.
    const url = JSON.stringify(source.url).replace(/</g, "\\u003c");
    return (
      `<script type="text/javascript" data-plotly-version="${version}">${guard} {` +
      `var s = document.createElement("script"); s.src = ${url}; document.head.appendChild(s);}</script>`
    );
  }
  const safe = source.code.replace(/<\/script/gi, "<\\/script");
  return (
    `<script type="text/javascript" data-plotly-version="${version}">${guard} {` +
    `(function (define, module, exports) {\n${safe}\n}).call(window, undefined, undefined, undefined);` +
    `}</script>`
  );
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c] as string);
}

/** JSON that is safe inside a <script> element. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v)
    .replace(/</g, "\\u003c")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}

const CONFIG = { responsive: true, displaylogo: false };

/** What a figure's box says where its script cannot run. */
export const UNTRUSTED_NOTE =
  "This figure is drawn by a script, which Jupyter runs only in trusted output: run the notebook (or trust it) to see it.";

/** A short text stand-in for a figure, for front ends that show no HTML. */
export function figureText(fig: Figure): string {
  const title = (fig.layout.title as { text?: string } | undefined)?.text ?? "untitled";
  const kinds = [...new Set(fig.data.map((t) => String(t.type ?? "scatter")))].join(", ");
  return `<Figure '${title}': ${fig.data.length} trace(s) (${kinds})>`;
}

/** A figure from heatmap(), barChart(), lineChart(), ...: an object with a data array and a layout. */
export function checkFigure(fig: unknown, fn: string): asserts fig is Figure {
  const f = fig as Partial<Figure> | null | undefined;
  if (f === null || typeof f !== "object" || !Array.isArray(f.data) || typeof f.layout !== "object" || f.layout === null) {
    const got =
      f === null || f === undefined
        ? String(f)
        : Array.isArray(f)
          ? "an array"
          : typeof f === "object"
            ? "an object without data and layout"
            : typeof f;
    throw new Error(
      `${fn}: expected a figure made by heatmap(), barChart(), lineChart(), vectorPlot(), ... (an object with data and layout), got ${got}`,
    );
  }
}

/** The time between a live figure's redraws: a finite number of milliseconds >= 0 (-1 or NaN would redraw never or always). */
export function checkInterval(ms: unknown, fn: string): asserts ms is number {
  if (typeof ms !== "number" || !(ms >= 0) || ms === Infinity)
    throw new Error(`${fn}: minIntervalMs must be a number of milliseconds >= 0, got ${describeValue(ms)}`);
}

/** The HTML view of a figure: a div, and a script that draws it once plotly.js is there. */
export function figureHtml(fig: Figure, id: string = `fig-${platform().randomHex(6)}`): string {
  const height = Number(fig.layout.height ?? 420);
  const spec = { data: fig.data, layout: fig.layout, frames: fig.frames, config: CONFIG };
  return (
    // The note shows where scripts do not run: JupyterLab and Notebook strip them from untrusted outputs
    // (a notebook saved elsewhere and opened again). The script removes it before drawing.
    `<div id="${id}" class="${FIGURE_CLASS}" style="width:100%;min-height:${height}px">` +
    `<p class="${FIGURE_CLASS}-note" style="color:#777;padding:1em;border:1px dashed #bbb">${escapeHtml(UNTRUSTED_NOTE)}</p></div>\n` +
    `<script type="text/javascript">(function () {\n` +
    `  var div = document.getElementById(${JSON.stringify(id)});\n` +
    `  var fig = ${scriptJson(spec)};\n` +
    `  var waited = 0;\n` +
    `  function draw() {\n` +
    `    if (!div) return;\n` +
    `    if (!window.Plotly) {\n` +
    `      if (waited < 15000) { waited += 100; setTimeout(draw, 100); return; }\n` +
    `      div.textContent = "This figure needs plotly.js, which is loaded by the notebook's first cell (setup()). Run the notebook from the top.";\n` +
    `      return;\n` +
    `    }\n` +
    `    var note = div.querySelector(".${FIGURE_CLASS}-note");\n` +
    `    if (note) note.remove();\n` +
    `    window.Plotly.newPlot(div, fig).then(function () { div.setAttribute("data-drawn", "true"); });\n` +
    `  }\n` +
    `  draw();\n` +
    `})();</script>`
  );
}

/**
 * A figure as one display bundle: HTML (a div and the script that draws it) and a text stand-in. No
 * application/vnd.plotly.v1+json: JupyterLab's plotly extension would take it over, freeze live charts on
 * their first frame (it ignores update_display_data) and store a PNG of every figure in the notebook.
 */
export function figureBundle(fig: Figure, options: { withLibrary?: boolean; id?: string } = {}): Bundle {
  const html = (options.withLibrary ? plotlyScriptHtml() : "") + figureHtml(fig, options.id);
  return { "text/html": html, "text/plain": figureText(fig) };
}

// Whether this kernel already sent plotly.js to the page. Reset by `setup()`, which sends it again
// so that a notebook re-run from the top still carries the library in its first output.
let librarySent = false;

function send(data: Bundle, displayId?: string, update = false): boolean {
  const channel = jupyterDisplayChannel();
  if (!channel) return false;
  channel({ data, metadata: {}, transient: displayId ? { display_id: displayId } : {} }, update);
  return true;
}

/** Send plotly.js to the notebook page (done by `setup()`); shows one line saying so. */
export function loadPlotLibrary(): void {
  const source = plotlySource();
  const where = "code" in source ? `offline (${Math.round(source.code.length / 1024)} KB)` : "from this site";
  const note = `<div style="color:#888;font-size:85%">plots: plotly.js ${escapeHtml(source.version)} loaded ${where}</div>`;
  librarySent = send({ "text/html": plotlyScriptHtml() + note, "text/plain": `plots: plotly.js ${source.version} ready` });
}

/** Show a figure under the current cell. Outside a notebook it prints a one-line stand-in. */
export function show(fig: Figure): void {
  checkFigure(fig, "show");
  const bundle = figureBundle(fig, { withLibrary: !librarySent });
  if (send(bundle)) librarySent = true;
  else console.log(figureText(fig));
}

/**
 * A figure that redraws in place (for training curves). `update(fig)` replaces the figure shown;
 * redraws are limited to one every `minIntervalMs` (default 250 ms), and `flush()` draws the last one.
 */
export class LivePlot {
  private readonly displayId = platform().randomHex(8);
  private readonly divId = `fig-${platform().randomHex(6)}`;
  private pending: Figure | null = null;
  private lastDraw = 0;
  private shown = false;
  /** How many times the figure was actually sent to the notebook. */
  draws = 0;

  constructor(
    fig: Figure,
    private readonly minIntervalMs = 250,
  ) {
    checkFigure(fig, "LivePlot");
    checkInterval(minIntervalMs, "LivePlot");
    this.pending = fig;
    this.flush();
  }

  /** Replace the figure; drawn now, or at the next update/flush if the last draw was too recent. */
  update(fig: Figure): void {
    checkFigure(fig, "LivePlot.update");
    this.pending = fig;
    if (Date.now() - this.lastDraw >= this.minIntervalMs) this.flush();
  }

  /** Draw the latest figure now. */
  flush(): void {
    if (!this.pending) return;
    const bundle = figureBundle(this.pending, { withLibrary: !librarySent, id: this.divId });
    const sent = send(bundle, this.displayId, this.shown);
    if (sent) {
      librarySent = true;
      this.shown = true;
      this.draws++;
    }
    this.pending = null;
    this.lastDraw = Date.now();
  }
}
