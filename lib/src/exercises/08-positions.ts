// Checks for notebook 08's exercises (8.1 sinusoidal encodings with any base, 8.2 rotary embeddings with interleaved
// pairs, 8.3 a decoder block's forward pass): "✓" when right, else "✗" and a hint, never the answer. None of them is
// one library call: the library has no base for the sinusoids, rotates halves rather than neighbours, and its layer
// norm, feed-forward network and block are switched off while 8.3's answer runs.
import * as tf from "@tensorflow/tfjs";
import { checkFunctionOnCases, isUnanswered, NOT_ANSWERED, type Pitfall } from "./harness";
import { applyRope } from "../attention/positions";
import { Generator, randValues } from "../core/random";
import { DecoderBlock, FeedForward, LayerNorm } from "../transformer/blocks";

type SinusoidSlip = "right" | "cos first" | "halves" | "i not 2i" | "base 10000";

/** The 2017 encodings with wavelengths base^(2i/d), and the usual slips, for the hints: [T, d]. */
function sinusoids(T: number, d: number, base: number, slip: SinusoidSlip): tf.Tensor {
  const v = new Float32Array(T * d);
  const b = slip === "base 10000" ? 10000 : base;
  for (let p = 0; p < T; p++) {
    for (let i = 0; i < d / 2; i++) {
      const angle = p / Math.pow(b, (slip === "i not 2i" ? i : 2 * i) / d);
      const [s, c] = slip === "cos first" ? [Math.cos(angle), Math.sin(angle)] : [Math.sin(angle), Math.cos(angle)];
      const [cs, cc] = slip === "halves" ? [i, d / 2 + i] : [2 * i, 2 * i + 1];
      v[p * d + cs] = s;
      v[p * d + cc] = c;
    }
  }
  return tf.tensor2d(v, [T, d]);
}

/**
 * Exercise 8.1: `encode(T, d, base)` returns the sinusoidal encodings [T, d] with wavelengths base^(2i/d) (the 2017
 * paper's base is 10000): sin on even columns, cos on odd. The library's sinusoidalPositions has no base: the check
 * uses bases other than 10000 on sizes the notebook has not shown.
 */
export function checkSinusoidalEncoding(encode: unknown): string {
  return checkFunctionOnCases(
    encode,
    "(T, d, base) => [T, d]",
    () =>
      (
        [
          [5, 6, 100],
          [12, 16, 10000],
          [7, 10, 30],
          [3, 2, 500],
        ] as const
      ).map(([T, d, base]) => {
        const pitfalls: Pitfall[] = [
          { value: sinusoids(T, d, base, "cos first"), hint: "sin and cos are swapped: even columns (0, 2, ...) hold the sines" },
          {
            value: sinusoids(T, d, base, "halves"),
            hint: "you put all the sines first and the cosines after; the paper interleaves them, sin on even columns, cos on odd",
          },
          { value: sinusoids(T, d, base, "right").transpose(), hint: "one row per position: [T, d], not [d, T]" },
        ];
        if (d > 2)
          pitfalls.push({ value: sinusoids(T, d, base, "i not 2i"), hint: "the exponent is 2i/d for the pair i (columns 2i and 2i+1), not i/d" });
        if (base !== 10000)
          pitfalls.push({ value: sinusoids(T, d, base, "base 10000"), hint: `your wavelengths use 10000; this case asks for base ${base}` });
        return {
          what: `T = ${T}, d = ${d}, base ${base}`,
          args: [T, d, base],
          expected: sinusoids(T, d, base, "right"),
          layout: `[T, d] = [${T}, ${d}]`,
          pitfalls,
        };
      }),
    "Right: sines and cosines of position / base^(2i/d), interleaved; each pair of columns a clock of its own speed.",
    1e-5,
  );
}

type RopeSlip = "right" | "halves" | "backwards" | "ignores offset";

/** Rotary embeddings with interleaved pairs (x_2i, x_2i+1), as RoFormer and GPT-J lay them out, and the slips: [T, d]. */
function interleavedRope(x: tf.Tensor, offset: number, slip: RopeSlip): tf.Tensor {
  return tf.tidy(() => {
    if (slip === "halves") return applyRope(x, offset); // the library's rotate-half layout
    const [T, d] = x.shape as [number, number];
    const start = slip === "ignores offset" ? 0 : offset;
    const sign = slip === "backwards" ? -1 : 1;
    const angles = tf.tensor2d(
      Array.from({ length: T }, (_, p) => Array.from({ length: d / 2 }, (_, i) => sign * (p + start) * Math.pow(10000, (-2 * i) / d))),
      [T, d / 2],
    );
    const pairs = x.reshape([T, d / 2, 2]);
    const [even, odd] = tf.split(pairs, 2, -1).map((t) => t.reshape([T, d / 2]));
    const [c, s] = [tf.cos(angles), tf.sin(angles)];
    return tf.stack([tf.sub(tf.mul(even, c), tf.mul(odd, s)), tf.add(tf.mul(even, s), tf.mul(odd, c))], -1).reshape([T, d]);
  });
}

/**
 * Exercise 8.2: `rotate(x, offset)` applies rotary embeddings to x [T, d] with interleaved pairs (x_2i, x_2i+1), the
 * layout of the RoFormer paper and GPT-J, where the library (like Llama) pairs x_i with x_{i + d/2}; row t sits at
 * position offset + t. Checked on inputs, widths and offsets it has not seen.
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
          [5, 6, 9],
        ] as const
      ).map(([T, d, offset]) => {
        const x = tf
          .tensor2d(randValues([T, d], gen), [T, d])
          .mul(2)
          .sub(1);
        const pitfalls: Pitfall[] = [
          {
            value: interleavedRope(x, offset, "halves"),
            hint: "you paired x_i with x_{i + d/2} (rotate-half, the library's layout); this exercise pairs neighbours (x0, x1), (x2, x3), ...",
          },
          { value: interleavedRope(x, offset, "backwards"), hint: "your rotation turns the other way: x_2i' = x_2i cos - x_2i+1 sin" },
        ];
        if (offset > 0)
          pitfalls.push({
            value: interleavedRope(x, offset, "ignores offset"),
            hint: "row t sits at position offset + t: the offset changes every angle",
          });
        return {
          what: `x [${T}, ${d}] at offset ${offset}`,
          args: [x, offset],
          expected: interleavedRope(x, offset, "right"),
          layout: `[T, d] = [${T}, ${d}]`,
          pitfalls,
        };
      });
    },
    "Right: each neighbouring pair (x_2i, x_2i+1) turned by (position) · 10000^(-2i/d); lengths unchanged, scores depend on offsets only.",
    1e-5,
  );
}

type BlockSlip = "post-norm" | "no key mask" | "unbiased variance" | "no residual" | "cross without memory";

/** The library's layer norm with a slip: the variance over d - 1. */
function unbiasedNorm(norm: LayerNorm, x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const d = x.shape[x.rank - 1]!;
    const { mean, variance } = tf.moments(x, -1, true);
    const v = tf.mul(variance, d / (d - 1));
    return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(v, norm.eps))), norm.scale), norm.shift);
  });
}

/** A decoder block's forward pass with one slip, built from the block's own parts: [b, T, d]. */
function blockWith(block: DecoderBlock, x: tf.Tensor, memory: tf.Tensor, mask: tf.Tensor, slip: BlockSlip): tf.Tensor {
  return tf.tidy(() => {
    const n = (norm: LayerNorm, t: tf.Tensor) => (slip === "unbiased variance" ? unbiasedNorm(norm, t) : norm.forward(t));
    const ff = (t: tf.Tensor) => block.feedForward.forward(t);
    const self = (t: tf.Tensor) => block.selfAttention.forward(t);
    const cross = (t: tf.Tensor) =>
      slip === "cross without memory"
        ? block.crossAttention.forward(t)
        : block.crossAttention.forward(t, { memory, ...(slip === "no key mask" ? {} : { keyMask: mask }) });
    if (slip === "post-norm") {
      const a = n(block.norm1, tf.add(x, self(x)));
      const c = n(block.norm2, tf.add(a, cross(a)));
      return n(block.norm3, tf.add(c, ff(c)));
    }
    const add = (t: tf.Tensor, y: tf.Tensor) => (slip === "no residual" ? y : tf.add(t, y));
    const a = add(x, self(n(block.norm1, x)));
    const c = add(a, cross(n(block.norm2, a)));
    return add(c, ff(n(block.norm3, c)));
  });
}

/** What 8.3's answer may not call: the library's block, layer norm and feed-forward network do what it asks for. */
const SWITCHED_OFF: [object, string, string][] = [
  [DecoderBlock.prototype, "forward", "DecoderBlock.forward"],
  [DecoderBlock.prototype, "explain", "DecoderBlock.explain"],
  [LayerNorm.prototype, "forward", "LayerNorm.forward"],
  [FeedForward.prototype, "forward", "FeedForward.forward"],
];

/** Run fn with the switched-off methods throwing; a call to one of them becomes an error that names it. */
function withoutLibraryBlock<T>(fn: () => T): T {
  const owners = SWITCHED_OFF.map(([o]) => o as Record<string, unknown>);
  const saved = SWITCHED_OFF.map(([, name], i) => owners[i][name]);
  const used: string[] = [];
  SWITCHED_OFF.forEach(([, name, label], i) => {
    owners[i][name] = function switchedOff() {
      used.push(label);
      throw new Error(`${label} is switched off in this check`);
    };
  });
  try {
    return fn();
  } catch (e) {
    if (used.length)
      throw new Error(
        `it called ${[...new Set(used)].join(", ")}, which does what this exercise asks for: write layer norm and the feed-forward network from the parts' weights (the two attentions' forward may be used)`,
      );
    throw e;
  } finally {
    SWITCHED_OFF.forEach(([, name], i) => (owners[i][name] = saved[i]));
  }
}

/**
 * Exercise 8.3: `decoderBlock(block, x, memory, srcMask)` computes a pre-norm decoder block's forward pass from the
 * block's parts: causal self-attention, cross-attention to memory with the source padding hidden, the feed-forward
 * network, each read through its layer norm and added back. Checked against DecoderBlock.forward with the same
 * weights, on widths, head counts, lengths and padding it has not seen; the library's block, LayerNorm.forward and
 * FeedForward.forward are switched off while the answer runs (the attentions' forward may be used).
 */
export function checkDecoderBlock(decoderBlock: unknown): string {
  if (isUnanswered(decoderBlock)) return NOT_ANSWERED;
  const blocks: DecoderBlock[] = [];
  const answer =
    typeof decoderBlock === "function"
      ? (...args: unknown[]) => withoutLibraryBlock(() => (decoderBlock as (...a: unknown[]) => unknown)(...args))
      : decoderBlock;
  try {
    return checkFunctionOnCases(
      answer,
      "(block, x [b, T, d], memory [b, S, d], srcMask [b, S]) => [b, T, d]",
      () => {
        const gen = new Generator(83);
        return (
          [
            // b, T, S, d, heads, hidden, real source tokens per sentence
            [2, 3, 5, 8, 2, 16, [5, 3]],
            [3, 4, 6, 12, 3, 20, [6, 2, 4]],
            [1, 5, 4, 6, 1, 10, [4]],
          ] as const
        ).map(([b, T, S, d, heads, hidden, lengths], k) => {
          const block = new DecoderBlock({ d, heads, hidden, dropout: 0, contextLength: 16, rope: false }, new Generator(100 + k));
          block.eval();
          blocks.push(block);
          for (const norm of [block.norm1, block.norm2, block.norm3]) {
            norm.scale.assign(
              tf
                .tensor1d(randValues([d], gen))
                .mul(1.5)
                .add(0.25),
            );
            norm.shift.assign(tf.tensor1d(randValues([d], gen)).sub(0.5));
          }
          const x = tf
            .tensor3d(randValues([b, T, d], gen), [b, T, d])
            .mul(2)
            .sub(1);
          const memory = tf
            .tensor3d(randValues([b, S, d], gen), [b, S, d])
            .mul(2)
            .sub(1);
          const mask = tf.tensor2d(
            lengths.map((n) => Array.from({ length: S }, (_, s) => (s < n ? 1 : 0))),
            [b, S],
          );
          const slips: [BlockSlip, string][] = [
            ["post-norm", "you normalised after adding back (post-norm, as in the 2017 paper); this block is pre-norm: x + f(LayerNorm(x))"],
            [
              "unbiased variance",
              "your layer norm divides the squared deviations by d - 1; layer norm uses the mean over the d entries (divide by d)",
            ],
            ["no residual", "a sub-layer's output replaces its input: add it back (x + f(LayerNorm(x)))"],
            ["cross without memory", "your cross-attention attends over the decoder's own words: its keys and values come from memory"],
          ];
          if (lengths.some((n) => n < S))
            slips.push(["no key mask", "the source's padding gets attention weight: pass srcMask as the cross-attention's keyMask"]);
          return {
            what: `b ${b}, T ${T}, S ${S}, d ${d}, ${heads} head${heads > 1 ? "s" : ""}, hidden ${hidden}, source lengths ${lengths.join(", ")}`,
            args: [block, x, memory, mask],
            expected: block.forward(x, memory, mask),
            layout: `[b, T, d] = [${b}, ${T}, ${d}]`,
            pitfalls: slips.map(([slip, hint]) => ({ value: blockWith(block, x, memory, mask, slip), hint })),
          };
        });
      },
      "Right: causal self-attention, cross-attention to the memory (padding hidden), the feed-forward network, each on a layer-normalised copy and added back.",
      1e-4,
    );
  } finally {
    blocks.forEach((b) => b.dispose());
  }
}
