// Memory-efficient causal attention (notebook 07): the same result as MultiHeadAttention, without ever
// holding the T x T matrix of scores. The idea behind FlashAttention, the online softmax:
//
//   softmax(s)_j = e^(s_j - m) / sum_i e^(s_i - m) holds for ANY m, so the keys can come in blocks. Per query
//   keep a running maximum m, a running sum l of e^(s - m) and a running weighted sum a of the values. When a
//   block of keys arrives with scores s_blk:
//     m' = max(m, max(s_blk)),   c = e^(m - m'),   p = e^(s_blk - m')
//     l' = c l + sum(p),         a' = c a + p V_blk
//   and after the last block, the context is a / l.
//
// Queries come in blocks too: a block of queries needs no key block that starts after its last query (the
// causal mask would zero it), so those blocks are skipped, and only the blocks on the diagonal need a mask.
// What is alive at once: q, k, v [b, heads, T, head_dim] and one tile of scores [b, heads, block, block].
import * as tf from "@tensorflow/tfjs";
import { checkPositiveInt } from "../../core/checks";
import { MASKED_FINITE, hiddenPattern } from "../../core/mask";
import type { CausalOptions } from "../causalattention";
import { FusedProjections } from "./fused";

export interface MemoryEfficientOptions extends CausalOptions {
  /** Queries and keys per block (default 64). Any size works, also one that does not divide T. */
  blockSize?: number;
}

export class MemoryEfficientAttention extends FusedProjections {
  readonly blockSize: number;
  /** Masks of the diagonal tiles, by their size and offset: built once, kept as state. */
  private readonly tileMasks = new Map<string, tf.Tensor2D>();

  constructor(dIn: number, dOut: number, contextLength: number, dropoutP: number, numHeads: number, options: MemoryEfficientOptions = {}) {
    super(dIn, dOut, contextLength, dropoutP, numHeads, options);
    this.blockSize = options.blockSize ?? 64;
    checkPositiveInt(this.blockSize, "MemoryEfficientAttention", "blockSize");
    if (dropoutP > 0) {
      throw new Error(
        "MemoryEfficientAttention: dropout on the attention weights needs the whole weight matrix, which this module never builds; use dropout 0 (or FusedMultiHeadAttention)",
      );
    }
  }

  /** [rows, cols] of 0 where query (qs + i) may see key (ks + j), else MASKED_FINITE, added to the tile's scores. */
  private tileMask(rows: number, cols: number, qs: number, ks: number): tf.Tensor2D {
    const key = `${rows},${cols},${qs - ks}`;
    let m = this.tileMasks.get(key);
    if (!m) {
      const values = Float32Array.from(hiddenPattern(rows, cols, qs, ks, this.window ?? Infinity), (hidden) => hidden * MASKED_FINITE);
      m = tf.keep(tf.tensor2d(values, [rows, cols]));
      this.tileMasks.set(key, m);
    }
    return m;
  }

  protected attendHeads(q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D): tf.Tensor4D {
    const [b, heads, T, hd] = q.shape;
    const B = this.blockSize;
    const blocks: tf.Tensor[] = [];
    for (let qs = 0; qs < T; qs += B) {
      const rows = Math.min(B, T - qs);
      const qBlk = q.slice([0, 0, qs, 0], [b, heads, rows, hd]);
      let m: tf.Tensor = tf.fill([b, heads, rows, 1], MASKED_FINITE); // running maximum (finite: m - m of a masked row is 0, not NaN)
      let l: tf.Tensor = tf.zeros([b, heads, rows, 1]); // running sum of e^(s - m)
      let acc: tf.Tensor = tf.zeros([b, heads, rows, hd]); // running weighted sum of the values
      const keysEnd = this.causal ? qs + rows : T; // causal: no key block after the query block's last query
      // A sliding window: no key block wholly before the first query's window (skipped, so time and memory grow
      // with T times the window, not T squared).
      const keysStart = this.window === null ? 0 : Math.max(0, Math.floor((qs - this.window + 1) / B) * B);
      for (let ks = keysStart; ks < keysEnd; ks += B) {
        const cols = Math.min(B, T - ks);
        const partlyOld = this.window !== null && ks < qs + rows - this.window; // some key too old for the last query
        const next = tf.tidy(() => {
          const kBlk = k.slice([0, 0, ks, 0], [b, heads, cols, hd]);
          const vBlk = v.slice([0, 0, ks, 0], [b, heads, cols, hd]);
          let s = tf.matMul(qBlk, tf.transpose(kBlk, [0, 1, 3, 2])); // [b, heads, rows, cols]
          if ((this.causal && ks + cols - 1 > qs) || partlyOld) s = tf.add(s, this.tileMask(rows, cols, qs, ks)); // a diagonal or window-edge tile
          const mNew = tf.maximum(m, tf.max(s, -1, true));
          const p = tf.exp(tf.sub(s, mNew));
          const c = tf.exp(tf.sub(m, mNew));
          return { m: mNew, l: tf.add(tf.mul(c, l), tf.sum(p, -1, true)), acc: tf.add(tf.mul(c, acc), tf.matMul(p, vBlk)) };
        });
        tf.dispose([m, l, acc]);
        ({ m, l, acc } = next);
      }
      blocks.push(tf.div(acc, l));
      tf.dispose([qBlk, m, l, acc]);
    }
    const out = tf.concat(blocks, 2) as tf.Tensor4D; // [b, heads, T, head_dim]
    tf.dispose(blocks);
    return out;
  }

  override dispose(): void {
    super.dispose();
    for (const m of this.tileMasks.values()) m.dispose();
    this.tileMasks.clear();
  }
}

/**
 * The online softmax of one row of scores, block by block, for plotting: after each block, the running
 * maximum, the running sum of e^(s - max), and the weights as they would be if the row ended there.
 * The last step's weights equal softmax(scores).
 */
export function onlineSoftmaxSteps(scores: number[], blockSize: number): { seen: number; max: number; sum: number; weights: number[] }[] {
  checkPositiveInt(blockSize, "onlineSoftmaxSteps", "blockSize");
  if (!Array.isArray(scores) || scores.length === 0 || !scores.every(Number.isFinite)) {
    throw new Error("onlineSoftmaxSteps: scores must be a non-empty array of finite numbers");
  }
  const steps = [];
  let max = -Infinity;
  let sum = 0;
  for (let start = 0; start < scores.length; start += blockSize) {
    const block = scores.slice(start, start + blockSize);
    const newMax = Math.max(max, ...block);
    sum = sum * Math.exp(max - newMax) + block.reduce((a, s) => a + Math.exp(s - newMax), 0);
    max = newMax;
    const seen = start + block.length;
    steps.push({ seen, max, sum, weights: scores.slice(0, seen).map((s) => Math.exp(s - max) / sum) });
  }
  return steps;
}
