// Checks for notebook 06's exercises (6.1 wrapper, 6.2 splitting heads, 6.3 parameter count, 6.4 the forward pass).
import * as tf from "@tensorflow/tfjs";
import { shapeStr } from "../core/checks";
import { Generator } from "../core/random";
import { softmax } from "../attention/softmax";
import { causalMask } from "../attention/causal";
import { type MultiHeadAttentionWrapper } from "../attention/causalattention";
import { MultiHeadAttention } from "../attention/multihead";
import { NOT_ANSWERED, checkNumbersOnCases, compareAnswer, isUnanswered, runForward, trySkeletons, verdict, whyDifferent } from "./harness";

/**
 * Exercise (notebook 06): a MultiHeadAttentionWrapper with 2 heads whose context vectors are 2-dimensional.
 * Returns "✓ ..." when `wrapper` does it, else "✗ ..." and what differs.
 */
export function checkTwoDimensionalWrapper(wrapper: MultiHeadAttentionWrapper | null, batch: tf.Tensor): string {
  if (isUnanswered(wrapper)) return NOT_ANSWERED;
  const heads = wrapper.heads.length;
  const problems: string[] = [];
  if (heads !== 2) problems.push(`the wrapper has ${heads} head(s); the exercise asks for 2`);
  const out = wrapper.forward(batch);
  const width = out.shape[out.rank - 1];
  out.dispose();
  if (width !== 2) {
    problems.push(
      `its context vectors have ${width} dimensions: the wrapper concatenates its heads, so the width is d_out x heads = ${wrapper.dOut} x ${heads}`,
    );
  }
  return verdict(problems, `Right: ${heads} heads, context vectors of width ${width}.`);
}

/** Exercise 6.2: split `x` [b, T, d_out] into `numHeads` heads by hand: [b, heads, T, head_dim]. */
export function checkSplitHeads(answer: unknown, x: tf.Tensor, numHeads: number): string {
  if (isUnanswered(answer)) return NOT_ANSWERED;
  const [b, t, d] = x.shape;
  const hd = d / numHeads;
  const problems = tf.tidy(() => {
    const viewed = x.reshape([b, t, numHeads, hd]);
    return compareAnswer(
      answer,
      viewed.transpose([0, 2, 1, 3]),
      "your heads",
      "[b, heads, T, head_dim]",
      [
        { value: viewed, hint: "that is [b, T, heads, head_dim]: now swap axes 1 and 2" },
        {
          value: x.reshape([b, numHeads, t, hd]),
          hint: "reshaping straight to [b, heads, T, head_dim] mixes tokens into heads: reshape to [b, T, heads, head_dim] first, then swap axes 1 and 2",
        },
      ],
      0,
    );
  });
  return verdict(problems, `Right: ${numHeads} heads of head_dim ${hd}, each holding its own slice of every token.`);
}

/**
 * Exercise 6.3: `count(dIn, dOut, numHeads, qkvBias)` returns the number of parameters of a MultiHeadAttention
 * with those settings (three projections d_in -> d_out, with biases when qkvBias, and an output projection
 * d_out -> d_out with a bias). Checked on GPT-2's sizes and on sizes it has not seen.
 */
export function checkAttentionParameterCount(count: unknown): string {
  const cases: [number, number, number, boolean][] = [
    [768, 768, 12, true],
    [1024, 1024, 16, false],
    [3, 2, 2, false],
    [5, 6, 3, true],
  ];
  return checkNumbersOnCases(
    count,
    "(dIn, dOut, numHeads, qkvBias) => number",
    cases.map(([dIn, dOut, heads, bias]) => {
      const qkv = 3 * dIn * dOut + (bias ? 3 * dOut : 0);
      const expected = qkv + dOut * dOut + dOut;
      return {
        what: `d_in = ${dIn}, d_out = ${dOut}, ${heads} heads, qkvBias = ${bias}`,
        args: [dIn, dOut, heads, bias],
        expected,
        pitfalls: [
          [3 * dIn * dOut + 3 * dOut + dOut * dOut + dOut, "qkvBias = false means no biases on the query, key and value projections"],
          [3 * dIn * dOut + dOut * dOut + dOut, "with qkvBias = true the query, key and value projections each have a bias of d_out"],
          [qkv + dOut * dOut, "the output projection has a bias of d_out too"],
          [qkv, "you left out the output projection (d_out -> d_out, with a bias)"],
          [qkv + dIn * dOut + dOut, "the output projection maps d_out to d_out (it reads the merged heads), not d_in to d_out"],
          [heads * expected, "the heads do not multiply the parameters: they split each projection's d_out columns"],
          [heads * qkv + dOut * dOut + dOut, "the heads do not multiply the projections: they split each projection's d_out columns"],
        ],
      };
    }),
    "Right: 3 d_in d_out (+ 3 d_out with qkv biases) + d_out² + d_out, whatever the number of heads.",
  );
}

/** Multi-head attention from a MultiHeadAttention's projections, with the variants the checks recognise. */
type MultiHeadVariant =
  "scale by d_out" | "split without transpose" | "split and merge without transpose" | "merge without transpose" | "no output projection";
function multiHeadVariant(m: MultiHeadAttention, x: tf.Tensor, variant: MultiHeadVariant): tf.Tensor {
  return tf.tidy(() => {
    const [b, T] = x.shape;
    const [h, hd] = [m.numHeads, m.headDim];
    const straightSplit = variant.startsWith("split");
    const straightMerge = variant.includes("merge without");
    const split = (t: tf.Tensor) => (straightSplit ? t.reshape([b, h, T, hd]) : t.reshape([b, T, h, hd]).transpose([0, 2, 1, 3]));
    const [q, k, v] = [split(m.W_query.forward(x)), split(m.W_key.forward(x)), split(m.W_value.forward(x))];
    const scale = Math.sqrt(variant === "scale by d_out" ? m.dOut : hd);
    const scores = tf.div(tf.matMul(q, k, false, true), scale);
    const weights = softmax(tf.where(causalMask(T), tf.fill(scores.shape, -Infinity), scores));
    const context = tf.matMul(weights, v); // [b, h, T, hd]
    const merged = straightMerge ? context.reshape([b, T, m.dOut]) : context.transpose([0, 2, 1, 3]).reshape([b, T, m.dOut]);
    return variant === "no output projection" ? merged : m.out_proj.forward(merged);
  });
}

/**
 * Exercise 6.4: `MultiHeadAttention.forward` in a skeleton class whose constructor is given:
 * `new Module(dIn, dOut, contextLength, numHeads)` with W_query, W_key, W_value, out_proj (Linear), headDim and mask.
 * The check copies a library MultiHeadAttention's weights into it and compares on batches it has not seen (other
 * head counts, d_in != d_out, inputs shorter than the context), and tests that the future stays hidden.
 */
export function checkMultiHeadModule(Module: unknown): string {
  const configs = [
    { dIn: 5, dOut: 6, ctx: 7, heads: 3, x: [3, 5, 5] },
    { dIn: 3, dOut: 4, ctx: 6, heads: 2, x: [1, 6, 3] },
  ];
  const right = "Right: one projection each for Q, K, V, split into heads, causal scaled softmax per head, merged, then out_proj.";
  return trySkeletons(
    Module,
    right,
    64,
    configs,
    ({ dIn, dOut, ctx, heads, x: shape }, gen) => ({
      lib: new MultiHeadAttention(dIn, dOut, ctx, 0, heads, { generator: new Generator(gen.nextUint32()) }),
      args: [dIn, dOut, ctx, heads],
      names: ["W_query", "W_key", "W_value", "out_proj"],
      shape,
      what: `a batch ${shapeStr(shape)} (${shape[1]} tokens, context length ${ctx}, d_in = ${dIn}, d_out = ${dOut}, ${heads} heads)`,
    }),
    ({ lib, mine, x, what, shape }, { dOut }, gen) => {
      const out = runForward(mine, x, what);
      if (out === null) return NOT_ANSWERED;
      if (typeof out === "string") return verdict([out], right);
      out.dispose();
      const problems = tf.tidy(() => {
        const got = runForward(mine, x, what) as tf.Tensor;
        return compareAnswer(got, lib.forward(x), `your output on ${what}`, `[b, T, d_out] = ${shapeStr([shape[0], shape[1], dOut])}`, [
          {
            value: multiHeadVariant(lib, x, "scale by d_out"),
            hint: "you scaled by √d_out; each head's keys have head_dim entries, so the scale is √head_dim",
          },
          ...(["split without transpose", "split and merge without transpose"] as const).map((v) => ({
            value: multiHeadVariant(lib, x, v),
            hint: "reshaping straight to [b, heads, T, head_dim] mixes tokens into heads: reshape to [b, T, heads, head_dim], then swap axes 1 and 2",
          })),

          {
            value: multiHeadVariant(lib, x, "merge without transpose"),
            hint: "the heads are merged without swapping axes 1 and 2 back first: tokens and heads get mixed",
          },
          { value: multiHeadVariant(lib, x, "no output projection"), hint: "the merged heads still go through out_proj" },
        ]);
      });
      if (problems.length) return verdict(whyDifferent(problems, mine, x, gen), right);
      return null;
    },
  );
}
