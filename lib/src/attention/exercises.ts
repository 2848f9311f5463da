// Checks for the notebooks' exercises: they say "right", or what differs, without giving the answer.
import * as tf from "@tensorflow/tfjs";
import { shapeStr } from "../core/checks";
import { Generator, randValues } from "../core/random";
import { NOT_ANSWERED, callAnswer, checkNumber, compareAnswer, isUnanswered, verdict, type Pitfall } from "../core/exercise";
import { normalizeBySum, softmax } from "./softmax";
import { SelfAttentionV1, SelfAttentionV2 } from "./selfattention";
import { lowerTriangle } from "./causal";
import type { MultiHeadAttentionWrapper } from "./causalattention";

function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

/**
 * Exercise (notebook 04): copy v2's weights into v1 so that both compute the same context vectors.
 * Returns a message starting with "✓" when v1 and v2 agree, else "✗" and what differs.
 */
export function checkWeightCopy(v1: SelfAttentionV1, v2: SelfAttentionV2, inputs: tf.Tensor, tol?: number): string;
/**
 * The same exercise as a function to fill in: `copy(v1, v2)` copies v2's weights into v1. The check calls it on
 * a fresh v1 (seed 123) and v2 (seed 789) of sizes d_in x d_out of `inputs` [T, d_in] and 2; null = not answered.
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
    const x = v2OrInputs as tf.Tensor;
    const v1 = new SelfAttentionV1(x.shape[x.rank - 1], 2, { generator: new Generator(123) });
    const v2 = new SelfAttentionV2(x.shape[x.rank - 1], 2, { generator: new Generator(789) });
    try {
      const call = callAnswer(() => tf.tidy(() => v1OrCopy(v1, v2) as void));
      if ("error" in call) return verdict([call.error], "");
      if (call.value === null) return NOT_ANSWERED;
      return checkWeightCopy(v1, v2, x);
    } finally {
      v1.dispose();
      v2.dispose();
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

// ---- Notebook 03 ----

/**
 * Exercise 3.1: the context vector of token `query` (0-based) of `inputs` [T, d], computed by hand: scores
 * (dot products with every token), softmax, weighted sum of the inputs. The answer is a [d] tensor.
 */
export function checkContextVector(answer: unknown, inputs: tf.Tensor, query: number): string {
  if (isUnanswered(answer)) return NOT_ANSWERED;
  const right = `Right: the context vector of token ${query} is the softmax-weighted average of all ${inputs.shape[0]} inputs.`;
  const problems = tf.tidy(() => {
    const x = inputs as tf.Tensor2D;
    const of = (i: number, normalize: (s: tf.Tensor) => tf.Tensor) => tf.matMul(normalize(tf.dot(x, x.gather(i))).expandDims(0), x).squeeze([0]);
    const expected = of(query, softmax);
    const pitfalls: Pitfall[] = [
      { value: of(query, normalizeBySum), hint: "you divided the scores by their sum; attention uses the softmax" },
      { value: of(query, (s) => s), hint: "you summed the inputs weighted by the raw scores: normalize the scores into weights first" },
      { value: x.gather(query), hint: "that is the query's own embedding; the context vector mixes in every token" },
      { value: softmax(tf.dot(x, x.gather(query))), hint: "those are the attention weights; the context vector is the weighted sum of the inputs" },
    ];
    if (query + 1 < x.shape[0])
      pitfalls.push({ value: of(query + 1, softmax), hint: `that is the context vector of token ${query + 1}: the course counts tokens from 0` });
    if (query > 0)
      pitfalls.push({ value: of(query - 1, softmax), hint: `that is the context vector of token ${query - 1}: the course counts tokens from 0` });
    return compareAnswer(answer, expected, "your context vector", "[d]", pitfalls);
  });
  return verdict(problems, right);
}

/**
 * Exercise 3.2: `attend(x)` computes simplified self-attention for every token: x [T, d] -> context [T, d].
 * Checked on the course's inputs and on a second input it has not seen.
 */
export function checkSelfAttentionFunction(attend: unknown, inputs: tf.Tensor): string {
  if (isUnanswered(attend)) return NOT_ANSWERED;
  if (typeof attend !== "function") return verdict([`expected a function (x) => context, got ${typeof attend}`], "");
  const right = "Right: scores x xᵀ, a softmax over each row, then weights x inputs, for every token at once.";
  const other = tf.tidy(() =>
    tf.tensor2d([
      [0.3, -0.2, 0.9, 0.1],
      [0.5, 0.4, -0.6, 0.2],
      [-0.1, 0.8, 0.3, 0.7],
      [0.6, 0.1, 0.2, -0.4],
    ]),
  );
  try {
    for (const [x, which] of [
      [inputs, "the course's inputs"],
      [other, "a second input [4, 4]"],
    ] as const) {
      const call = callAnswer(() => tf.tidy(() => (attend as (x: tf.Tensor) => tf.Tensor)(x)));
      if ("error" in call) return verdict([`on ${which}, ${call.error}`], right);
      if (isUnanswered(call.value)) return NOT_ANSWERED;
      const found = tf.tidy(() => {
        const scores = tf.matMul(x, x, false, true); // [T, T]
        const expected = tf.matMul(softmax(scores), x);
        return compareAnswer(call.value, expected, `your function's output on ${which}`, "[T, d]", [
          { value: tf.matMul(scores, x), hint: "you weighted the inputs by the raw scores: apply the softmax to each row of scores first" },
          { value: tf.matMul(normalizeBySum(scores), x), hint: "you divided each row of scores by its sum; attention uses the softmax" },
          {
            value: tf.matMul(softmax(scores.transpose()).transpose(), x),
            hint: "your softmax normalized each column; it must normalize each row (axis -1), one row per query",
          },
          { value: softmax(scores), hint: "those are the attention weights; multiply them by the inputs to get the context vectors" },
        ]);
      });
      if (call.value instanceof tf.Tensor) call.value.dispose();
      if (found.length) return verdict(found, right);
    }
    return verdict([], right);
  } finally {
    tf.dispose(other);
  }
}

// ---- Notebook 04 ----

/**
 * Exercise 4.2: `attention(queries, keys, values)` returns the context vectors of scaled dot-product attention:
 * queries [T, d_k], keys [T, d_k], values [T, d_v] -> [T, d_v]. Checked with d_k = 16, where scaling matters.
 */
export function checkScaledAttentionFunction(attention: unknown): string {
  if (isUnanswered(attention)) return NOT_ANSWERED;
  if (typeof attention !== "function") return verdict([`expected a function (queries, keys, values) => context, got ${typeof attention}`], "");
  const right = "Right: softmax(Q Kᵀ / √d_k) V.";
  const gen = new Generator(4);
  const [q, k, v] = tf.tidy(() => [
    tf
      .tensor2d(randValues([5, 16], gen), [5, 16])
      .sub(0.5)
      .mul(2),
    tf
      .tensor2d(randValues([5, 16], gen), [5, 16])
      .sub(0.5)
      .mul(2),
    tf.tensor2d(randValues([5, 3], gen), [5, 3]),
  ]);
  try {
    const call = callAnswer(() => tf.tidy(() => (attention as (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor) => tf.Tensor)(q, k, v)));
    if ("error" in call) return verdict([call.error], right);
    if (isUnanswered(call.value)) return NOT_ANSWERED;
    try {
      const problems = tf.tidy(() => {
        const scores = tf.matMul(q, k, false, true); // [5, 5]
        const expected = tf.matMul(softmax(tf.div(scores, 4)), v);
        return compareAnswer(call.value, expected, "your context vectors", "[T, d_v] = [5, 3]", [
          { value: tf.matMul(softmax(scores), v), hint: "no scaling: divide the scores by √d_k before the softmax" },
          { value: tf.matMul(softmax(tf.div(scores, 16)), v), hint: "you divided by d_k; the scale is its square root, √d_k" },
          { value: tf.matMul(softmax(tf.mul(scores, 4)), v), hint: "you multiplied by √d_k; divide instead" },
          {
            value: tf.matMul(softmax(tf.div(scores, 4).transpose()).transpose(), v),
            hint: "your softmax normalized each column; it must normalize each row (one row per query)",
          },
          { value: softmax(tf.div(scores, 4)), hint: "those are the attention weights; multiply them by the values" },
        ]);
      });
      return verdict(problems, right);
    } finally {
      if (call.value instanceof tf.Tensor) call.value.dispose();
    }
  } finally {
    tf.dispose([q, k, v]);
  }
}

// ---- Notebook 05 ----

/** Exercise 5.1: a [T, T] matrix of 0 and 1, 1 where query (row) i may see key (column) j. */
export function checkCausalMask(answer: unknown, tokens: number): string {
  if (isUnanswered(answer)) return NOT_ANSWERED;
  const problems = tf.tidy(() => {
    const allowed = lowerTriangle(tokens);
    return compareAnswer(
      answer,
      allowed,
      "your mask",
      `[T, T] = [${tokens}, ${tokens}]`,
      [
        { value: allowed.transpose(), hint: "your ones are on and above the diagonal: row i must see columns 0..i (the past), not the future" },
        { value: tf.sub(allowed, tf.eye(tokens)), hint: "the diagonal is 0: a token may attend to itself" },
        { value: tf.sub(1, allowed), hint: "yours marks what is hidden (1 = future); this exercise asks for 1 = may see" },
        { value: tf.ones([tokens, tokens]), hint: "all ones hides nothing: row i may see columns 0..i only" },
      ],
      0,
    );
  });
  return verdict(problems, "Right: row i has ones in columns 0..i, a lower triangle with its diagonal.");
}

/** Exercise 5.2: mask the future of softmax `weights` [T, T] and renormalize each row to sum to 1. */
export function checkRenormalized(answer: unknown, weights: tf.Tensor): string {
  if (isUnanswered(answer)) return NOT_ANSWERED;
  const problems = tf.tidy(() => {
    const t = weights.shape[weights.rank - 1];
    const masked = tf.mul(weights, lowerTriangle(t));
    const expected = tf.div(masked, tf.sum(masked, -1, true));
    return compareAnswer(answer, expected, "your weights", "[T, T]", [
      { value: masked, hint: "the future is 0, but the rows no longer sum to 1: divide each row by its sum" },
      { value: tf.div(masked, tf.sum(masked, 0, true)), hint: "you divided by the column sums; each row (one query) must sum to 1" },
      { value: weights, hint: "nothing is masked: multiply by the mask first" },
      {
        value: softmax(masked),
        hint: "a softmax of masked weights gives the zeros e^0 = 1 and lets the future back in: divide by the row sums instead",
      },
    ]);
  });
  return verdict(problems, "Right: the future is 0 and every row sums to 1, the same weights as the -∞ softmax.");
}

// ---- Notebook 06 ----

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

/** GPT-2 small's attention layer (per block): d = 768, biases on the query/key/value projections and the output. */
const GPT2_D = 768;

/** Exercise 6.3: how many parameters one attention layer of GPT-2 small has (biases included). */
export function checkGpt2AttentionParameters(answer: unknown): string {
  const d = GPT2_D;
  return checkNumber(
    answer,
    4 * d * d + 4 * d,
    "your count",
    [
      [4 * d * d, "you left out the biases: GPT-2 has one on each of its four projections"],
      [4 * d * d + d, "that is the course's module (qkv_bias = false): GPT-2's query, key and value projections have biases too"],
      [3 * d * d, "you left out the output projection and the biases"],
      [3 * d * d + 3 * d, "you left out the output projection (768 x 768, with a bias)"],
      [12 * (4 * d * d + 4 * d), "that is all 12 blocks; the question asks for one attention layer"],
      [4 * (d / 12) * (d / 12) * 12 + 4 * d, "the heads do not shrink the projections: each is still 768 x 768, split into 12 heads afterwards"],
    ],
    "Right: four 768 x 768 projections, each with a bias of 768.",
  );
}
