// Principal components, to draw high-dimensional states (e.g. an RNN's hidden states) in 2-D.
import * as tf from "@tensorflow/tfjs";
import { checkPositiveInt, shapeStr } from "../core/checks";
import { toMatrix } from "./figures";

/**
 * Project the rows of x [N, D] onto their top k principal components (power iteration with deflation
 * on the covariance matrix). Returns the coordinates [N][k] and each component's share of the variance.
 */
export function principalComponents(x: tf.Tensor | number[][], k = 2): { points: number[][]; explained: number[] } {
  const rows = x instanceof tf.Tensor && x.rank !== 2 ? null : Array.isArray(x) && x.length < 2 ? x : toMatrix(x, "principalComponents", "x"); // numbers, finite
  if (!rows || rows.length < 2) {
    throw new Error(
      `principalComponents: expected at least 2 rows of a 2-D matrix [N, D], got ${x instanceof tf.Tensor ? shapeStr(x.shape) : `${rows?.length ?? 0} rows`}`,
    );
  }
  const n = rows.length;
  const d = rows[0].length;
  checkPositiveInt(k, "principalComponents", "k");
  if (k > d) throw new Error(`principalComponents: k = ${k} components asked of ${d}-dimensional rows; expected k <= ${d}`);
  const mean = new Array<number>(d).fill(0);
  rows.forEach((r) => r.forEach((v, j) => (mean[j] += v / n)));
  const c = rows.map((r) => r.map((v, j) => v - mean[j]));
  const cov = Array.from({ length: d }, () => new Float64Array(d));
  for (const r of c) for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) cov[i][j] += (r[i] * r[j]) / (n - 1);
  const total = cov.reduce((s, row, i) => s + row[i], 0);
  const components: number[][] = [];
  const explained: number[] = [];
  for (let m = 0; m < Math.min(k, d); m++) {
    let v = Array.from({ length: d }, (_, i) => Math.sin(i + 1 + m)); // fixed start: same result every run
    let lambda = 0;
    for (let it = 0; it < 200; it++) {
      const w = cov.map((row) => row.reduce((s, a, j) => s + a * v[j], 0));
      const norm = Math.hypot(...w) || 1;
      v = w.map((a) => a / norm);
      lambda = norm;
    }
    // Sign convention: the largest coordinate is positive.
    const big = v.reduce((bi, a, i) => (Math.abs(a) > Math.abs(v[bi]) ? i : bi), 0);
    if (v[big] < 0) v = v.map((a) => -a);
    components.push(v);
    explained.push(total > 0 ? lambda / total : 0);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) cov[i][j] -= lambda * v[i] * v[j];
  }
  const points = c.map((r) => components.map((v) => r.reduce((s, a, j) => s + a * v[j], 0)));
  return { points, explained };
}
