// Figures of attention weights across heads: a grid of heatmaps, and a head view.
import * as tf from "@tensorflow/tfjs";
import { checkPositiveInt, checkTensor, describeValue, shapeStr } from "../core/checks";
import { checkRange, toMatrix, type Figure } from "./figures";

/** Plotly's default trace colours, one per head. */
const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

/** weights [heads, T, T] as number[][][], checking shape and labels. */
function perHead(weights: tf.Tensor | number[][][], tokens: string[], fn: string): number[][][] {
  if (weights instanceof tf.Tensor) checkTensor(weights, fn, "weights");
  else if (!Array.isArray(weights))
    throw new Error(`${fn}: weights must be a tensor or nested arrays [heads, tokens, tokens], got ${weights === null ? "null" : typeof weights}`);
  if (!Array.isArray(tokens) || !tokens.every((t) => typeof t === "string")) {
    throw new Error(
      `${fn}: tokens must be an array of strings (one label per token), got ${tokens === undefined ? "undefined" : JSON.stringify(tokens)?.slice(0, 60)}`,
    );
  }
  const w = weights instanceof tf.Tensor ? (weights.arraySync() as number[][][]) : weights;
  const shape = weights instanceof tf.Tensor ? weights.shape : [w.length, w[0]?.length ?? 0, w[0]?.[0]?.length ?? 0];
  if (shape.length !== 3 || shape[1] !== shape[2] || shape[0] === 0 || shape[1] === 0) {
    throw new Error(
      `${fn}: weights must be [heads, tokens, tokens], got shape ${shapeStr(shape)} (take one batch item first, e.g. weights.gather(0))`,
    );
  }
  if (tokens.length !== shape[1]) {
    throw new Error(`${fn}: ${tokens.length} token labels for ${shape[1]} tokens; expected one label per token`);
  }
  return w.map((m, h) => {
    const z = toMatrix(m, fn, `the weights of head ${h}`); // numbers, finite
    if (z.length !== shape[1] || z[0].length !== shape[1])
      throw new Error(
        `${fn}: head ${h} is [${z.length}, ${z[0].length}], head 0 is [${shape[1]}, ${shape[1]}]; expected every head [tokens, tokens]`,
      );
    return z;
  });
}

/** The options are an object, the title text. */
function checkHeadOptions(options: unknown, fn: string): asserts options is { title?: string } {
  if (typeof options !== "object" || options === null)
    throw new Error(`${fn}: options must be an object like { title: "..." }, got ${describeValue(options)}`);
  const title = (options as { title?: unknown }).title;
  if (title !== undefined && typeof title !== "string") throw new Error(`${fn}: title must be a string, got ${describeValue(title)}`);
}

/** One name per head, if names are given. */
function checkHeadNames(names: unknown, heads: number, fn: string): void {
  if (names === undefined) return;
  if (!Array.isArray(names) || names.length !== heads || !names.every((n) => typeof n === "string"))
    throw new Error(
      `${fn}: headNames must be ${heads} strings, one per head, got ${Array.isArray(names) ? JSON.stringify(names) : describeValue(names)}`,
    );
}

/**
 * One heatmap per head, side by side, tokens on both axes (query rows, key columns), one colour scale.
 * weights [heads, T, T]
 */
export function headHeatmaps(
  weights: tf.Tensor | number[][][],
  tokens: string[],
  options: { title?: string; columns?: number; zmax?: number; headNames?: string[] } = {},
): Figure {
  const fn = "headHeatmaps";
  checkHeadOptions(options, fn);
  const w = perHead(weights, tokens, fn);
  const heads = w.length;
  checkHeadNames(options.headNames, heads, fn);
  if (options.columns !== undefined) checkPositiveInt(options.columns, fn, "columns");
  if (options.zmax !== undefined) checkRange(0, options.zmax, fn, "the colour range [0, zmax]");
  const columns = Math.min(options.columns ?? heads, heads);
  const rows = Math.ceil(heads / columns);
  const names = options.headNames ?? w.map((_, h) => `head ${h}`);
  const idx = tokens.map((_, i) => i);
  const layout: Record<string, unknown> = {
    title: options.title ? { text: options.title } : undefined,
    height: 120 + rows * 320,
    grid: { rows, columns, pattern: "independent" },
    margin: { l: 80, r: 30, t: options.title ? 80 : 40, b: 70 },
    annotations: [] as unknown[],
  };
  const data = w.map((z, h) => {
    const suffix = h === 0 ? "" : String(h + 1);
    layout[`xaxis${suffix}`] = { tickmode: "array", tickvals: idx, ticktext: tokens, title: { text: "key" } };
    layout[`yaxis${suffix}`] = {
      tickmode: "array",
      tickvals: idx,
      ticktext: tokens,
      autorange: "reversed",
      title: h % columns === 0 ? { text: "query" } : undefined,
    };
    (layout.annotations as unknown[]).push({
      text: `<b>${names[h]}</b>`,
      showarrow: false,
      xref: `x${suffix} domain`,
      yref: `y${suffix} domain`,
      x: 0.5,
      y: 1.08,
    });
    return {
      type: "heatmap",
      z,
      x: idx,
      y: idx,
      xaxis: `x${suffix}`,
      yaxis: `y${suffix}`,
      zmin: 0,
      zmax: options.zmax ?? 1,
      colorscale: [
        [0, "#f7fbff"],
        [0.5, "#6baed6"],
        [1, "#08306b"],
      ],
      showscale: h === heads - 1,
      customdata: tokens.map((q) => tokens.map((k) => [q, k])),
      hovertemplate: `${names[h]}<br>query %{customdata[0]}<br>key %{customdata[1]}<br>weight %{z:.4f}<extra></extra>`,
      texttemplate: tokens.length <= 10 ? "%{z:.2f}" : undefined,
    };
  });
  return { data, layout };
}

/**
 * A head view: the tokens in two columns (queries left, keys right) and a line from each query to each
 * key whose opacity is the attention weight; one colour per head, heads toggled from the legend.
 * weights [heads, T, T]
 */
export function headView(
  weights: tf.Tensor | number[][][],
  tokens: string[],
  options: { title?: string; headNames?: string[]; minWeight?: number } = {},
): Figure {
  const fn = "headView";
  checkHeadOptions(options, fn);
  const w = perHead(weights, tokens, fn);
  checkHeadNames(options.headNames, w.length, fn);
  const mw = options.minWeight;
  if (mw !== undefined && !(typeof mw === "number" && mw >= 0 && mw <= 1))
    throw new Error(`${fn}: minWeight must be a weight from 0 to 1, got ${describeValue(mw)}`);
  w.forEach((m, h) =>
    m.forEach((row, i) => {
      const j = row.findIndex((v) => v < 0 || v > 1);
      if (j >= 0) throw new Error(`${fn}: head ${h} has the weight ${row[j]} at row ${i}, column ${j}; expected attention weights from 0 to 1`);
    }),
  );
  const n = tokens.length;
  const names = options.headNames ?? w.map((_, h) => `head ${h}`);
  const minWeight = options.minWeight ?? 0.01;
  const bins = 10; // lines are grouped by opacity so a head is a few traces, not T x T
  const data: Record<string, unknown>[] = [];
  w.forEach((m, h) => {
    const colour = COLOURS[h % COLOURS.length];
    const offset = w.length > 1 ? (h / (w.length - 1) - 0.5) * 0.12 : 0; // heads side by side
    for (let b = 0; b < bins; b++) {
      const x: (number | null)[] = [];
      const y: (number | null)[] = [];
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          const v = m[i][j];
          if (v < minWeight || Math.min(bins - 1, Math.floor(v * bins)) !== b) continue;
          x.push(0, 1, null);
          y.push(i + offset, j + offset, null);
        }
      }
      if (x.length === 0) continue;
      data.push({
        type: "scatter",
        mode: "lines",
        x,
        y,
        name: names[h],
        legendgroup: names[h],
        showlegend: false,
        opacity: (b + 0.5) / bins,
        line: { color: colour, width: 3 },
        hoverinfo: "skip",
      });
    }
    // One legend entry per head; its points carry the weights on hover.
    const hx: number[] = [];
    const hy: number[] = [];
    const text: string[] = [];
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        if (m[i][j] < minWeight) continue;
        hx.push(0.5);
        hy.push((i + j) / 2 + offset);
        text.push(`${names[h]}: ${tokens[i]} → ${tokens[j]}: ${m[i][j].toFixed(4)}`);
      }
    }
    data.push({
      type: "scatter",
      mode: "markers",
      x: hx,
      y: hy,
      text,
      hoverinfo: "text",
      name: names[h],
      legendgroup: names[h],
      marker: { color: colour, size: 6, opacity: 0.35 },
      showlegend: true,
    });
  });
  const idx = tokens.map((_, i) => i);
  data.push(
    {
      type: "scatter",
      mode: "text",
      x: idx.map(() => -0.02),
      y: idx,
      text: tokens,
      textposition: "middle left",
      hoverinfo: "skip",
      showlegend: false,
    },
    {
      type: "scatter",
      mode: "text",
      x: idx.map(() => 1.02),
      y: idx,
      text: tokens,
      textposition: "middle right",
      hoverinfo: "skip",
      showlegend: false,
    },
  );
  return {
    data,
    layout: {
      title: options.title ? { text: options.title } : undefined,
      height: 140 + n * 45,
      width: 560,
      margin: { l: 20, r: 20, t: options.title ? 70 : 30, b: 20 },
      xaxis: { visible: false, range: [-0.45, 1.45] },
      yaxis: { visible: false, autorange: "reversed" },
      legend: { title: { text: "click to show/hide" } },
      annotations: [
        { x: 0, y: -0.8, text: "<b>query</b>", showarrow: false, xanchor: "right" },
        { x: 1, y: -0.8, text: "<b>key</b>", showarrow: false, xanchor: "left" },
      ],
    },
  };
}
