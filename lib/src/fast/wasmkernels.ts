// Faster and missing kernels for tfjs's wasm backend, in place only while a speed wing runs
// (`withFastKernels`: the translators' training and translation, notebook 07's fused attention);
// notebooks 03-06 and a learner's own tfjs code always run on the stock kernels.
//
// Measured here (batch 64, hidden 128), each of these dominated a seq2seq training step:
// - Slice copied its WHOLE input out of wasm memory (readSync) before taking the slice: ~4 ms to cut one
//   time step out of a [24, 64, 384] tensor, and Unstack and Split do it once per piece. Ours read a view.
// - BatchMatMul with a transposed operand (every gradient of a product: a^T @ dy and dy @ b^T) ran up to
//   30x slower than a transpose followed by a plain product. Ours transposes first.
// - UnsortedSegmentSum (the gradient of gather, so of embeddings) is missing; ours adds rows in place.
// - Sum over leading axes (the gradient of every broadcast bias) transposed its input first; ours adds rows.
// - Gather of whole rows took ~26 ms for 1536 rows of 384; ours copies rows.
// - Tanh ran ~20x slower than Sigmoid (4.6 ms against 0.23 ms for a [64, 24, 128] tensor); ours computes
//   2 sigmoid(2x) - 1 through the stock Sigmoid (the Bahdanau score's tanh).
// The results are the same numbers; the tests compare them with the cpu backend.
import * as tf from "@tensorflow/tfjs";

/**
 * The tfjs version the speed wings' kernels (these, and seq2seq/fast/grukernels.ts) were written and tested
 * against: they reach tensors through the wasm and cpu backends' own methods. A test fails on another version.
 */
export const TESTED_TFJS = "4.22.0";

type TensorInfo = { dataId: object; shape: number[]; dtype: tf.DataType };
type WasmBackend = {
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
  disposeData(dataId: object): void;
};

const strides = (shape: number[]) => [...tf.util.computeStrides(shape), 1];

/** Copy the box [begin, begin + size) of x into a new tensor, row by contiguous row. */
function fastSlice(args: { inputs: { x: TensorInfo }; attrs: { begin: number | number[]; size: number | number[] }; backend: unknown }): TensorInfo {
  const { x } = args.inputs;
  const backend = args.backend as WasmBackend;
  const [begin, size] = tf.slice_util.parseSliceParams(x as unknown as tf.Tensor, args.attrs.begin, args.attrs.size);
  if (x.dtype === "string") throw new Error("slice of string tensors is not supported on wasm");
  const out = backend.makeOutput(size, x.dtype); // allocate first: growing the heap detaches older views
  const xv = backend.typedArrayFromHeap(x);
  const ov = backend.typedArrayFromHeap(out);
  const rank = x.shape.length;
  if (rank === 0 || ov.length === 0) {
    if (ov.length) ov[0] = xv[0];
    return out;
  }
  const xs = strides(x.shape);
  // Merge the trailing axes that are taken whole into one contiguous run.
  let inner = rank - 1;
  while (inner > 0 && begin[inner] === 0 && size[inner] === x.shape[inner]) inner--;
  const run = size.slice(inner).reduce((a, b) => a * b, 1);
  const outer = size.slice(0, inner);
  const count = outer.reduce((a, b) => a * b, 1);
  const idx = new Array<number>(inner).fill(0);
  let o = 0;
  for (let c = 0; c < count; c++) {
    let off = begin[inner] * xs[inner];
    for (let k = 0; k < inner; k++) off += (begin[k] + idx[k]) * xs[k];
    ov.set(xv.subarray(off, off + run), o);
    o += run;
    for (let k = inner - 1; k >= 0; k--) {
      if (++idx[k] < outer[k]) break;
      idx[k] = 0;
    }
  }
  return out;
}

/** out[s] = sum of the rows x[i] with segmentIds[i] = s. */
function unsortedSegmentSum(args: {
  inputs: { x: TensorInfo; segmentIds: TensorInfo };
  attrs: { numSegments: number };
  backend: unknown;
}): TensorInfo {
  const { x, segmentIds } = args.inputs;
  const backend = args.backend as WasmBackend;
  const rows = segmentIds.shape.reduce((a, b) => a * b, 1);
  const rowShape = x.shape.slice(segmentIds.shape.length);
  const width = rowShape.reduce((a, b) => a * b, 1);
  const out = backend.makeOutput([args.attrs.numSegments, ...rowShape], x.dtype);
  const xv = backend.typedArrayFromHeap(x);
  const ids = backend.typedArrayFromHeap(segmentIds);
  const ov = backend.typedArrayFromHeap(out);
  ov.fill(0);
  for (let i = 0; i < rows; i++) {
    const s = ids[i];
    if (s < 0 || s >= args.attrs.numSegments) continue;
    const src = i * width;
    const dst = s * width;
    for (let j = 0; j < width; j++) ov[dst + j] += xv[src + j];
  }
  return out;
}

/** Unstack along an axis: one slice per index, without the axis. */
function unpack(args: { inputs: { value: TensorInfo }; attrs: { axis: number }; backend: unknown }): TensorInfo[] {
  const x = args.inputs.value;
  const axis = args.attrs.axis < 0 ? args.attrs.axis + x.shape.length : args.attrs.axis;
  const outShape = x.shape.filter((_, i) => i !== axis);
  const begin = new Array<number>(x.shape.length).fill(0);
  const size = x.shape.slice();
  size[axis] = 1;
  return Array.from({ length: x.shape[axis] }, (_, i) => {
    begin[axis] = i;
    const out = fastSlice({ inputs: { x }, attrs: { begin: [...begin], size }, backend: args.backend });
    return { ...out, shape: outShape };
  });
}

/** Split along an axis into pieces of the given sizes (or a number of equal pieces). */
function splitV(args: {
  inputs: { x: TensorInfo };
  attrs: { numOrSizeSplits: number | number[]; axis: number | number[] };
  backend: unknown;
}): TensorInfo[] {
  const { x } = args.inputs;
  const axis = tf.util.parseAxisParam(args.attrs.axis, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, args.attrs.numOrSizeSplits, axis);
  const begin = new Array<number>(x.shape.length).fill(0);
  return sizes.map((n) => {
    const size = x.shape.slice();
    size[axis] = n;
    const out = fastSlice({ inputs: { x }, attrs: { begin: [...begin], size }, backend: args.backend });
    begin[axis] += n;
    return out;
  });
}

/**
 * Sum over leading axes (e.g. axis 0 of [N, K]: the gradient of a broadcast bias) as a row loop. The wasm
 * kernel transposes such inputs first: ~4 ms for a [1536, 384] tensor, against ~0.5 ms here.
 * Other reductions go to the original kernel.
 */
function leadingSum(original: tf.KernelConfig) {
  return (args: { inputs: { x: TensorInfo }; attrs: { axis: number | number[]; keepDims: boolean }; backend: unknown }): TensorInfo => {
    const { x } = args.inputs;
    const axes = tf.util.parseAxisParam(args.attrs.axis, x.shape).sort((a, b) => a - b);
    const k = axes.length;
    const leading = k > 0 && k < x.shape.length && axes.every((a, i) => a === i) && x.dtype === "float32";
    if (!leading) return original.kernelFunc(args as any) as TensorInfo;
    const backend = args.backend as WasmBackend;
    const rest = x.shape.slice(k);
    const width = rest.reduce((a, b) => a * b, 1);
    const rows = x.shape.slice(0, k).reduce((a, b) => a * b, 1);
    const out = backend.makeOutput(args.attrs.keepDims ? [...new Array(k).fill(1), ...rest] : rest, "float32");
    const xv = backend.typedArrayFromHeap(x);
    const ov = backend.typedArrayFromHeap(out);
    const acc = new Float64Array(width);
    for (let i = 0; i < rows; i++) {
      const o = i * width;
      for (let j = 0; j < width; j++) acc[j] += xv[o + j];
    }
    ov.set(acc);
    return out;
  };
}

/** Gather whole rows (axis 0): out[i] = x[indices[i]]; other gathers go to the original kernel (~26 ms here for 1536 rows of 384). */
function rowGather(original: tf.KernelConfig) {
  return (args: { inputs: { x: TensorInfo; indices: TensorInfo }; attrs: { axis: number; batchDims: number }; backend: unknown }): TensorInfo => {
    const { x, indices } = args.inputs;
    const axis = tf.util.parseAxisParam(args.attrs.axis, x.shape)[0];
    if (axis !== 0 || (args.attrs.batchDims ?? 0) !== 0 || x.dtype === "string") return original.kernelFunc(args as any) as TensorInfo;
    const backend = args.backend as WasmBackend;
    const rowShape = x.shape.slice(1);
    const width = rowShape.reduce((a, b) => a * b, 1);
    const out = backend.makeOutput([...indices.shape, ...rowShape], x.dtype);
    const xv = backend.typedArrayFromHeap(x);
    const iv = backend.typedArrayFromHeap(indices);
    const ov = backend.typedArrayFromHeap(out);
    for (let i = 0; i < iv.length; i++) {
      const r = iv[i];
      if (!(r >= 0 && r < x.shape[0])) throw new Error(`gather: index ${r} is not in [0, ${x.shape[0] - 1}]`);
      ov.set(xv.subarray(r * width, (r + 1) * width), i * width);
    }
    return out;
  };
}

/**
 * tanh as a rational function (the odd 13/6 approximation Eigen uses for float32), clamped where it reaches ±1:
 * at most 3e-7 from Math.tanh, and 3-4x faster than it or Math.exp here. The fused GRU kernels use it.
 */
const CLAMP = 7.90531110763549805;
export function tanhApprox(v: number): number {
  const x = v > CLAMP ? CLAMP : v < -CLAMP ? -CLAMP : v;
  const x2 = x * x;
  const p =
    x *
    (4.89352455891786e-3 +
      x2 *
        (6.37261928875436e-4 +
          x2 *
            (1.48572235717979e-5 +
              x2 * (5.12229709037114e-8 + x2 * (-8.60467152213735e-11 + x2 * (2.00018790482477e-13 + x2 * -2.76076847742355e-16))))));
  const q = 4.89352518554385e-3 + x2 * (2.268434632439e-3 + x2 * (1.18534705686654e-4 + x2 * 1.19825839466702e-6));
  return p / q;
}

/**
 * tanh(x) = 2 sigmoid(2x) - 1 from the stock Multiply, Sigmoid and Sub kernels (XNNPACK's Sigmoid is ~20x faster
 * than wasm's Tanh). The identity is exact; in float32 the two differ by at most ~2e-7. Other dtypes go to the
 * stock Tanh.
 */
function tanhThroughSigmoid(stock: tf.KernelConfig, mul: tf.KernelConfig, sigmoid: tf.KernelConfig, sub: tf.KernelConfig) {
  return (args: { inputs: { x: TensorInfo }; backend: unknown }): TensorInfo => {
    const { x } = args.inputs;
    if (x.dtype !== "float32") return stock.kernelFunc(args as any) as TensorInfo;
    const backend = args.backend as WasmBackend;
    const scalar = (v: number) => {
      const t = backend.makeOutput([], "float32");
      backend.typedArrayFromHeap(t)[0] = v;
      return t;
    };
    const run = (k: tf.KernelConfig, inputs: Record<string, TensorInfo>) => k.kernelFunc({ inputs, backend, attrs: {} } as any) as TensorInfo;
    const [two, one] = [scalar(2), scalar(1)];
    const twiceX = run(mul, { a: x, b: two });
    const s = run(sigmoid, { x: twiceX });
    const twiceS = run(mul, { a: s, b: two });
    const out = run(sub, { a: twiceS, b: one });
    for (const t of [two, one, twiceX, s, twiceS]) backend.disposeData(t.dataId);
    return out;
  };
}

/** transposeA/B as an explicit transpose, then the plain product (the wasm kernel is up to 30x slower transposed). */
function untransposedMatMul(matMul: tf.KernelConfig, transpose: tf.KernelConfig) {
  const swapLast = (x: TensorInfo, backend: unknown): TensorInfo => {
    const perm = x.shape.map((_: number, i: number) => i);
    const r = perm.length;
    [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
    return transpose.kernelFunc({ inputs: { x }, backend, attrs: { perm } } as any) as TensorInfo;
  };
  return (args: any): TensorInfo => {
    const { transposeA, transposeB } = args.attrs;
    if (!transposeA && !transposeB) return matMul.kernelFunc(args) as TensorInfo;
    const a = transposeA ? swapLast(args.inputs.a, args.backend) : args.inputs.a;
    const b = transposeB ? swapLast(args.inputs.b, args.backend) : args.inputs.b;
    const out = matMul.kernelFunc({ ...args, inputs: { a, b }, attrs: { ...args.attrs, transposeA: false, transposeB: false } }) as TensorInfo;
    if (transposeA) (args.backend as WasmBackend).disposeData(a.dataId);
    if (transposeB) (args.backend as WasmBackend).disposeData(b.dataId);
    return out;
  };
}

/** The replacements, each given the stock kernel it replaces (undefined where wasm has none). */
const REPLACEMENTS: Record<string, (stock: tf.KernelConfig | undefined) => ((args: any) => any) | undefined> = {
  Slice: () => fastSlice,
  Unpack: () => unpack,
  SplitV: () => splitV,
  GatherV2: (stock) => stock && rowGather(stock),
  Sum: (stock) => stock && leadingSum(stock),
  UnsortedSegmentSum: (stock) => (stock ? undefined : unsortedSegmentSum),
  Tanh: (stock) => {
    const [mul, sigmoid, sub] = ["Multiply", "Sigmoid", "Sub"].map((k) => tf.getKernel(k, "wasm"));
    return stock && mul && sigmoid && sub && tanhThroughSigmoid(stock, mul, sigmoid, sub);
  },
  BatchMatMul: (stock) => {
    const transpose = tf.getKernel("Transpose", "wasm");
    return stock && transpose && untransposedMatMul(stock, transpose);
  },
};

let depth = 0; // withFastKernels calls in progress (they may nest)
let stockKernels = new Map<string, tf.KernelConfig | undefined>();

/**
 * Run `fn` with the kernels above registered for the wasm backend, through tfjs's public kernel registry
 * (tf.registerKernel), then put the stock kernels back, also when `fn` throws. Synchronous on purpose: no
 * other code can run while they are in place.
 */
export function withFastKernels<T>(fn: () => T): T {
  if (depth === 0) {
    stockKernels = new Map();
    for (const [name, make] of Object.entries(REPLACEMENTS)) {
      const stock = tf.getKernel(name, "wasm");
      const kernelFunc = make(stock);
      if (!kernelFunc) continue;
      stockKernels.set(name, stock);
      if (stock) tf.unregisterKernel(name, "wasm");
      tf.registerKernel({ ...(stock ?? {}), kernelName: name, backendName: "wasm", kernelFunc } as tf.KernelConfig);
    }
  }
  depth++;
  try {
    return fn();
  } finally {
    depth--;
    if (depth === 0) {
      for (const [name, stock] of stockKernels) {
        tf.unregisterKernel(name, "wasm");
        if (stock) tf.registerKernel(stock);
      }
      stockKernels.clear();
    }
  }
}
