// Checks for notebook 05's exercises (5.1 the mask, 5.2 the causal module): "✓" when right, else "✗" and a hint.
import * as tf from "@tensorflow/tfjs";
import { shapeStr } from "../core/checks";
import { Generator, defaultGenerator } from "../core/random";
import { softmax } from "../attention/softmax";
import { causalMask, lowerTriangle } from "../attention/causal";
import { CausalAttention } from "../attention/causalattention";
import { NOT_ANSWERED, compareAnswer, isUnanswered, maxAbsDiff, runForward, trySkeletons, verdict, whyDifferent } from "./harness";

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
