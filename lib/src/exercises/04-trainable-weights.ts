// Checks for notebook 04's exercises (4.1 copying weights, 4.2 batched scaled attention): "✓" when right, else "✗" and a hint.
import * as tf from "@tensorflow/tfjs";
import { shapeStr } from "../core/checks";
import { Generator } from "../core/random";
import { softmax } from "../attention/softmax";
import { SelfAttentionV1, SelfAttentionV2 } from "../attention/selfattention";
import * as scaled from "../attention/scaled";
import * as scores from "../attention/scores";
import * as simple from "../attention/simple";
import {
  NOT_ANSWERED,
  callAnswer,
  checkFunctionOnCases,
  isUnanswered,
  libraryParts,
  maxAbsDiff,
  unseen,
  verdict,
  withLibraryOff,
  type Pitfall,
} from "./harness";

/** The library's attention computations: switched off while exercise 4.2's answer runs. */
const WHOLE_ATTENTION = [
  ...libraryParts(scaled, ["scaledDotProductAttention"]),
  ...libraryParts(scores, ["attentionScores"]),
  ...libraryParts(simple, ["simpleSelfAttention"]),
  ...libraryParts(Object.getPrototypeOf(SelfAttentionV1.prototype) as object, ["explain", "forward"], "SelfAttention."),
];

/**
 * Exercise (notebook 04): copy v2's weights into v1 so that both compute the same context vectors.
 * Returns a message starting with "✓" when v1 and v2 agree, else "✗" and what differs.
 */
export function checkWeightCopy(v1: SelfAttentionV1, v2: SelfAttentionV2, inputs: tf.Tensor, tol?: number): string;
/**
 * The same exercise as a function to fill in: `copy(v1, v2)` copies v2's weights into v1. The check calls it on
 * a fresh v1 (seed 123) and v2 (seed 789) of sizes d_in of `inputs` [T, d_in] and d_out 2, then of sizes 4 and 5 on an
 * input it has not seen; null = not answered.
 */
export function checkWeightCopy(copy: (v1: SelfAttentionV1, v2: SelfAttentionV2) => unknown, inputs: tf.Tensor): string;
export function checkWeightCopy(
  v1OrCopy: SelfAttentionV1 | ((v1: SelfAttentionV1, v2: SelfAttentionV2) => unknown),
  v2OrInputs: SelfAttentionV2 | tf.Tensor,
  inputs?: tf.Tensor,
  tol = 1e-6,
): string {
  if (isUnanswered(v1OrCopy) || isUnanswered(v2OrInputs)) return NOT_ANSWERED;
  if (typeof v1OrCopy === "function") {
    // The notebook's sizes, then others (d_in 4, d_out 5) on an input it has not seen: no size can be hard-coded.
    const given = v2OrInputs as tf.Tensor;
    const other = unseen([7, 4], new Generator(41));
    try {
      let said = "";
      for (const [x, dOut] of [
        [given, 2],
        [other, 5],
      ] as const) {
        const v1 = new SelfAttentionV1(x.shape[x.rank - 1], dOut, { generator: new Generator(123) });
        const v2 = new SelfAttentionV2(x.shape[x.rank - 1], dOut, { generator: new Generator(789) });
        try {
          const call = callAnswer(() => tf.tidy(() => v1OrCopy(v1, v2) as void));
          const where = x === given ? "" : `with d_in = ${x.shape[1]} and d_out = ${dOut}: `;
          if ("error" in call) return verdict([where + call.error], "");
          if (call.value === null) return NOT_ANSWERED;
          said = checkWeightCopy(v1, v2, x);
          if (!said.startsWith("✓")) return where ? said.replace(/^✗ Not yet:/, `✗ Not yet: ${where}`) : said;
        } finally {
          v1.dispose();
          v2.dispose();
        }
      }
      return said;
    } finally {
      other.dispose();
    }
  }
  const [v1, v2, x] = [v1OrCopy, v2OrInputs as SelfAttentionV2, inputs as tf.Tensor];
  const problems: string[] = [];
  for (const name of ["W_query", "W_key", "W_value"] as const) {
    const mine = v1[name];
    const theirs = v2[name].weight; // [d_out, d_in]
    if (mine.isDisposed) {
      problems.push(`v1.${name} was disposed`);
      continue;
    }
    if (mine.shape.join() !== [v1.dIn, v1.dOut].join()) {
      problems.push(`v1.${name} has shape ${shapeStr(mine.shape)}, but v1 needs [d_in, d_out] = [${v1.dIn}, ${v1.dOut}]`);
      continue;
    }
    const sameNumbersInV2Order = tf.tidy(() => maxAbsDiff(mine.reshape([-1]), theirs.reshape([-1])) <= tol);
    const right = tf.tidy(() => maxAbsDiff(mine, theirs.transpose()) <= tol);
    if (right) continue;
    if (sameNumbersInV2Order && v1.dIn !== v1.dOut) {
      problems.push(
        `v1.${name} holds v2's numbers in v2's memory order, but v1 computes x @ W while nn.Linear computes x @ W^T: think about which matrix that makes`,
      );
    } else {
      const other = (["W_query", "W_key", "W_value"] as const).find(
        (o) => o !== name && tf.tidy(() => maxAbsDiff(mine, v2[o].weight.transpose()) <= tol),
      );
      problems.push(other ? `v1.${name} holds the weights of v2.${other}` : `v1.${name} does not hold v2.${name}'s weights (as v1 uses them)`);
    }
  }
  if (problems.length === 0) {
    const diff = tf.tidy(() => maxAbsDiff(v1.forward(x), v2.forward(x)));
    if (diff > 1e-5) problems.push(`the weights match, yet the outputs differ by up to ${diff.toExponential(2)}`);
  }
  return verdict(problems, "Right: v1 and v2 now compute the same context vectors.");
}

/** softmax(Q Kᵀ / scale) V over [B, T_q, d_k], [B, T_k, d_k], [B, T_k, d_v], with the softmax along `axis`. */
function sdpa(q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, scale: number, axis = -1): tf.Tensor {
  return tf.tidy(() => {
    const scores = tf.div(tf.matMul(q, k, false, true), scale);
    const w = axis === -1 ? softmax(scores) : tf.softmax(scores.transpose([0, 2, 1])).transpose([0, 2, 1]);
    return tf.matMul(w, v);
  });
}

/**
 * Exercise 4.2: `attention(queries, keys, values)` for a batch, with as many queries as it likes: queries
 * [B, T_q, d_k], keys [B, T_k, d_k], values [B, T_k, d_v] -> context [B, T_q, d_v] = softmax(Q Kᵀ / √d_k) V.
 * Checked on shapes it has not seen, with T_q != T_k and d_v != d_k, so a wrong axis or a wrong scale shows.
 */
export function checkScaledAttentionFunction(attention: unknown): string {
  return withLibraryOff(WHOLE_ATTENTION, () =>
    checkFunctionOnCases(
      attention,
      "(queries, keys, values) => context",
      () => {
        const gen = new Generator(4);
        return (
          [
            [2, 3, 5, 16, 3],
            [1, 4, 4, 9, 6],
            [3, 1, 6, 4, 2],
          ] as const
        ).map(([B, Tq, Tk, dk, dv]) => {
          const [q, k, v] = [unseen([B, Tq, dk], gen), unseen([B, Tk, dk], gen), unseen([B, Tk, dv], gen)];
          const weights = softmax(tf.div(tf.matMul(q, k, false, true), Math.sqrt(dk)));
          const pitfalls: Pitfall[] = [
            { value: sdpa(q, k, v, 1), hint: "no scaling: divide the scores by √d_k before the softmax" },
            { value: sdpa(q, k, v, dk), hint: "you divided by d_k; the scale is its square root, √d_k" },
            { value: sdpa(q, k, v, 1 / Math.sqrt(dk)), hint: "you multiplied by √d_k; divide instead" },
            {
              value: sdpa(q, k, v, Math.sqrt(dv)),
              hint: "you scaled by √d_v, the values' size; the scale is √d_k, the size of the queries and keys",
            },
            { value: weights, hint: "those are the attention weights; multiply them by the values" },
          ];
          if (Tq > 1)
            pitfalls.push({
              value: sdpa(q, k, v, Math.sqrt(dk), 1),
              hint: "your softmax ran over the queries; it must run over the keys (the last axis), one row per query",
            });
          return {
            what: `queries ${shapeStr(q.shape)}, keys ${shapeStr(k.shape)}, values ${shapeStr(v.shape)}`,
            args: [q, k, v],
            expected: tf.matMul(weights, v),
            layout: `[B, T_q, d_v] = ${shapeStr([B, Tq, dv])}`,
            pitfalls,
          };
        });
      },
      "Right: softmax(Q Kᵀ / √d_k) V, for any batch, any number of queries and keys, and values of any width.",
    ),
  );
}
