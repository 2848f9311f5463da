// Print tensors the way PyTorch does, so a learner can hold our output next to the book's:
//   tensor([0.4419, 0.6515, 0.5683])
//   tensor([[0.9544, 1.4950],
//           [0.4753, 0.8434]])
// Four decimals, right-aligned columns, scientific notation when magnitudes differ a lot,
// and large tensors summarised with "..." (then the shape is shown too).
import * as tf from "@tensorflow/tfjs";
import { inspect } from "util";

export interface PrintOptions {
  /** Digits after the decimal point (PyTorch's default: 4). */
  precision?: number;
  /** Summarise tensors with more elements than this (PyTorch's default: 1000). */
  threshold?: number;
  /** Items shown at each end of a summarised axis (default 3). */
  edgeItems?: number;
  /** Wrap 1-D rows at this many characters (default 80). */
  lineWidth?: number;
}

type Value = number | boolean;

const DEFAULTS: Required<PrintOptions> = { precision: 4, threshold: 1000, edgeItems: 3, lineWidth: 80 };

/** Python's "{:.Ne}": 1.2346e+03, with at least two exponent digits. */
function sci(v: number, precision: number): string {
  const s = v.toExponential(precision);
  return s.replace(/e([+-])(\d)$/, "e$10$2");
}

function fixed(v: number, precision: number): string {
  const s = v.toFixed(precision);
  return Object.is(v, -0) || (v < 0 && !s.startsWith("-")) ? `-${s}` : s;
}

function special(v: number): string | null {
  if (Number.isNaN(v)) return "nan";
  if (v === Infinity) return "inf";
  if (v === -Infinity) return "-inf";
  return null;
}

/** Chooses one number format for a whole tensor, like torch's _Formatter. */
class Formatter {
  private intMode = true;
  private sciMode = false;
  private maxWidth = 1;

  constructor(
    values: Value[],
    private readonly floating: boolean,
    private readonly precision: number,
  ) {
    if (!floating) {
      for (const v of values) this.maxWidth = Math.max(this.maxWidth, this.raw(v).length);
      return;
    }
    const nz = (values as number[]).filter((v) => Number.isFinite(v) && v !== 0);
    if (nz.length === 0) return;
    let min = Infinity;
    let max = 0;
    for (const v of nz) {
      min = Math.min(min, Math.abs(v));
      max = Math.max(max, Math.abs(v));
    }
    this.intMode = nz.every((v) => v === Math.ceil(v));
    const widths = (f: (v: number) => string) => {
      for (const v of nz) this.maxWidth = Math.max(this.maxWidth, f(v).length);
    };
    if (this.intMode) {
      if (max / min > 1000 || max > 1e8) {
        this.sciMode = true;
        widths((v) => sci(v, precision));
      } else {
        widths((v) => `${v.toFixed(0)}.`);
      }
    } else if (max / min > 1000 || max > 1e8 || min < 1e-4) {
      this.sciMode = true;
      widths((v) => sci(v, precision));
    } else {
      widths((v) => fixed(v, precision));
    }
  }

  get width(): number {
    return this.maxWidth;
  }

  private raw(v: Value): string {
    if (typeof v === "boolean") return v ? "True" : "False";
    if (!this.floating) return String(v);
    const sp = special(v);
    if (sp) return sp;
    if (this.sciMode) return sci(v, this.precision);
    if (this.intMode) return `${v.toFixed(0)}.`;
    return fixed(v, this.precision);
  }

  format(v: Value): string {
    const s = this.raw(v);
    return " ".repeat(Math.max(0, this.maxWidth - s.length)) + s;
  }
}

/** A nested array view over flat row-major data. */
interface View {
  data: ArrayLike<Value>;
  shape: number[];
  offset: number;
}

function sub(v: View, i: number): View {
  return { data: v.data, shape: v.shape.slice(1), offset: v.offset + i * tf.util.sizeFromShape(v.shape.slice(1)) };
}

function at(v: View, i: number): Value {
  return v.data[v.offset + i];
}

function edgeIndices(n: number, summarize: boolean, edge: number): (number | null)[] {
  if (!summarize || n <= 2 * edge) return Array.from({ length: n }, (_, i) => i);
  const head = Array.from({ length: edge }, (_, i) => i);
  const tail = Array.from({ length: edge }, (_, i) => n - edge + i);
  return [...head, null, ...tail];
}

/** The values the formatter looks at: all of them, or the shown edges of a summarised tensor. */
function shownValues(v: View, summarize: boolean, edge: number): Value[] {
  if (v.shape.length === 0) return [at(v, 0)];
  const out: Value[] = [];
  for (const i of edgeIndices(v.shape[0], summarize, edge)) {
    if (i === null) continue;
    if (v.shape.length === 1) out.push(at(v, i));
    else out.push(...shownValues(sub(v, i), summarize, edge));
  }
  return out;
}

function vectorStr(v: View, indent: number, summarize: boolean, f: Formatter, o: Required<PrintOptions>): string {
  const elementLength = f.width + 2;
  const perLine = Math.max(1, Math.floor((o.lineWidth - indent) / elementLength));
  const items = edgeIndices(v.shape[0], summarize, o.edgeItems).map((i) => (i === null ? " ..." : f.format(at(v, i))));
  const lines: string[] = [];
  for (let i = 0; i < items.length; i += perLine) lines.push(items.slice(i, i + perLine).join(", "));
  return `[${lines.join(`,\n${" ".repeat(indent + 1)}`)}]`;
}

function tensorStr(v: View, indent: number, summarize: boolean, f: Formatter, o: Required<PrintOptions>): string {
  const dim = v.shape.length;
  if (dim === 0) return f.format(at(v, 0));
  if (dim === 1) return vectorStr(v, indent, summarize, f, o);
  const slices = edgeIndices(v.shape[0], summarize, o.edgeItems).map((i) => (i === null ? "..." : tensorStr(sub(v, i), indent + 1, summarize, f, o)));
  return `[${slices.join("," + "\n".repeat(dim - 1) + " ".repeat(indent + 1))}]`;
}

/** Format flat row-major values of the given shape like PyTorch's `repr(tensor)`. */
export function formatValues(
  data: ArrayLike<Value>,
  shape: number[],
  dtype: "float32" | "int32" | "bool" = "float32",
  options: PrintOptions = {},
): string {
  if (typeof options !== "object" || options === null)
    throw new Error(
      `formatTensor: options must be an object like { precision: 4 }, got ${typeof options === "string" ? JSON.stringify(options) : String(options)}`,
    );
  const o = { ...DEFAULTS, ...options };
  const notNumber = (["threshold", "lineWidth"] as const).find((k) => typeof o[k] !== "number");
  if (notNumber) throw new Error(`formatTensor: ${notNumber} must be a number, got ${JSON.stringify(o[notNumber])}`);
  if (!(Number.isInteger(o.precision) && o.precision >= 0 && o.precision <= 16))
    throw new Error(`formatTensor: precision must be an integer from 0 to 16, got ${o.precision}`);
  if (!(o.threshold >= 0)) throw new Error(`formatTensor: threshold must be a number >= 0 (Infinity prints everything), got ${o.threshold}`);
  if (!(Number.isInteger(o.edgeItems) && o.edgeItems >= 1)) throw new Error(`formatTensor: edgeItems must be a positive integer, got ${o.edgeItems}`);
  if (!(o.lineWidth >= 1)) throw new Error(`formatTensor: lineWidth must be a positive number, got ${o.lineWidth}`);
  const size = shape.reduce((a, b) => a * b, 1);
  if (data.length !== size) {
    throw new Error(`formatValues: ${data.length} values do not fill shape [${shape.join(", ")}] (${size})`);
  }
  const prefix = "tensor(";
  if (size === 0) return `${prefix}[], size=(${shape.join(", ")}${shape.length === 1 ? "," : ""}))`;
  const view: View = { data, shape, offset: 0 };
  const summarize = size > o.threshold;
  const values = dtype === "bool" ? Array.from(data, (x) => Boolean(x)) : Array.from(data as ArrayLike<number>);
  const formatter = new Formatter(shownValues({ ...view, data: values }, summarize, o.edgeItems), dtype === "float32", o.precision);
  const body = tensorStr({ ...view, data: values }, prefix.length, summarize, formatter, o);
  const suffix = summarize ? `, shape=[${shape.join(", ")}]` : "";
  return `${prefix}${body}${suffix})`;
}

/** Format a tensor like PyTorch prints it. Reads the tensor's values synchronously. */
export function formatTensor(t: tf.Tensor, options: PrintOptions = {}): string {
  if (!(t instanceof tf.Tensor))
    throw new Error(
      `formatTensor: expected a tf.Tensor, got ${t === null ? "null" : Array.isArray(t) ? "a plain array (wrap it with tf.tensor(...))" : typeof t}`,
    );
  if (t.isDisposed) return "tensor(<disposed>)";
  const dtype = t.dtype === "int32" || t.dtype === "bool" ? t.dtype : "float32";
  if (t.dtype === "complex64" || t.dtype === "string") {
    return `tensor(<${t.dtype}>, shape=[${t.shape.join(", ")}])`;
  }
  return formatValues(t.dataSync() as ArrayLike<number>, t.shape, dtype, options);
}

/** Python's print: tensors print like PyTorch, everything else as Node would show it. */
export function print(...values: unknown[]): void {
  const parts = values.map((v) => (v instanceof tf.Tensor ? formatTensor(v) : typeof v === "string" ? v : inspect(v, { depth: 4 })));
  console.log(parts.join(" "));
}

/**
 * Make tensors show PyTorch-style wherever Node prints them: `console.log(t)`, and the value of
 * a notebook cell's last line. Called by `setup()`; calling it again changes nothing.
 */
export function installTensorPrinting(): void {
  Object.defineProperty(tf.Tensor.prototype, inspect.custom, {
    value(this: tf.Tensor) {
      return formatTensor(this);
    },
    configurable: true,
    writable: true,
  });
}
