// A GRU step's elementwise maths as two fused kernels, for the wasm and cpu backends.
//
// After the recurrent product h @ U, a GRU step is ~15 small elementwise ops (split into gates, sigmoid,
// tanh, products, sums), and its backward ~20 more. At batch 64 and hidden 128 each op costs more in
// dispatch than in arithmetic, so ./recurrences.ts calls these two kernels instead: one loop over the batch
// computes the whole step, another the whole step's gradient. Same equations as GRU.step (../layers.ts),
// which the tests hold them to:
//   r = σ(x_r + h_r + b_r), z = σ(x_z + h_z + b_z), n = tanh(x_n + r ⊙ (h_n + b_n)),
//   h' = n + z ⊙ (h - n), and where mask = 0 the state is carried over: out = h + m ⊙ (h' - h).
import * as tf from "@tensorflow/tfjs";
import { tanhApprox } from "../../fast/wasmkernels";

export const GRU_CELL = "CourseGruCell";
export const GRU_CELL_GRAD = "CourseGruCellGrad";

type Info = { dataId: object; shape: number[]; dtype: tf.DataType };
type Views = { read: (t: Info) => Float32Array; outputs: (shapes: number[][]) => { infos: Info[]; views: Float32Array[] } };

/** Typed-array access to tensors for the two JS-side backends. */
export function viewsFor(backend: any): Views {
  if (typeof backend.typedArrayFromHeap === "function") {
    // wasm: allocate every output first (growing the heap detaches older views), then take views.
    return {
      read: (t) => backend.typedArrayFromHeap(t) as Float32Array,
      outputs: (shapes) => {
        const infos = shapes.map((s) => backend.makeOutput(s, "float32") as Info);
        return { infos, views: infos.map((i) => backend.typedArrayFromHeap(i) as Float32Array) };
      },
    };
  }
  return {
    read: (t) => backend.data.get(t.dataId).values as Float32Array,
    outputs: (shapes) => {
      const views = shapes.map((s) => new Float32Array(s.reduce((a, b) => a * b, 1)));
      return { infos: shapes.map((s, k) => backend.makeTensorInfo(s, "float32", views[k]) as Info), views };
    },
  };
}

// sigmoid(x) = (1 + tanh(x / 2)) / 2, through the same approximation. Agreement with the op-by-op path is tested to 1e-5.
const sigmoid = (x: number) => 0.5 + 0.5 * tanhApprox(0.5 * x);

/** inputs: xg [B, 3H], hg [B, 3H] (= h @ U), bU [3H], h [B, H], m [B, 1] -> [h_out [B, H], gates r|z|n [B, 3H], hn [B, H]] */
function gruCell(args: { inputs: Record<string, Info>; backend: unknown }): Info[] {
  const { xg, hg, bU, h, m } = args.inputs;
  const [B, H] = h.shape;
  const v = viewsFor(args.backend);
  const { infos, views } = v.outputs([
    [B, H],
    [B, 3 * H],
    [B, H],
  ]);
  const [X, HG, BU, HP, M] = [v.read(xg), v.read(hg), v.read(bU), v.read(h), v.read(m)];
  const [OUT, G, HN] = views;
  for (let b = 0; b < B; b++) {
    const mb = M[b];
    const g3 = b * 3 * H;
    for (let j = 0; j < H; j++) {
      const r = sigmoid(X[g3 + j] + HG[g3 + j] + BU[j]);
      const z = sigmoid(X[g3 + H + j] + HG[g3 + H + j] + BU[H + j]);
      const hn = HG[g3 + 2 * H + j] + BU[2 * H + j];
      const n = tanhApprox(X[g3 + 2 * H + j] + r * hn);
      const hp = HP[b * H + j];
      const next = n + z * (hp - n);
      OUT[b * H + j] = hp + mb * (next - hp);
      G[g3 + j] = r;
      G[g3 + H + j] = z;
      G[g3 + 2 * H + j] = n;
      HN[b * H + j] = hn;
    }
  }
  return infos;
}

/** inputs: dh [B, H], gates [B, 3H], hn [B, H], h (previous) [B, H], m [B, 1] -> [dxg [B, 3H], dhg [B, 3H], dh_direct [B, H]] */
function gruCellGrad(args: { inputs: Record<string, Info>; backend: unknown }): Info[] {
  const { dh, gates, hn, h, m } = args.inputs;
  const [B, H] = h.shape;
  const v = viewsFor(args.backend);
  const { infos, views } = v.outputs([
    [B, 3 * H],
    [B, 3 * H],
    [B, H],
  ]);
  const [DH, G, HN, HP, M] = [v.read(dh), v.read(gates), v.read(hn), v.read(h), v.read(m)];
  const [DXG, DHG, DD] = views;
  for (let b = 0; b < B; b++) {
    const mb = M[b];
    const g3 = b * 3 * H;
    for (let j = 0; j < H; j++) {
      const d = DH[b * H + j];
      const r = G[g3 + j];
      const z = G[g3 + H + j];
      const n = G[g3 + 2 * H + j];
      const dNew = mb * d;
      const dnPre = dNew * (1 - z) * (1 - n * n);
      const drPre = dnPre * HN[b * H + j] * r * (1 - r);
      const dzPre = dNew * (HP[b * H + j] - n) * z * (1 - z);
      DXG[g3 + j] = drPre;
      DXG[g3 + H + j] = dzPre;
      DXG[g3 + 2 * H + j] = dnPre;
      DHG[g3 + j] = drPre;
      DHG[g3 + H + j] = dzPre;
      DHG[g3 + 2 * H + j] = dnPre * r;
      DD[b * H + j] = d - dNew + dNew * z;
    }
  }
  return infos;
}

/** Register both kernels for the wasm and cpu backends, once (new kernel names: nothing stock is replaced). */
export function registerGruKernels(): void {
  for (const backendName of ["wasm", "cpu"]) {
    if (tf.getKernel(GRU_CELL, backendName)) continue;
    tf.registerKernel({ kernelName: GRU_CELL, backendName, kernelFunc: gruCell as unknown as tf.KernelFunc });
    tf.registerKernel({ kernelName: GRU_CELL_GRAD, backendName, kernelFunc: gruCellGrad as unknown as tf.KernelFunc });
  }
}

export function gruCellFused(xg: tf.Tensor, hg: tf.Tensor, bU: tf.Tensor, h: tf.Tensor, m: tf.Tensor): [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D] {
  return tf.engine().runKernel(GRU_CELL, { xg, hg, bU, h, m } as unknown as tf.NamedTensorMap) as unknown as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
}

export function gruCellGradFused(
  dh: tf.Tensor,
  gates: tf.Tensor,
  hn: tf.Tensor,
  h: tf.Tensor,
  m: tf.Tensor,
): [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D] {
  return tf.engine().runKernel(GRU_CELL_GRAD, { dh, gates, hn, h, m } as unknown as tf.NamedTensorMap) as unknown as [
    tf.Tensor2D,
    tf.Tensor2D,
    tf.Tensor2D,
  ];
}
