// The Transformer's small, many-op pieces as single kernels with hand-written gradients, for the wasm and cpu backends.
//
// At the length experiment's size (batch 64, 24 tokens, d 32, 2 heads) a readable training step is ~2,000 kernel
// calls, each costing more in dispatch than in arithmetic. Here each piece is one call forward and one backward,
// a loop over typed arrays (float64 sums, float32 results):
//   layerNorm         (x - mean) / sqrt(var + eps) * scale + shift, per row             (LayerNorm.forward)
//   attention         all heads of scaled dot-product attention, causal and/or key mask (MultiHeadAttention.explain)
//                     on [rows, width] matrices whose columns hold q | k | v: no head split or merge
//   rope              rotary positions on the q and k columns of such a matrix           (applyRope)
//   crossEntropy      the masked mean of -log softmax at the targets                     (maskedCrossEntropy)
// The tests hold each to the readable code (outputs and gradients within 1e-5).
import * as tf from "@tensorflow/tfjs";
import { viewsFor } from "../../seq2seq/fast/grukernels";

type Info = { dataId: object; shape: number[]; dtype: tf.DataType };
type KernelArgs = { inputs: Record<string, Info>; backend: unknown; attrs: Record<string, any> };

const K = {
  layerNorm: "CourseLayerNorm",
  layerNormGrad: "CourseLayerNormGrad",
  attention: "CourseAttention",
  attentionGrad: "CourseAttentionGrad",
  rope: "CourseRope",
  crossEntropy: "CourseCrossEntropy",
};

/** x [N, d], scale [d], shift [d] -> [y [N, d], xhat [N, d], rstd [N]] */
function layerNormKernel({ inputs, backend, attrs }: KernelArgs): Info[] {
  const [N, d] = inputs.x.shape;
  const v = viewsFor(backend);
  const { infos, views } = v.outputs([[N, d], [N, d], [N]]);
  const [X, G, Bt] = [v.read(inputs.x), v.read(inputs.scale), v.read(inputs.shift)];
  const [Y, XH, R] = views;
  for (let n = 0; n < N; n++) {
    const o = n * d;
    let mean = 0;
    for (let j = 0; j < d; j++) mean += X[o + j];
    mean /= d;
    let vr = 0;
    for (let j = 0; j < d; j++) vr += (X[o + j] - mean) ** 2;
    const rstd = 1 / Math.sqrt(vr / d + attrs.eps);
    R[n] = rstd;
    for (let j = 0; j < d; j++) {
      const xh = (X[o + j] - mean) * rstd;
      XH[o + j] = xh;
      Y[o + j] = xh * G[j] + Bt[j];
    }
  }
  return infos;
}

/** dy [N, d], xhat [N, d], rstd [N], scale [d] -> [dx [N, d], dscale [d], dshift [d]] */
function layerNormGradKernel({ inputs, backend }: KernelArgs): Info[] {
  const [N, d] = inputs.dy.shape;
  const v = viewsFor(backend);
  const { infos, views } = v.outputs([[N, d], [d], [d]]);
  const [DY, XH, R, G] = [v.read(inputs.dy), v.read(inputs.xhat), v.read(inputs.rstd), v.read(inputs.scale)];
  const [DX, DG, DB] = views;
  const dg = new Float64Array(d);
  const db = new Float64Array(d);
  for (let n = 0; n < N; n++) {
    const o = n * d;
    let m1 = 0;
    let m2 = 0;
    for (let j = 0; j < d; j++) {
      const g = DY[o + j] * G[j];
      m1 += g;
      m2 += g * XH[o + j];
      dg[j] += DY[o + j] * XH[o + j];
      db[j] += DY[o + j];
    }
    m1 /= d;
    m2 /= d;
    for (let j = 0; j < d; j++) DX[o + j] = R[n] * (DY[o + j] * G[j] - m1 - XH[o + j] * m2);
  }
  DG.set(dg);
  DB.set(db);
  return infos;
}

/**
 * Where the attention kernels find queries, keys and values: q in matrix `q` [B Tq, *] at column qCol, k and v in
 * matrix `kv` [B Tk, *] at columns kCol and vCol (for self-attention all three in one [B T, 3 d] matrix).
 */
interface Layout {
  B: number;
  Tq: number;
  Tk: number;
  heads: number;
  /** Key/value heads, each read by heads / kvHeads query heads (grouped-query attention). */
  kvHeads: number;
  hd: number;
  qCol: number;
  kCol: number;
  vCol: number;
  causal: boolean;
  /** Sliding window: keys per query, itself included (0: all earlier ones). */
  window: number;
}

/** q [B Tq, *], kv [B Tk, *], keyMask [B, Tk] (or none) -> [context [B Tq, heads hd], weights [B, heads, Tq, Tk]] */
function attentionKernel({ inputs, backend, attrs }: KernelArgs): Info[] {
  const { B, Tq, Tk, heads, kvHeads, hd, qCol, kCol, vCol, causal, window } = attrs as Layout;
  const v = viewsFor(backend);
  const d = heads * hd;
  const group = heads / kvHeads;
  const { infos, views } = v.outputs([
    [B * Tq, d],
    [B, heads, Tq, Tk],
  ]);
  const Q = v.read(inputs.q);
  const KV = v.read(inputs.kv);
  const M = inputs.keyMask ? v.read(inputs.keyMask) : null;
  const qs = inputs.q.shape[1];
  const ks = inputs.kv.shape[1];
  const [O, P] = views;
  const scale = 1 / Math.sqrt(hd);
  const s = new Float64Array(Tk);
  const acc = new Float64Array(hd);
  const shift = Tk - Tq; // query i sits at key position i + shift
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < heads; h++) {
      const kvh = Math.floor(h / group) * hd; // this head's key/value columns
      for (let i = 0; i < Tq; i++) {
        const qo = (b * Tq + i) * qs + qCol + h * hd;
        const last = causal ? Math.min(Tk - 1, i + shift) : Tk - 1;
        const first = causal && window > 0 ? Math.max(0, i + shift - window + 1) : 0;
        let max = -Infinity;
        for (let j = 0; j <= last; j++) {
          if (j < first || (M && M[b * Tk + j] === 0)) {
            s[j] = -Infinity;
            continue;
          }
          const ko = (b * Tk + j) * ks + kCol + kvh;
          let dot = 0;
          for (let c = 0; c < hd; c++) dot += Q[qo + c] * KV[ko + c];
          s[j] = dot * scale;
          if (s[j] > max) max = s[j];
        }
        let sum = 0;
        for (let j = 0; j <= last; j++) {
          const e = s[j] === -Infinity ? 0 : Math.exp(s[j] - max);
          s[j] = e;
          sum += e;
        }
        const po = ((b * heads + h) * Tq + i) * Tk;
        acc.fill(0);
        for (let j = 0; j < Tk; j++) {
          const p = j <= last && sum > 0 ? s[j] / sum : 0;
          P[po + j] = p;
          if (p === 0) continue;
          const vo = (b * Tk + j) * ks + vCol + kvh;
          for (let c = 0; c < hd; c++) acc[c] += p * KV[vo + c];
        }
        const oo = (b * Tq + i) * d + h * hd;
        for (let c = 0; c < hd; c++) O[oo + c] = acc[c];
      }
    }
  }
  return infos;
}

/**
 * dy [B Tq, heads hd], weights [B, heads, Tq, Tk], q, kv as in attentionKernel -> [dq (q's shape), dkv (kv's shape)],
 * or with attrs.self (q and kv the same matrix) one gradient for it.
 */
function attentionGradKernel({ inputs, backend, attrs }: KernelArgs): Info[] {
  const { B, Tq, Tk, heads, kvHeads, hd, qCol, kCol, vCol } = attrs as Layout;
  const group = heads / kvHeads;
  const self = attrs.self as boolean;
  const v = viewsFor(backend);
  const d = heads * hd;
  const shapes = self ? [inputs.q.shape] : [inputs.q.shape, inputs.kv.shape];
  const { infos, views } = v.outputs(shapes);
  const [DY, P, Q, KV] = [v.read(inputs.dy), v.read(inputs.weights), v.read(inputs.q), v.read(inputs.kv)];
  const DQ = views[0];
  const DKV = self ? views[0] : views[1];
  DQ.fill(0);
  DKV.fill(0);
  const qs = inputs.q.shape[1];
  const ks = inputs.kv.shape[1];
  const scale = 1 / Math.sqrt(hd);
  const dp = new Float64Array(Tk);
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < heads; h++) {
      const kvh = Math.floor(h / group) * hd;
      for (let i = 0; i < Tq; i++) {
        const po = ((b * heads + h) * Tq + i) * Tk;
        const yo = (b * Tq + i) * d + h * hd;
        const qo = (b * Tq + i) * qs + qCol + h * hd;
        let rowdot = 0;
        for (let j = 0; j < Tk; j++) {
          const p = P[po + j];
          if (p === 0) continue;
          const vo = (b * Tk + j) * ks + vCol + kvh;
          let dot = 0;
          for (let c = 0; c < hd; c++) {
            dot += DY[yo + c] * KV[vo + c];
            DKV[vo + c] += p * DY[yo + c]; // dV += p dy
          }
          dp[j] = dot;
          rowdot += p * dot;
        }
        for (let j = 0; j < Tk; j++) {
          const p = P[po + j];
          if (p === 0) continue;
          const ds = p * (dp[j] - rowdot) * scale;
          const ko = (b * Tk + j) * ks + kCol + kvh;
          for (let c = 0; c < hd; c++) {
            DQ[qo + c] += ds * KV[ko + c];
            DKV[ko + c] += ds * Q[qo + c];
          }
        }
      }
    }
  }
  return infos;
}

/** Rotary angles for positions offset .. offset + T - 1 (the same as positions.ts's ropeAngles): [T, hd / 2] each. */
function ropeTable(T: number, hd: number, offset: number): { cos: Float64Array; sin: Float64Array } {
  const half = hd / 2;
  const cos = new Float64Array(T * half);
  const sin = new Float64Array(T * half);
  for (let p = 0; p < T; p++) {
    for (let i = 0; i < half; i++) {
      const angle = (p + offset) * Math.pow(10000, (-2 * i) / hd);
      cos[p * half + i] = Math.fround(Math.cos(angle));
      sin[p * half + i] = Math.fround(Math.sin(angle));
    }
  }
  return { cos, sin };
}

/**
 * x [B T, width] -> the same with every head's slice in the columns `cols` turned by its row's position (offset + t):
 * (x1, x2) -> (x1 cos - x2 sin, x2 cos + x1 sin) for the head's two halves. attrs.inverse turns back (the gradient).
 */
function ropeKernel({ inputs, backend, attrs }: KernelArgs): Info[] {
  const { B, T, heads, hd, cols, offset, inverse } = attrs as {
    B: number;
    T: number;
    heads: number;
    hd: number;
    cols: number[];
    offset: number;
    inverse: boolean;
  };
  const v = viewsFor(backend);
  const { infos, views } = v.outputs([inputs.x.shape]);
  const X = v.read(inputs.x);
  const Y = views[0];
  Y.set(X);
  const width = inputs.x.shape[1];
  const half = hd / 2;
  const { cos, sin } = ropeTable(T, hd, offset);
  const sg = inverse ? -1 : 1;
  for (let b = 0; b < B; b++) {
    for (let t = 0; t < T; t++) {
      for (const col of cols) {
        for (let h = 0; h < heads; h++) {
          const o = (b * T + t) * width + col + h * hd;
          for (let i = 0; i < half; i++) {
            const c = cos[t * half + i];
            const s = sg * sin[t * half + i];
            const x1 = X[o + i];
            const x2 = X[o + half + i];
            Y[o + i] = x1 * c - x2 * s;
            Y[o + half + i] = x2 * c + x1 * s;
          }
        }
      }
    }
  }
  return infos;
}

/**
 * logits [N, V], targets [N] int32, mask [N] -> [loss [], dlogits [N, V]]: the masked mean of -log softmax(logits)[target]
 * over the rows with mask 1 (divided by max(sum(mask), 1)), and its gradient for an upstream gradient of 1.
 */
function crossEntropyKernel({ inputs, backend }: KernelArgs): Info[] {
  const [N, V] = inputs.logits.shape;
  const v = viewsFor(backend);
  const { infos, views } = v.outputs([[], [N, V]]);
  const [L, Tg, M] = [v.read(inputs.logits), v.read(inputs.targets), v.read(inputs.mask)];
  const [LOSS, DL] = views;
  let total = 0;
  for (let n = 0; n < N; n++) total += M[n];
  const denom = Math.max(total, 1);
  let loss = 0;
  for (let n = 0; n < N; n++) {
    const o = n * V;
    let max = -Infinity;
    for (let j = 0; j < V; j++) if (L[o + j] > max) max = L[o + j];
    let sum = 0;
    for (let j = 0; j < V; j++) sum += Math.exp(L[o + j] - max);
    const logZ = max + Math.log(sum);
    const w = M[n] / denom;
    loss += w * (logZ - L[o + Tg[n]]);
    for (let j = 0; j < V; j++) DL[o + j] = w * Math.exp(L[o + j] - logZ);
    DL[o + Tg[n]] -= w;
  }
  LOSS[0] = loss;
  return infos;
}

/** Register the kernels for the wasm and cpu backends, once (new names: nothing stock is replaced). */
export function registerTransformerKernels(): void {
  const table: [string, (a: KernelArgs) => Info[]][] = [
    [K.layerNorm, layerNormKernel],
    [K.layerNormGrad, layerNormGradKernel],
    [K.attention, attentionKernel],
    [K.attentionGrad, attentionGradKernel],
    [K.rope, ropeKernel],
    [K.crossEntropy, crossEntropyKernel],
  ];
  for (const backendName of ["wasm", "cpu"]) {
    for (const [kernelName, f] of table) {
      if (!tf.getKernel(kernelName, backendName)) tf.registerKernel({ kernelName, backendName, kernelFunc: f as unknown as tf.KernelFunc });
    }
  }
}

const run = (name: string, inputs: Record<string, tf.Tensor>, attrs: object = {}) =>
  tf.engine().runKernel(name, inputs as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as unknown as tf.Tensor[];

/** LayerNorm.forward as one op: x [N, d] -> [N, d]. */
export function layerNorm(x: tf.Tensor, scale: tf.Tensor, shift: tf.Tensor, eps: number): tf.Tensor2D {
  const f = tf.customGrad(((xIn: tf.Tensor, g: tf.Tensor, bt: tf.Tensor, save: tf.GradSaveFunc) => {
    const [y, xhat, rstd] = run(K.layerNorm, { x: xIn, scale: g, shift: bt }, { eps });
    save([xhat, rstd, g]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => run(K.layerNormGrad, { dy, xhat: saved[0], rstd: saved[1], scale: saved[2] }),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x, scale, shift) as tf.Tensor2D;
}

export interface AttentionShape {
  B: number;
  Tq: number;
  Tk: number;
  heads: number;
  /** Key/value heads (default heads). */
  kvHeads?: number;
  hd: number;
  causal: boolean;
  /** Sliding window (keys per query, itself included); default none. */
  window?: number | null;
}

/**
 * Self-attention over qkv [B T, d + 2 kvd] (columns q | k | v, heads side by side in each; kvd = kvHeads hd) -> context
 * [B T, d], heads merged.
 */
export function selfAttention(qkv: tf.Tensor, keyMask: tf.Tensor | null, shape: Omit<AttentionShape, "Tk">): tf.Tensor2D {
  const d = shape.heads * shape.hd;
  const kvHeads = shape.kvHeads ?? shape.heads;
  const kvd = kvHeads * shape.hd;
  const attrs = { ...shape, kvHeads, window: shape.window ?? 0, Tk: shape.Tq, qCol: 0, kCol: d, vCol: d + kvd };
  const f = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
    const [context, weights] = run(K.attention, { q: x, kv: x, ...(keyMask ? { keyMask } : {}) }, attrs);
    save([x, weights]);
    return {
      value: context,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        run(K.attentionGrad, { dy, weights: saved[1], q: saved[0], kv: saved[0] }, { ...attrs, self: true }),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(qkv) as tf.Tensor2D;
}

/** Cross-attention: queries q [B Tq, d], keys | values kv [B Tk, 2 d] -> context [B Tq, d]. */
export function crossAttention(q: tf.Tensor, kv: tf.Tensor, keyMask: tf.Tensor | null, shape: AttentionShape): tf.Tensor2D {
  const kvHeads = shape.kvHeads ?? shape.heads;
  const attrs = { ...shape, kvHeads, window: shape.window ?? 0, qCol: 0, kCol: 0, vCol: kvHeads * shape.hd };
  const f = tf.customGrad(((qIn: tf.Tensor, kvIn: tf.Tensor, save: tf.GradSaveFunc) => {
    const [context, weights] = run(K.attention, { q: qIn, kv: kvIn, ...(keyMask ? { keyMask } : {}) }, attrs);
    save([qIn, kvIn, weights]);
    return {
      value: context,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        run(K.attentionGrad, { dy, weights: saved[2], q: saved[0], kv: saved[1] }, { ...attrs, self: false }),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(q, kv) as tf.Tensor2D;
}

/** applyRope on the q and k columns of qkv [B T, 3 d] (v unchanged), positions offset .. offset + T - 1. */
export function ropeQK(qkv: tf.Tensor, B: number, T: number, heads: number, hd: number, offset = 0): tf.Tensor2D {
  if (qkv.shape[1] !== 3 * heads * hd) throw new Error("ropeQK: expected q | k | v of equal widths (no grouped-query attention with rope here)");
  const attrs = { B, T, heads, hd, cols: [0, heads * hd], offset };
  const f = tf.customGrad(((x: tf.Tensor) => ({
    value: run(K.rope, { x }, { ...attrs, inverse: false })[0],
    gradFunc: (dy: tf.Tensor) => run(K.rope, { x: dy }, { ...attrs, inverse: true })[0],
  })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(qkv) as tf.Tensor2D;
}

/** maskedCrossEntropy as one op: logits [N, V], targets [N] int32, mask [N] -> scalar. */
export function crossEntropy(logits: tf.Tensor, targets: tf.Tensor, mask: tf.Tensor): tf.Scalar {
  const f = tf.customGrad(((l: tf.Tensor, save: tf.GradSaveFunc) => {
    const [loss, dl] = run(K.crossEntropy, { logits: l, targets, mask });
    save([dl]);
    return { value: loss, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => tf.mul(saved[0], dy) };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(logits) as tf.Scalar;
}
