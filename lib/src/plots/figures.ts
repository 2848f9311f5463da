// Figure builders: plain plotly.js specs ({ data, layout, frames }) for the plots the course draws.
// They only build data; `show` (./show) puts a figure on screen.
import * as tf from "@tensorflow/tfjs";
import { checkBoolean, checkTensor, describeValue, shapeStr } from "../core/checks";

/** A plotly.js figure: traces, layout, and optional animation frames. */
/** One plotly trace (a scatter line, a heatmap, ...), as plotly.js reads it. */
type Trace = Record<string, unknown>;

export interface Figure {
  data: Record<string, unknown>[];
  layout: Record<string, unknown>;
  frames?: { name: string; data: Record<string, unknown>[] }[];
}

/** Numbers to plot: a tensor, or plain arrays. */
export type Vector = tf.Tensor | ArrayLike<number>;
export type Matrix = tf.Tensor | ArrayLike<number>[];

/** NaN or ±Infinity would draw as a gap, or stretch a colour scale to nothing: refuse them, saying where. */
function checkFiniteValues(rows: number[][], fn: string, name: string): void {
  rows.forEach((r, i) => {
    const j = r.findIndex((x) => !Number.isFinite(x));
    if (j >= 0) {
      const where = rows.length > 1 ? `row ${i}, column ${j}` : `entry ${j}`;
      throw new Error(
        `${fn}: ${name} holds ${r[j]} at ${where}; expected finite numbers (check the computation that made them, or replace masked -Infinity scores by their weights)`,
      );
    }
  });
}

/** A tensor or nested arrays as number[][] (rows), checking it is 2-D and finite. */
export function toMatrix(m: Matrix, fn: string, name = "values"): number[][] {
  if (m instanceof tf.Tensor) {
    checkTensor(m, fn, name);
    if (m.rank !== 2 || m.size === 0)
      throw new Error(`${fn}: ${name} must be a non-empty 2-D tensor [rows, columns], got shape ${shapeStr(m.shape)}`);
    const rows = m.arraySync() as number[][];
    checkFiniteValues(rows, fn, name);
    return rows;
  }
  if (!Array.isArray(m) || m.length === 0)
    throw new Error(`${fn}: ${name} must be a non-empty 2-D array or tensor [rows, columns], got ${describe(m)}`);
  const rows = m.map((r, i) => {
    if (!isNumberList(r))
      throw new Error(`${fn}: ${name} must be 2-D [rows, columns], but row ${i} is ${describe(r)} (for one row of numbers, wrap it: [values])`);
    return numbers(r, fn, `${name}, row ${i}`);
  });
  const width = rows[0].length;
  rows.forEach((r, i) => {
    if (r.length !== width) throw new Error(`${fn}: ${name}: row ${i} has ${r.length} values, row 0 has ${width}`);
  });
  if (width === 0) throw new Error(`${fn}: ${name} has no columns`);
  checkFiniteValues(rows, fn, name);
  return rows;
}

/** How a wrong argument looks, for messages: "undefined", "a string", "an object". */
function describe(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (typeof v === "object") return "an object";
  return `${typeof v === "number" ? "the number" : typeof v === "string" ? "the string" : "a " + typeof v} ${JSON.stringify(v)?.slice(0, 40)}`;
}

/** Plain values as numbers, refusing what is not a number. */
function numbers(v: ArrayLike<unknown>, fn: string, name: string): number[] {
  const out = Array.from(v);
  const bad = out.findIndex((x) => typeof x !== "number");
  if (bad >= 0) throw new Error(`${fn}: ${name} must hold numbers, but entry ${bad} is ${describe(out[bad])}`);
  return out as number[];
}

/** A tensor or array as number[], checking it is 1-D and finite. */
export function toVector(v: Vector, fn: string, name = "values"): number[] {
  let values: number[];
  if (v instanceof tf.Tensor) {
    checkTensor(v, fn, name);
    if (v.rank !== 1) throw new Error(`${fn}: ${name} must be a 1-D tensor, got shape ${shapeStr(v.shape)}`);
    values = Array.from(v.dataSync());
  } else {
    if (!isNumberList(v)) throw new Error(`${fn}: ${name} must be a 1-D tensor or an array of numbers, got ${describe(v)}`);
    values = numbers(v, fn, name);
  }
  checkFiniteValues([values], fn, name);
  return values;
}

function checkLabels(labels: string[] | undefined, n: number, fn: string, what: string): string[] {
  if (labels === undefined) return Array.from({ length: n }, (_, i) => String(i));
  if (!Array.isArray(labels)) throw new Error(`${fn}: the ${what} labels must be an array of strings, got ${describe(labels)}`);
  if (labels.length !== n) {
    throw new Error(`${fn}: ${labels.length} ${what} labels for ${n} ${what}s; expected one label per ${what}`);
  }
  return labels.map(String);
}

/**
 * The options every figure shares: an object (or left out), a title that is text, a height in pixels > 0, a y range
 * [low, high] with low < high. A wrong one would draw an empty or broken figure, or be ignored without a word.
 */
export function checkFigureOptions(options: unknown, fn: string): asserts options is ChartOptions {
  if (typeof options !== "object" || options === null || Array.isArray(options))
    throw new Error(`${fn}: options must be an object like { title: "..." }, got ${describe(options)}`);
  const o = options as ChartOptions;
  if (o.title !== undefined && typeof o.title !== "string") throw new Error(`${fn}: title must be a string, got ${describe(o.title)}`);
  if (o.height !== undefined && !(typeof o.height === "number" && Number.isFinite(o.height) && o.height > 0))
    throw new Error(`${fn}: height must be a number of pixels > 0, got ${describe(o.height)}`);
  if (o.yRange !== undefined) {
    if (!Array.isArray(o.yRange) || o.yRange.length !== 2) throw new Error(`${fn}: yRange must be [low, high], got ${describe(o.yRange)}`);
    checkRange(o.yRange[0], o.yRange[1], fn, "yRange");
  }
}

/** A range [low, high]: two finite numbers with low < high (an inverted or empty range draws nothing). */
export function checkRange(low: unknown, high: unknown, fn: string, what: string): void {
  if (typeof low !== "number" || typeof high !== "number" || !Number.isFinite(low) || !Number.isFinite(high))
    throw new Error(`${fn}: ${what} must be two finite numbers [low, high], got [${describeValue(low)}, ${describeValue(high)}]`);
  if (!(low < high)) throw new Error(`${fn}: ${what} [${low}, ${high}] is empty or inverted; expected low < high`);
}

/** On a log axis only values > 0 have a place: 0 and negative values would silently vanish from the plot. */
function checkLogValues(values: (number | null)[], fn: string, name: string, axis: string): void {
  const i = values.findIndex((v) => v !== null && v <= 0);
  if (i >= 0) {
    throw new Error(
      `${fn}: ${name} holds ${values[i]} at entry ${i}, but the ${axis} axis is logarithmic; expected values > 0 (or turn off ${axis === "x" ? "logX" : "logY"})`,
    );
  }
}

function base(title?: string, height?: number): Record<string, unknown> {
  return {
    title: title ? { text: title } : undefined,
    height: height ?? 420,
    margin: { l: 70, r: 30, t: title ? 60 : 30, b: 60 },
  };
}

/** Light for small values, dark blue for large ones: a heavy attention weight is a dark cell. */
const WHITE_TO_BLUE = [
  [0, "#f7fbff"],
  [0.5, "#6baed6"],
  [1, "#08306b"],
];

export interface HeatmapOptions {
  /** Labels of the columns (x axis), e.g. the keys' tokens. */
  x?: string[];
  /** Labels of the rows (y axis), e.g. the queries' tokens. */
  y?: string[];
  title?: string;
  xTitle?: string;
  yTitle?: string;
  /** Colour range; by default from the data. */
  zmin?: number;
  zmax?: number;
  /** Write each value in its cell (default: when the matrix has at most 12 x 12 cells). */
  showValues?: boolean;
  /** A plotly colorscale name ("Viridis", ...) or [[0, colour], ..., [1, colour]]. */
  colorscale?: string | (string | number)[][];
  height?: number;
}

/**
 * A heatmap of a matrix [rows, columns], row 0 at the top, with token labels on both axes and
 * the value on hover. Tokens may repeat ("the ... the"): each row and column keeps its own place.
 */
export function heatmap(values: Matrix, options: HeatmapOptions = {}): Figure {
  checkFigureOptions(options, "heatmap");
  const z = toMatrix(values, "heatmap");
  const rows = z.length;
  const cols = z[0].length;
  const x = checkLabels(options.x, cols, "heatmap", "column");
  const y = checkLabels(options.y, rows, "heatmap", "row");
  const customdata = y.map((yl) => x.map((xl) => [yl, xl]));
  const xTitle = options.xTitle ?? "";
  const yTitle = options.yTitle ?? "";
  if (options.showValues !== undefined) checkBoolean(options.showValues, "heatmap", "showValues");
  const cs = options.colorscale;
  if (cs !== undefined && !(typeof cs === "string" || (Array.isArray(cs) && cs.length > 0)))
    throw new Error(`heatmap: colorscale must be a plotly colorscale name ("Viridis") or [[0, colour], ..., [1, colour]], got ${describe(cs)}`);
  const show = options.showValues ?? (rows <= 12 && cols <= 12);
  // plotly applies zmin/zmax only as a pair: fill in the missing one from the data.
  const finite = z.flat().filter(Number.isFinite);
  const zmin = options.zmin ?? (options.zmax !== undefined ? finite.reduce((a, b) => Math.min(a, b), Infinity) : undefined);
  const zmax = options.zmax ?? (options.zmin !== undefined ? finite.reduce((a, b) => Math.max(a, b), -Infinity) : undefined);
  if (zmin !== undefined || zmax !== undefined) checkRange(zmin, zmax, "heatmap", "the colour range [zmin, zmax]");
  const axis = (labels: string[], title: string) => ({
    tickmode: "array",
    tickvals: labels.map((_, i) => i),
    ticktext: labels,
    title: title ? { text: title } : undefined,
    showgrid: false,
    zeroline: false,
  });
  // Room for the tick labels (long tokens, rotated when there are many columns) and the axis titles.
  const longest = (labels: string[]) => Math.max(1, ...labels.map((l) => l.length));
  const layoutBase = base(options.title, options.height);
  layoutBase.margin = {
    ...(layoutBase.margin as object),
    l: Math.max(70, 30 + 7 * longest(y)),
    b: cols > 12 ? Math.max(60, 40 + 6 * longest(x)) : 60,
  };
  return {
    data: [
      {
        type: "heatmap",
        z,
        x: x.map((_, i) => i),
        y: y.map((_, i) => i),
        customdata,
        hovertemplate: `${yTitle || "row"} %{customdata[0]}<br>${xTitle || "column"} %{customdata[1]}<br>value %{z:.4f}<extra></extra>`,
        colorscale: options.colorscale ?? WHITE_TO_BLUE,
        zmin,
        zmax,
        texttemplate: show ? "%{z:.2f}" : undefined,
      },
    ],
    layout: {
      ...layoutBase,
      xaxis: { ...axis(x, xTitle), side: "bottom" },
      yaxis: { ...axis(y, yTitle), autorange: "reversed" },
    },
  };
}

export interface ChartOptions {
  title?: string;
  xTitle?: string;
  yTitle?: string;
  height?: number;
  /** Fix the y range, e.g. [0, 1] for weights. */
  yRange?: [number, number];
}

/**
 * A bar chart: one bar per label; several named series become grouped bars
 * (e.g. `{ "sum": w1, "softmax": w2 }` to compare two normalizations).
 */
export function barChart(labels: string[], series: Vector | Record<string, Vector>, options: ChartOptions = {}): Figure {
  checkFigureOptions(options, "barChart");
  if (!Array.isArray(labels)) throw new Error(`barChart: labels must be an array of strings (one per bar), got ${describe(labels)}`);
  if (labels.length === 0) throw new Error("barChart: labels is empty; expected at least one bar");
  if (series === null || typeof series !== "object") {
    throw new Error(`barChart: expected values (a 1-D tensor or array) or { name: values }, got ${describe(series)}`);
  }
  const named: Record<string, Vector> =
    series instanceof tf.Tensor || isNumberList(series) ? { "": series as Vector } : (series as Record<string, Vector>);
  const entries = Object.entries(named);
  if (entries.length === 0) throw new Error("barChart: no series given; expected values, or { name: values }");
  const data = entries.map(([name, v]) => {
    const ys = toVector(v, "barChart", name ? `series '${name}'` : "values");
    checkLabels(labels, ys.length, "barChart", "bar");
    return {
      type: "bar",
      name: name || undefined,
      x: labels.map((_, i) => i),
      y: ys,
      customdata: labels,
      hovertemplate: `%{customdata}: %{y:.4f}<extra>${name}</extra>`,
    };
  });
  return {
    data,
    layout: {
      ...base(options.title, options.height),
      barmode: "group",
      showlegend: entries.length > 1,
      xaxis: { tickmode: "array", tickvals: labels.map((_, i) => i), ticktext: labels, title: options.xTitle ? { text: options.xTitle } : undefined },
      yaxis: { title: options.yTitle ? { text: options.yTitle } : undefined, range: options.yRange },
    },
  };
}

function isNumberList(v: unknown): v is ArrayLike<number> {
  return Array.isArray(v) || ArrayBuffer.isView(v);
}

/** One line of a line chart. `x` defaults to 0, 1, 2, ... */
export interface Line {
  name: string;
  /** The values; null leaves a gap (no point there). NaN is refused: it usually means a computation went wrong. */
  y: Vector | (number | null)[];
  x?: Vector;
  /** A label written next to each point (e.g. the token of each step). */
  text?: string[];
}

/** A line's y values: a vector, where null marks a gap. */
function lineValues(y: Vector | (number | null)[], name: string): (number | null)[] {
  if (!Array.isArray(y) || !y.includes(null)) return toVector(y as Vector, "lineChart", name);
  const known = toVector(
    y.filter((v): v is number => v !== null),
    "lineChart",
    `${name} (apart from its gaps)`,
  );
  let k = 0;
  return y.map((v) => (v === null ? null : known[k++]));
}

/** A line chart of one or more named lines (training curves, a quantity against a size, ...). */
export function lineChart(lines: Line[], options: ChartOptions & { logX?: boolean; logY?: boolean; markers?: boolean } = {}): Figure {
  return lineFigure(lines, options, "lineChart");
}

/** lineChart for `fn`; a live chart's lines may still be empty (`emptyLines`). */
export function lineFigure(
  lines: Line[],
  options: ChartOptions & { logX?: boolean; logY?: boolean; markers?: boolean },
  fn: string,
  emptyLines = false,
): Figure {
  if (!Array.isArray(lines) || lines.length === 0)
    throw new Error(`${fn}: expected an array of lines [{ name, y, x? }], at least one, got ${Array.isArray(lines) ? "[]" : describe(lines)}`);
  checkFigureOptions(options, fn);
  for (const k of ["logX", "logY", "markers"] as const) if (options[k] !== undefined) checkBoolean(options[k], fn, k);
  const data = lines.map((l, i) => {
    if (typeof l !== "object" || l === null || typeof l.name !== "string")
      throw new Error(
        `${fn}: line ${i} must be an object { name: string, y, x? }, got ${typeof l === "object" && l !== null ? "a name of " + describe(l.name) : describe(l)}`,
      );
    const y = lineValues(l.y, `line '${l.name}' y`);
    if (!emptyLines && !y.some((v) => v !== null)) throw new Error(`${fn}: line '${l.name}' has no y values to draw; expected at least one number`);
    if (options.logX && l.x === undefined && y.length > 0)
      throw new Error(
        `${fn}: line '${l.name}' has no x values, and the default x (0, 1, 2, ...) starts at 0, which a logarithmic x axis cannot show; give x values > 0`,
      );
    const x = l.x === undefined ? y.map((_, i) => i) : toVector(l.x, fn, `line '${l.name}' x`);
    if (options.logY) checkLogValues(y, fn, `line '${l.name}' y`, "y");
    if (options.logX) checkLogValues(x, fn, `line '${l.name}' x`, "x");
    if (l.text !== undefined && (!Array.isArray(l.text) || !l.text.every((t) => typeof t === "string")))
      throw new Error(`${fn}: line '${l.name}' text must be an array of strings (one label per point), got ${describe(l.text)}`);
    if (x.length !== y.length) {
      throw new Error(`lineChart: line '${l.name}' has ${x.length} x values and ${y.length} y values; expected as many`);
    }
    if (l.text && l.text.length !== y.length) {
      throw new Error(`lineChart: line '${l.name}' has ${l.text.length} labels for ${y.length} points`);
    }
    const mode = (options.markers || l.text ? "lines+markers" : "lines") + (l.text ? "+text" : "");
    return { type: "scatter", mode, name: l.name, x, y, text: l.text, textposition: l.text ? "top center" : undefined };
  });
  return {
    data,
    layout: {
      ...base(options.title, options.height),
      showlegend: lines.length > 1,
      xaxis: { title: options.xTitle ? { text: options.xTitle } : undefined, type: options.logX ? "log" : undefined },
      yaxis: {
        title: options.yTitle ? { text: options.yTitle } : undefined,
        type: options.logY ? "log" : undefined,
        range: options.yRange,
      },
    },
  };
}

export interface VectorPlotOptions {
  title?: string;
  /** Draw these vectors thicker (by label), e.g. the query. */
  highlight?: string[];
  /** Draw vectors from the origin as arrows (default) or only their tips as points. */
  style?: "arrows" | "points";
  height?: number;
  /** Axis names, default x1, x2, x3. */
  axisNames?: string[];
}

/** Project 3-D points onto the screen for a camera turned by `azimuth` and tilted by `elevation` (radians). */
export function project3d(p: number[], azimuth: number, elevation: number): [number, number] {
  const [x, y, z] = p;
  const sx = x * Math.cos(azimuth) - y * Math.sin(azimuth);
  const depth = x * Math.sin(azimuth) + y * Math.cos(azimuth);
  const sy = z * Math.cos(elevation) - depth * Math.sin(elevation);
  return [sx, sy];
}

const DEG = Math.PI / 180;

/**
 * Embedding vectors [n, 2] or [n, 3] as arrows from the origin (or points), one labelled trace
 * per vector. 3-D vectors are drawn in a projected view with a slider that turns the camera,
 * so the figure needs no WebGL.
 */
export function vectorPlot(vectors: Matrix, labels: string[], options: VectorPlotOptions = {}): Figure {
  checkFigureOptions(options, "vectorPlot");
  const pts = toMatrix(vectors, "vectorPlot", "vectors");
  const dim = pts[0].length;
  if (dim !== 2 && dim !== 3) {
    throw new Error(`vectorPlot: vectors must be [n, 2] or [n, 3], got [${pts.length}, ${dim}]; project them to 2 or 3 dimensions first`);
  }
  const names = checkLabels(labels, pts.length, "vectorPlot", "vector");
  if (options.style !== undefined && options.style !== "arrows" && options.style !== "points")
    throw new Error(`vectorPlot: style must be "arrows" or "points", got ${describe(options.style)}`);
  if (options.highlight !== undefined && !Array.isArray(options.highlight))
    throw new Error(`vectorPlot: highlight must be an array of labels, e.g. ["journey"], got ${describe(options.highlight)}`);
  const an = options.axisNames;
  if (an !== undefined && (!Array.isArray(an) || an.length < dim || !an.every((a) => typeof a === "string")))
    throw new Error(
      `vectorPlot: axisNames must be an array of ${dim} strings (one per axis), got ${Array.isArray(an) ? JSON.stringify(an) : describe(an)}`,
    );
  const highlight = new Set(options.highlight ?? []);
  const unknown = [...highlight].filter((h) => !names.includes(h));
  if (unknown.length) throw new Error(`vectorPlot: highlight names ${unknown.join(", ")} are not among the labels ${names.join(", ")}`);
  const arrows = (options.style ?? "arrows") === "arrows";
  const axisNames = options.axisNames ?? ["x1", "x2", "x3"];
  // One trace per vector, drawn at its screen position [sx, sy]; the hover shows its own coordinates.
  const vectorTraces = (screen: [number, number][]) =>
    screen.map((s, i) => vectorTrace(s, names[i], `(${pts[i].map((v) => v.toFixed(4)).join(", ")})`, arrows, highlight.has(names[i])));
  if (dim === 2) {
    return {
      data: vectorTraces(pts.map((p) => [p[0], p[1]])),
      layout: {
        ...base(options.title, options.height),
        xaxis: { title: { text: axisNames[0] }, zeroline: true },
        yaxis: { title: { text: axisNames[1] }, zeroline: true, scaleanchor: "x" },
      },
    };
  }
  return turningView(pts, axisNames, vectorTraces, options);
}

/** One vector's scatter trace: an arrow from the origin to [sx, sy] (or only its tip), thicker when highlighted. */
function vectorTrace([sx, sy]: [number, number], name: string, hover: string, arrows: boolean, big: boolean): Trace {
  return {
    type: "scatter",
    mode: arrows ? "lines+markers+text" : "markers+text",
    name,
    x: arrows ? [0, sx] : [sx],
    y: arrows ? [0, sy] : [sy],
    text: arrows ? ["", name] : [name],
    textposition: "top center",
    hovertext: arrows ? ["origin", hover] : [hover],
    hoverinfo: "text+name",
    line: { width: big ? 5 : 2 },
    marker: arrows ? { size: [0, big ? 16 : 12], symbol: "arrow", angleref: "previous" } : { size: big ? 14 : 10 },
  };
}

/**
 * 3-D points [n, 3] projected for a camera turned in 15° steps (one frame each, a slider to turn it), with the
 * three axes drawn as dotted traces so that they turn with the camera. No WebGL needed.
 */
function turningView(
  pts: number[][],
  axisNames: string[],
  vectorTraces: (screen: [number, number][]) => Trace[],
  options: VectorPlotOptions,
): Figure {
  const extent = Math.max(1e-9, ...pts.map((p) => Math.hypot(...p))) * 1.05;
  const elevation = 25 * DEG;
  const angles = Array.from({ length: 24 }, (_, i) => i * 15);
  const tracesFor = (azDeg: number) => {
    const az = azDeg * DEG;
    const axisTraces = [0, 1, 2].map((k) => {
      const tip = [0, 0, 0];
      tip[k] = extent;
      const [sx, sy] = project3d(tip, az, elevation);
      return {
        type: "scatter",
        mode: "lines+text",
        x: [0, sx],
        y: [0, sy],
        text: ["", axisNames[k]],
        textposition: "middle right",
        line: { color: "#999", width: 1, dash: "dot" },
        hoverinfo: "skip",
        showlegend: false,
      };
    });
    return [...axisTraces, ...vectorTraces(pts.map((p) => project3d(p, az, elevation)))];
  };
  const start = 30;
  const lim = extent * 1.1;
  return {
    data: tracesFor(start),
    frames: angles.map((a) => ({ name: `${a}`, data: tracesFor(a) })),
    layout: {
      ...base(options.title, options.height ?? 520),
      width: (options.height ?? 520) + 160, // a square drawing area plus the legend
      xaxis: { visible: false, range: [-lim, lim] },
      yaxis: { visible: false, range: [-lim, lim], scaleanchor: "x" },
      sliders: [
        {
          active: angles.indexOf(start),
          currentvalue: { prefix: "turn the view: ", suffix: "°" },
          pad: { t: 20 },
          steps: angles.map((a) => ({
            label: `${a}`,
            method: "animate",
            args: [[`${a}`], { mode: "immediate", frame: { duration: 0, redraw: false }, transition: { duration: 0 } }],
          })),
        },
      ],
    },
  };
}

/**
 * Several heatmaps of the same shape and labels, one per frame, with a slider to step through them
 * (e.g. attention weights at successive training steps). The figure starts on the last frame.
 */
export function heatmapFrames(frames: { label: string; z: Matrix }[], options: HeatmapOptions & { sliderPrefix?: string } = {}): Figure {
  if (!Array.isArray(frames) || frames.length === 0) throw new Error("heatmapFrames: expected at least one frame { label, z }");
  frames.forEach((f, i) => {
    if (typeof f !== "object" || f === null || typeof f.label !== "string")
      throw new Error(
        `heatmapFrames: frame ${i} must be { label: string, z }, got ${typeof f === "object" && f !== null ? "a label of " + describe(f.label) : describe(f)}`,
      );
    if (frames.findIndex((g) => g.label === f.label) !== i)
      throw new Error(
        `heatmapFrames: frames ${frames.findIndex((g) => g.label === f.label)} and ${i} share the label '${f.label}'; the slider needs one label per frame`,
      );
  });
  const zs = frames.map((f, i) => toMatrix(f.z, "heatmapFrames", `frame ${i} ('${f.label}')`));
  zs.forEach((z, i) => {
    if (z.length !== zs[0].length || z[0].length !== zs[0][0].length) {
      throw new Error(
        `heatmapFrames: frame ${i} is [${z.length}, ${z[0].length}], frame 0 is [${zs[0].length}, ${zs[0][0].length}]; all frames must have the same shape`,
      );
    }
  });
  const last = zs.length - 1;
  const fig = heatmap(zs[last], { ...options, zmin: options.zmin ?? 0, zmax: options.zmax ?? 1, height: options.height ?? 520 });
  const trace = fig.data[0];
  fig.frames = zs.map((z, i) => ({ name: frames[i].label, data: [{ ...trace, z }] }));
  fig.layout.sliders = [
    {
      active: last,
      currentvalue: { prefix: options.sliderPrefix ?? "" },
      pad: { t: 50 },
      steps: frames.map((f) => ({
        label: f.label,
        method: "animate",
        args: [[f.label], { mode: "immediate", frame: { duration: 0, redraw: true }, transition: { duration: 0 } }],
      })),
    },
  ];
  return fig;
}
