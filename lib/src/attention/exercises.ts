// Checks for the notebooks' exercises: they say "right", or what differs, without giving the answer.
import * as tf from "@tensorflow/tfjs";
import { shapeStr } from "../core/checks";
import { Generator, defaultGenerator, randValues } from "../core/random";
import { Linear } from "../core/linear";
import {
  NOT_ANSWERED,
  callAnswer,
  checkFunctionOnCases,
  checkNumbersOnCases,
  compareAnswer,
  isUnanswered,
  verdict,
  type Pitfall,
} from "../core/exercise";
import { normalizeBySum, softmax } from "./softmax";
import { SelfAttentionV1, SelfAttentionV2 } from "./selfattention";
import { causalMask, lowerTriangle } from "./causal";
import { CausalAttention, type MultiHeadAttentionWrapper } from "./causalattention";
import { MultiHeadAttention } from "./multihead";

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

// ---- Notebook 03 ----

/** Entries uniform in [-1, 1), from its own seeded generator: inputs the learner's code has not seen. */
function unseen(shape: number[], gen: Generator): tf.Tensor {
  return tf.tidy(() => tf.tensor(randValues(shape, gen), shape).mul(2).sub(1));
}

/** softmax(x · x_i / τ) over the tokens, then the weighted sum of the rows of x: [T, d] -> [d]. Also its ingredients. */
function contextAt(x: tf.Tensor, i: number, temperature: number, normalize: (s: tf.Tensor) => tf.Tensor = softmax): tf.Tensor {
  return tf.tidy(() => tf.matMul(normalize(tf.div(tf.dot(x as tf.Tensor2D, x.gather(i) as tf.Tensor1D), temperature)).expandDims(0), x).squeeze([0]));
}

/**
 * Exercise 3.1: `context(x, i, temperature)` returns the context vector of token i (0-based) of x [T, d] with
 * temperature-scaled weights softmax(x · x_i / τ). Checked on inputs and temperatures it has not seen.
 */
export function checkTemperatureContext(context: unknown): string {
  return checkFunctionOnCases(
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
          pitfalls.push({ value: contextAt(x, i, 1), hint: "the temperature changes nothing in yours: divide the scores by it before the softmax" });
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
  return checkFunctionOnCases(
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
  );
}

// ---- Notebook 04 (continued) ----

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
  return checkFunctionOnCases(
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
          { value: sdpa(q, k, v, Math.sqrt(dv)), hint: "you scaled by √d_v, the values' size; the scale is √d_k, the size of the queries and keys" },
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
  );
}

// ---- Notebook 05 (continued) ----

/** What the exercise's skeleton classes hold: the constructor is given, forward is the learner's. */
type Skeleton = Record<string, unknown> & { forward?: (x: tf.Tensor) => unknown; training?: boolean };

/** Build the learner's module, copy the library module's weights into it, or say what is missing. */
function buildSkeleton(Module: unknown, args: number[], copyFrom: Record<string, Linear | unknown>, names: string[]): Skeleton | string {
  if (typeof Module !== "function") return `expected the class itself (e.g. MyCausalAttention), got ${typeof Module}`;
  let mine: Skeleton;
  try {
    mine = new (Module as new (...a: number[]) => Skeleton)(...args);
  } catch (e) {
    return `its constructor threw on (${args.join(", ")}): ${(e as Error).message}; keep the constructor as given`;
  }
  for (const name of names) {
    const target = mine[name];
    const source = copyFrom[name] as Linear;
    if (!(target instanceof Linear) || target.weight.shape.join() !== source.weight.shape.join()) {
      disposeSkeleton(mine);
      return `this.${name} is not the Linear the constructor makes (d_in -> d_out); keep the constructor as given`;
    }
    tf.tidy(() => {
      target.weight.assign(source.weight);
      if (target.bias && source.bias) target.bias.assign(source.bias);
    });
  }
  if (typeof mine.forward !== "function") {
    disposeSkeleton(mine);
    return "the class has no forward(x) method";
  }
  return mine;
}

function disposeSkeleton(mine: Skeleton): void {
  for (const v of Object.values(mine)) {
    if (v instanceof Linear) v.dispose();
    else if (v instanceof tf.Tensor && !v.isDisposed) v.dispose();
  }
}

/** Call forward on the learner's module, turning a throw or a non-tensor into a message. */
function runForward(mine: Skeleton, x: tf.Tensor, what: string): tf.Tensor | string | null {
  const call = callAnswer(() => tf.tidy(() => mine.forward!(x) as tf.Tensor));
  if ("error" in call) return `on ${what}, forward threw: ${call.error.replace(/^your function threw: /, "")}`;
  if (isUnanswered(call.value)) return null;
  if (!(call.value instanceof tf.Tensor)) return `on ${what}, forward returned ${typeof call.value}; expected a tensor`;
  return call.value;
}

/**
 * The causality property: replace the last two tokens of x [b, T, d_in] and see whether the outputs of the
 * earlier tokens move. Returns a problem, or null when the future stays hidden.
 */
function futureLeaks(mine: Skeleton, x: tf.Tensor, gen: Generator): string | null {
  const [b, T, d] = x.shape;
  const keep = T - 2;
  const changed = tf.tidy(() => tf.concat([x.slice([0, 0, 0], [b, keep, d]), unseen([b, 2, d], gen)], 1));
  try {
    const a = runForward(mine, x, "the probe");
    const c = runForward(mine, changed, "the probe");
    if (!(a instanceof tf.Tensor) || !(c instanceof tf.Tensor)) return null; // the comparison below reports it
    const moved = tf.tidy(() => maxAbsDiff(a.slice([0, 0, 0], [b, keep, a.shape[2]!]), c.slice([0, 0, 0], [b, keep, c.shape[2]!])));
    tf.dispose([a, c]);
    return moved > 1e-5
      ? `the future leaks: changing the last two of ${T} tokens moved the outputs of tokens 0..${keep - 1} by up to ${moved.toExponential(1)}; hide the scores of later keys before the softmax`
      : null;
  } finally {
    changed.dispose();
  }
}

/** A mismatch that no known pitfall explains: say whether the future leaks, the most likely cause. */
function whyDifferent(problems: string[], mine: Skeleton, x: tf.Tensor, gen: Generator): string[] {
  if (!/entries of .* differ/.test(problems.join(" "))) return problems;
  const leak = futureLeaks(mine, x, gen);
  return leak ? [leak] : problems;
}

/**
 * For each config: the library's module, the learner's skeleton holding the same weights (the Linear layers in
 * `names`) and an input it has not seen. `body` returns what to say and stop with, or null to go on to the next one.
 * Everything is freed, and the default generator (which the learner's constructor draws from) put back.
 */
function trySkeletons<C, L extends { dispose(): void }>(
  Module: unknown,
  right: string,
  seed: number,
  configs: C[],
  make: (c: C, gen: Generator) => { lib: L; args: number[]; names: string[]; shape: number[]; what: string },
  body: (trial: { lib: L; mine: Skeleton; x: tf.Tensor; what: string; shape: number[] }, c: C, gen: Generator) => string | null,
): string {
  if (isUnanswered(Module)) return NOT_ANSWERED;
  const saved = defaultGenerator.getState();
  try {
    const gen = new Generator(seed);
    for (const c of configs) {
      const { lib, args, names, shape, what } = make(c, gen);
      const mine = buildSkeleton(Module, args, lib as unknown as Record<string, unknown>, names);
      const x = unseen(shape, gen);
      try {
        if (typeof mine === "string") return verdict([mine], right);
        const said = body({ lib, mine, x, what, shape }, c, gen);
        if (said !== null) return said;
      } finally {
        lib.dispose();
        if (typeof mine !== "string") disposeSkeleton(mine);
        x.dispose();
      }
    }
    return verdict([], right);
  } finally {
    defaultGenerator.setState(saved);
  }
}

/** One causal head computed from a CausalAttention's projections, with the variants the checks recognise. */
function causalVariant(ca: CausalAttention, x: tf.Tensor, variant: "no scale" | "scale by d_in" | "zeroed after" | "softmax again"): tf.Tensor {
  return tf.tidy(() => {
    const [q, k, v] = [ca.W_query.forward(x), ca.W_key.forward(x), ca.W_value.forward(x)];
    const T = x.shape[1]!;
    const scores = tf.matMul(q, k, false, true);
    const scale = variant === "no scale" ? 1 : Math.sqrt(variant === "scale by d_in" ? ca.dIn : ca.dOut);
    const future = causalMask(T);
    if (variant === "zeroed after" || variant === "softmax again") {
      const zeroed = tf.where(future, tf.zerosLike(scores), softmax(tf.div(scores, scale)));
      return tf.matMul(variant === "zeroed after" ? zeroed : softmax(zeroed), v);
    }
    return tf.matMul(softmax(tf.where(future, tf.fill(scores.shape, -Infinity), tf.div(scores, scale))), v);
  });
}

/**
 * Exercise 5.2: the forward pass of a causal attention module whose constructor is given:
 * `new Module(dIn, dOut, contextLength, dropoutP)` with W_query, W_key, W_value (Linear), mask and training.
 * The check copies a library CausalAttention's weights into it and compares on batches it has not seen (inputs
 * shorter than the context, d_in != d_out), tests that the future stays hidden, and that dropout acts on the
 * weights in training mode only.
 */
export function checkCausalModule(Module: unknown): string {
  const configs = [
    { dIn: 4, dOut: 3, ctx: 8, p: 0, x: [3, 5, 4] },
    { dIn: 3, dOut: 2, ctx: 6, p: 0, x: [2, 6, 3] },
    { dIn: 4, dOut: 3, ctx: 8, p: 0.5, x: [2, 5, 4] },
  ];
  const right = "Right: projections, scaled scores, the stored mask's top-left corner, softmax, dropout in training only, weights x values.";
  return trySkeletons(
    Module,
    right,
    52,
    configs,
    ({ dIn, dOut, ctx, p, x: shape }, gen) => ({
      lib: new CausalAttention(dIn, dOut, ctx, p, { generator: new Generator(gen.nextUint32()) }),
      args: [dIn, dOut, ctx, p],
      names: ["W_query", "W_key", "W_value"],
      shape,
      what: `a batch ${shapeStr(shape)} (${shape[1]} tokens, context length ${ctx}, d_in = ${dIn}, d_out = ${dOut}${p ? `, dropout ${p}` : ""})`,
    }),
    ({ lib, mine, x, what, shape }, { dOut, p }, gen) => {
      if (p === 0) {
        mine.training = true;
        const out = runForward(mine, x, what);
        if (out === null) return NOT_ANSWERED;
        if (typeof out === "string") return verdict([out], right);
        out.dispose();
        const problems = tf.tidy(() => {
          const got = runForward(mine, x, what) as tf.Tensor;
          return compareAnswer(got, lib.forward(x), `your output on ${what}`, `[b, T, d_out] = ${shapeStr([shape[0], shape[1], dOut])}`, [
            {
              value: causalVariant(lib, x, "no scale"),
              hint: "no scaling: divide the scores by √d_k (d_k = d_out, the keys' size) before the softmax",
            },
            { value: causalVariant(lib, x, "scale by d_in"), hint: "you scaled by √d_in; the scale is √d_k, the size of the keys (d_out)" },
            {
              value: causalVariant(lib, x, "zeroed after"),
              hint: "you zeroed the future after the softmax, so the rows no longer sum to 1: set the future scores to -∞ before it",
            },
            {
              value: causalVariant(lib, x, "softmax again"),
              hint: "a second softmax after zeroing lets the future back in (e^0 = 1): mask the scores with -∞ before one softmax",
            },
          ]);
        });
        if (problems.length) return verdict(whyDifferent(problems, mine, x, gen), right);
        return null;
      }
      // Dropout: the same draws as the library's when the default generator starts where the library's does.
      const seed = gen.nextUint32();
      (lib as unknown as { generator: Generator }).generator.manualSeed(seed);
      const expectedTrain = lib.forward(x);
      lib.eval();
      const expectedEval = lib.forward(x);
      const saved = defaultGenerator.getState();
      defaultGenerator.manualSeed(seed);
      mine.training = true;
      const train = runForward(mine, x, what);
      defaultGenerator.setState(saved);
      mine.training = false;
      const evaluation = runForward(mine, x, what);
      try {
        if (train === null || evaluation === null) return NOT_ANSWERED;
        if (typeof train === "string") return verdict([train], right);
        if (typeof evaluation === "string") return verdict([evaluation], right);
        const problems: string[] = [];
        if (maxAbsDiff(evaluation, expectedEval) > 1e-4)
          problems.push("with training = false (evaluation) the output should be the one without dropout: dropout must do nothing then");
        if (maxAbsDiff(train, expectedTrain) > 1e-4) {
          problems.push(
            maxAbsDiff(train, expectedEval) <= 1e-4
              ? `with training = true and dropout ${p}, nothing was dropped: call dropout(…, this.dropoutP, { training: this.training })`
              : "in training mode the output differs from dropout on the attention weights: apply dropout once, to the weights after the softmax, before multiplying by the values",
          );
        }
        if (problems.length) return verdict(problems, right);
      } finally {
        tf.dispose([expectedTrain, expectedEval, ...[train, evaluation].filter((t): t is tf.Tensor => t instanceof tf.Tensor)]);
      }
      return null;
    },
  );
}

// ---- Notebook 06 (continued) ----

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

// ---- Notebook 09 ----

/**
 * Exercise 9.1: `cacheBytes(layers, heads, kvHeads, headDim, tokens, window)` returns the bytes of the key/value
 * cache for `tokens` tokens of context at 2 bytes a number, where a sliding window (or null) keeps at most
 * `window` tokens. Checked on published configurations and on sizes it has not seen.
 */
export function checkKvCacheBytes(cacheBytes: unknown): string {
  const cases: [number, number, number, number, number, number | null, string][] = [
    [32, 32, 8, 128, 8192, null, "a Llama-3-8B-like model (32 layers, 32 query heads, 8 key/value heads of 128), 8,192 tokens"],
    [12, 12, 12, 64, 1024, null, "GPT-2 small (12 layers, 12 heads of 64), 1,024 tokens"],
    [32, 32, 8, 128, 32768, 4096, "a Mistral-7B-like model with a 4,096-token window, 32,768 tokens"],
    [4, 8, 2, 16, 100, 512, "4 layers, 8 heads, 2 key/value heads of 16, 100 tokens, a window of 512"],
  ];
  return checkNumbersOnCases(
    cacheBytes,
    "(layers, heads, kvHeads, headDim, tokens, window) => bytes",
    cases.map(([layers, heads, kv, hd, tokens, window, what]) => {
      const kept = window === null ? tokens : Math.min(tokens, window);
      return {
        what,
        args: [layers, heads, kv, hd, tokens, window],
        expected: 2 * layers * kv * hd * 2 * kept,
        pitfalls: [
          [2 * layers * heads * hd * 2 * kept, "you counted every query head; only the key/value heads are cached"],
          [layers * kv * hd * 2 * kept, "the cache holds keys and values: two tensors per layer"],
          [2 * layers * kv * hd * 2 * tokens, "a sliding window keeps only the last window tokens: the rest can be dropped"],
          [
            2 * layers * kv * hd * 2 * (window ?? tokens),
            "the window caps the tokens kept; a context shorter than the window keeps all of its tokens",
          ],
          [2 * kv * hd * 2 * kept, "every layer has its own cache"],
          [2 * layers * kv * hd * 16 * kept, "2 bytes a number (16 bits), not 16"],
          [2 * layers * kv * hd * 4 * kept, "2 bytes a number here (16-bit weights, as served), not 4"],
        ],
      };
    }),
    "Right: 2 (keys and values) x layers x kvHeads x head_dim x 2 bytes per kept token; a window keeps at most window tokens.",
    "bytes",
  );
}

/**
 * Exercise 9.2: `kvHeadOf(h, numHeads, numKvHeads)` returns the key/value head that query head h reads in
 * grouped-query attention (consecutive query heads share one). Checked against GroupedQueryAttention on settings
 * it has not seen.
 */
export function checkKvHeadOf(kvHeadOf: unknown): string {
  if (isUnanswered(kvHeadOf)) return NOT_ANSWERED;
  const right = "Right: query head h reads key/value head floor(h / (heads / kvHeads)); groups of consecutive heads share one.";
  if (typeof kvHeadOf !== "function") return verdict([`expected a function (h, numHeads, numKvHeads) => number, got ${typeof kvHeadOf}`], right);
  for (const [heads, kv] of [
    [8, 2],
    [12, 4],
    [6, 6],
    [5, 1],
  ]) {
    const group = heads / kv;
    for (let h = 0; h < heads; h++) {
      const call = callAnswer(() => (kvHeadOf as (a: number, b: number, c: number) => unknown)(h, heads, kv));
      if ("error" in call) return verdict([`on head ${h} of ${heads} with ${kv} key/value heads, ${call.error}`], right);
      if (isUnanswered(call.value)) return NOT_ANSWERED;
      const expected = Math.floor(h / group);
      if (call.value === expected) continue;
      const hint =
        call.value === h % kv
          ? "you dealt the heads out in turn (h mod kvHeads); the library, like Llama, gives consecutive query heads the same key/value head"
          : call.value === Math.floor(h / kv)
            ? "divide by the group size, heads / kvHeads, not by the number of key/value heads"
            : `it should be a key/value head from 0 to ${kv - 1}`;
      return verdict([`query head ${h} of ${heads} with ${kv} key/value heads: yours says ${String(call.value)}; ${hint}`], right);
    }
  }
  return verdict([], right);
}

/** Exercise 9.3: `windowMask(T, w)` returns [T, T] of 1 where query i may see key j under a sliding window of w keys, else 0. */
export function checkWindowMask(windowMask: unknown): string {
  return checkFunctionOnCases(
    windowMask,
    "(T, w) => [T, T] of 0 and 1",
    () =>
      (
        [
          [6, 3],
          [7, 1],
          [5, 8],
          [9, 4],
        ] as const
      ).map(([T, w]) => {
        const allowed = (win: number, causal = true) =>
          tf.tensor2d(
            Array.from({ length: T }, (_, i) => Array.from({ length: T }, (_, j) => +((!causal || j <= i) && j > i - win))),
            [T, T],
          );
        return {
          what: `T = ${T}, w = ${w}`,
          args: [T, w],
          expected: allowed(w),
          layout: `[T, T] = [${T}, ${T}]`,
          pitfalls: [
            ...(w < T ? [{ value: allowed(w + 1), hint: "each query sees w keys in all, itself included: the w - 1 before it and itself" }] : []),
            ...(w < T ? [{ value: allowed(w, false), hint: "the future is visible: a sliding window is causal too" }] : []),
            ...(w > 1 ? [{ value: allowed(w - 1), hint: "one key too few: itself and the w - 1 before it" }] : []),
            { value: tf.sub(1, allowed(w)), hint: "yours marks what is hidden; this exercise asks for 1 = may see" },
          ],
        };
      }),
    "Right: row i sees keys i - w + 1 .. i: a band of width w along the diagonal.",
    0,
  );
}
