// Checks for notebook 08's exercises (8.1 sinusoidal encodings, 8.2 rotary embeddings): "✓" when right, else "✗" and a hint, never the answer.
import * as tf from "@tensorflow/tfjs";
import { checkFunctionOnCases, type Pitfall } from "./harness";
import { applyRope, sinusoidalPositions } from "../attention/positions";
import { Generator, randValues } from "../core/random";

/** The 2017 encodings with the usual slips, for the hints: [T, d]. */
function sinusoidVariant(T: number, d: number, variant: "cos first" | "halves" | "i not 2i" | "no offset"): tf.Tensor {
  const v = new Float32Array(T * d);
  for (let p = 0; p < T; p++) {
    for (let i = 0; i < d / 2; i++) {
      const angle = p / Math.pow(10000, (variant === "i not 2i" ? i : 2 * i) / d);
      const [a, b] = variant === "cos first" ? [Math.cos(angle), Math.sin(angle)] : [Math.sin(angle), Math.cos(angle)];
      if (variant === "halves") {
        v[p * d + i] = a;
        v[p * d + d / 2 + i] = b;
      } else {
        v[p * d + 2 * i] = a;
        v[p * d + 2 * i + 1] = b;
      }
    }
  }
  return tf.tensor2d(v, [T, d]);
}

/**
 * Exercise 8.1: `encode(T, d)` returns the 2017 paper's sinusoidal encodings [T, d] (sin on even columns, cos on
 * odd, wavelengths 10000^(2i/d)). Checked on sizes it has not seen.
 */
export function checkSinusoidalEncoding(encode: unknown): string {
  return checkFunctionOnCases(
    encode,
    "(T, d) => [T, d]",
    () =>
      (
        [
          [5, 6],
          [12, 16],
          [3, 2],
        ] as const
      ).map(([T, d]) => ({
        what: `T = ${T}, d = ${d}`,
        args: [T, d],
        expected: sinusoidalPositions(T, d),
        layout: `[T, d] = [${T}, ${d}]`,
        pitfalls: [
          { value: sinusoidVariant(T, d, "cos first"), hint: "sin and cos are swapped: even columns (0, 2, ...) hold the sines" },
          {
            value: sinusoidVariant(T, d, "halves"),
            hint: "you put all the sines first and the cosines after; the paper interleaves them, sin on even columns, cos on odd",
          },
          ...(d > 2
            ? [{ value: sinusoidVariant(T, d, "i not 2i"), hint: "the exponent is 2i/d for the pair i (columns 2i and 2i+1), not i/d" }]
            : []),
          { value: sinusoidalPositions(T, d).transpose(), hint: "one row per position: [T, d], not [d, T]" },
        ] as Pitfall[],
      })),
    "Right: sines and cosines of position / 10000^(2i/d), interleaved; each pair of columns a clock of its own speed.",
    1e-5,
  );
}

/** Rotary embeddings with the usual slips: interleaved pairs (the original RoFormer layout), the other direction. */
function ropeVariant(x: tf.Tensor, offset: number, variant: "interleaved" | "backwards" | "ignores offset"): tf.Tensor {
  return tf.tidy(() => {
    if (variant === "ignores offset") return applyRope(x, 0);
    if (variant === "backwards") return tf.sub(tf.mul(2, tf.mul(x, ropeCos(x, offset))), applyRope(x, offset)); // x cos - rotate_half(x) sin
    const [T, d] = [x.shape[x.rank - 2], x.shape[x.rank - 1]];
    const xs = x.reshape([-1, T, d / 2, 2]);
    const [even, odd] = tf.split(xs, 2, -1).map((t) => t.reshape([-1, T, d / 2]));
    const angles = tf.tensor2d(
      Array.from({ length: T }, (_, p) => Array.from({ length: d / 2 }, (_, i) => (p + offset) * Math.pow(10000, (-2 * i) / d))),
      [T, d / 2],
    );
    const [c, s] = [tf.cos(angles), tf.sin(angles)];
    const re = tf.sub(tf.mul(even, c), tf.mul(odd, s));
    const im = tf.add(tf.mul(even, s), tf.mul(odd, c));
    return tf.stack([re, im], -1).reshape(x.shape);
  });
}

/** x cos(angle), the part of RoPE that does not depend on the direction of the turn. */
function ropeCos(x: tf.Tensor, offset: number): tf.Tensor {
  const [T, d] = [x.shape[x.rank - 2], x.shape[x.rank - 1]];
  return tf.tensor2d(
    Array.from({ length: T }, (_, p) => Array.from({ length: d }, (_, j) => Math.cos((p + offset) * Math.pow(10000, (-2 * (j % (d / 2))) / d)))),
    [T, d],
  );
}

/**
 * Exercise 8.2: `rotate(x, offset)` applies rotary embeddings in the rotate-half convention to x [T, d], whose row t
 * sits at position offset + t. Checked on inputs, widths and offsets it has not seen.
 */
export function checkRotaryEmbedding(rotate: unknown): string {
  return checkFunctionOnCases(
    rotate,
    "(x [T, d], offset) => [T, d]",
    () => {
      const gen = new Generator(81);
      return (
        [
          [4, 8, 0],
          [6, 4, 5],
          [3, 12, 2],
        ] as const
      ).map(([T, d, offset]) => {
        const x = tf
          .tensor2d(randValues([T, d], gen), [T, d])
          .mul(2)
          .sub(1);
        const pitfalls: Pitfall[] = [
          {
            value: ropeVariant(x, offset, "interleaved"),
            hint: "you paired neighbouring entries (x0, x1), (x2, x3), ...: the rotate-half convention pairs x_i with x_{i + d/2}",
          },
          { value: ropeVariant(x, offset, "backwards"), hint: "your rotation turns the other way: rotate_half(x) = [-x2, x1], added with + sin" },
        ];
        if (offset > 0)
          pitfalls.push({
            value: ropeVariant(x, offset, "ignores offset"),
            hint: "row t sits at position offset + t: the offset changes every angle",
          });
        return {
          what: `x [${T}, ${d}] at offset ${offset}`,
          args: [x, offset],
          expected: applyRope(x, offset),
          layout: `[T, d] = [${T}, ${d}]`,
          pitfalls,
        };
      });
    },
    "Right: each pair (x_i, x_{i + d/2}) turned by (position) · 10000^(-2i/d); lengths unchanged, scores depend on offsets only.",
    1e-5,
  );
}
