// Checks for notebook 03's exercises (3.1 temperature, 3.2 padding): "✓" when right, else "✗" and a hint, never the answer.
import * as tf from "@tensorflow/tfjs";
import { shapeStr } from "../core/checks";
import { Generator } from "../core/random";
import { normalizeBySum, softmax } from "../attention/softmax";
import * as scaled from "../attention/scaled";
import * as simple from "../attention/simple";
import * as causal from "../attention/causal";
import { checkFunctionOnCases, libraryParts, unseen, withLibraryOff, type Pitfall } from "./harness";

/** The library's whole attention computations: switched off while the answers of 3.1 and 3.2 run. */
const WHOLE_ATTENTION = [
  ...libraryParts(simple, ["simpleSelfAttention"]),
  ...libraryParts(scaled, ["scaledDotProductAttention"]),
  ...libraryParts(causal, ["maskAndRenormalize"]),
];

/** softmax(x · x_i / τ) over the tokens, then the weighted sum of the rows of x: [T, d] -> [d]. Also its ingredients. */
function contextAt(x: tf.Tensor, i: number, temperature: number, normalize: (s: tf.Tensor) => tf.Tensor = softmax): tf.Tensor {
  return tf.tidy(() => tf.matMul(normalize(tf.div(tf.dot(x as tf.Tensor2D, x.gather(i) as tf.Tensor1D), temperature)).expandDims(0), x).squeeze([0]));
}

/**
 * Exercise 3.1: `context(x, i, temperature)` returns the context vector of token i (0-based) of x [T, d] with
 * temperature-scaled weights softmax(x · x_i / τ). Checked on inputs and temperatures it has not seen.
 */
export function checkTemperatureContext(context: unknown): string {
  return withLibraryOff(WHOLE_ATTENTION, () =>
    checkFunctionOnCases(
      context,
      "(x, i, temperature) => context [d]",
      () => {
        const gen = new Generator(31);
        const x1 = unseen([5, 4], gen);
        const x2 = unseen([7, 3], gen);
        return (
          [
            [x1, 0, 1],
            [x1, 4, 0.5],
            [x1, 2, 4],
            [x2, 6, 2],
          ] as const
        ).map(([x, i, tau]) => {
          const T = x.shape[0];
          const pitfalls: Pitfall[] = [
            { value: contextAt(x, i, 1 / tau), hint: "you multiplied the scores by the temperature; divide them by it" },
            { value: contextAt(x, i, tau, (s) => s), hint: "you weighted the inputs by the raw scores: take the softmax of the scaled scores first" },
            { value: contextAt(x, i, tau, normalizeBySum), hint: "you divided the scores by their sum; attention uses the softmax" },
            { value: x.gather(i), hint: "that is token i's own embedding; the context vector mixes in every token" },
            {
              value: softmax(tf.div(tf.dot(x as tf.Tensor2D, x.gather(i) as tf.Tensor1D), tau)),
              hint: "those are the weights; the context vector is the weighted sum of the inputs",
            },
          ];
          if (tau !== 1)
            pitfalls.push({
              value: contextAt(x, i, 1),
              hint: "the temperature changes nothing in yours: divide the scores by it before the softmax",
            });
          if (i + 1 < T) pitfalls.push({ value: contextAt(x, i + 1, tau), hint: `that is the context of token ${i + 1}: tokens are counted from 0` });
          if (i > 0) pitfalls.push({ value: contextAt(x, i - 1, tau), hint: `that is the context of token ${i - 1}: tokens are counted from 0` });
          return {
            what: `x ${shapeStr(x.shape)} with i = ${i} and temperature ${tau}`,
            args: [x, i, tau],
            expected: contextAt(x, i, tau),
            layout: "[d]",
            pitfalls,
          };
        });
      },
      "Right: softmax(x · x_i / τ) weights every token; a high temperature evens them out, a low one picks the best match.",
    ),
  );
}

/** Simplified self-attention over a padded batch x [B, T, d], keys j >= lengths[b] hidden; and its ingredients. */
function paddedAttention(x: tf.Tensor, lengths: number[], variant: "right" | "no mask" | "zeroed after" = "right"): tf.Tensor {
  return tf.tidy(() => {
    const [B, T] = x.shape;
    const real = tf
      .tensor2d(
        lengths.map((n) => Array.from({ length: T }, (_, j) => +(j < n))),
        [B, T],
      )
      .reshape([B, 1, T]); // [B, 1, T] keys
    const scores = tf.matMul(x, x, false, true); // [B, T, T]
    if (variant === "no mask") return tf.matMul(softmax(scores), x);
    if (variant === "zeroed after") return tf.matMul(tf.mul(softmax(scores), real), x);
    const masked = tf.where(tf.greater(tf.broadcastTo(real, [B, T, T]), 0), scores, tf.fill([B, T, T], -Infinity));
    return tf.matMul(softmax(masked), x);
  });
}

/**
 * Exercise 3.2: `attend(x, lengths)` computes simplified self-attention for a padded batch x [B, T, d], where
 * sequence b has lengths[b] real tokens and padding after them: padding gets weight 0 as a key. Only the outputs of
 * real tokens are compared. Checked on batches it has not seen.
 */
export function checkPaddedSelfAttention(attend: unknown): string {
  return withLibraryOff(WHOLE_ATTENTION, () =>
    checkFunctionOnCases(
      attend,
      "(x [B, T, d], lengths) => context [B, T, d]",
      () => {
        const gen = new Generator(32);
        return (
          [
            [
              [3, 5, 4],
              [5, 3, 1],
            ],
            [
              [2, 4, 2],
              [2, 4],
            ],
          ] as const
        ).map(([shape, lengths]) => {
          const x = unseen([...shape], gen);
          const [B, T, d] = shape;
          const rows = tf.tensor3d(
            lengths.map((n) => Array.from({ length: T }, (_, t) => Array(d).fill(+(t < n)))),
            [B, T, d],
          );
          return {
            what: `a batch ${shapeStr([...shape])} with lengths ${lengths.join(", ")}`,
            args: [x, [...lengths]],
            expected: paddedAttention(x, [...lengths]),
            layout: "[B, T, d]",
            compareWhere: tf.greater(rows, 0),
            pitfalls: [
              {
                value: paddedAttention(x, [...lengths], "no mask"),
                hint: "the padding gets weight: hide the keys at positions lengths[b] and after before the softmax",
              },
              {
                value: paddedAttention(x, [...lengths], "zeroed after"),
                hint: "you zeroed the padding's weights after the softmax, so the rows no longer sum to 1: mask the scores before it",
              },
              {
                value: paddedAttention(
                  x,
                  lengths.map((n) => Math.min(T, n + 1)),
                ),
                hint: "the first padding position is still visible: a sequence of length L has real tokens 0 .. L-1",
              },
            ],
          };
        });
      },
      "Right: padding is invisible as a key, so each real token's context is what it would be without the padding.",
    ),
  );
}
