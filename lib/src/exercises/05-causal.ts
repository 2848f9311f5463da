// Checks for notebook 05's exercises (5.1 the mask, 5.2 the causal module, 5.3 and 5.4 bugs to find): "✓" when
// right, else "✗" and a hint. Also the planted buggy modules of 5.3 and 5.4.
import * as tf from "@tensorflow/tfjs";
import { shapeStr } from "../core/checks";
import { Linear } from "../core/linear";
import { Generator, defaultGenerator } from "../core/random";
import { softmax } from "../attention/softmax";
import * as causal from "../attention/causal";
import { causalMask, lowerTriangle } from "../attention/causal";
import * as causalattention from "../attention/causalattention";
import { CausalAttention } from "../attention/causalattention";
import * as scaled from "../attention/scaled";
import { dropout } from "../attention/dropout";
import { MultiHeadAttention } from "../attention/multihead";
import {
  NOT_ANSWERED,
  checkBugTest,
  checkFunctionOnCases,
  compareAnswer,
  isUnanswered,
  libraryParts,
  maxAbsDiff,
  runForward,
  trySkeletons,
  verdict,
  whyDifferent,
  withLibraryOff,
  type Suspect,
} from "./harness";

/** The library's causal masks: switched off while exercise 5.1's answer runs. */
const MASK_BUILDERS = libraryParts(causal, ["lowerTriangle", "causalMask", "slidingWindowMask", "maskFuture", "causalSoftmax"]);

/** The library's causal attention: switched off while exercise 5.2's forward runs (the stored mask stays usable). */
const CAUSAL_ATTENTION = [
  ...libraryParts(causal, ["maskFuture", "causalSoftmax", "maskAndRenormalize"]),
  ...libraryParts(causalattention, ["maskedAttentionWeights"]),
  ...libraryParts(scaled, ["scaledDotProductAttention"]),
  ...libraryParts(CausalAttention.prototype, ["explain", "forward"], "CausalAttention."),
  ...libraryParts(Object.getPrototypeOf(CausalAttention.prototype) as object, ["forward", "attend"], "CausalAttention."),
  ...libraryParts(MultiHeadAttention.prototype, ["explain", "forward"], "MultiHeadAttention."),
];

/** [T, T] of 0 and 1 with the slips the hints name: 1 where key j is visible from query i. */
function visibleVariant(T: number, variant: "right" | "transposed" | "no diagonal" | "inverted" | "all ones"): tf.Tensor {
  const v = Array.from({ length: T }, (_, i) =>
    Array.from({ length: T }, (_, j) => {
      const past = j <= i;
      if (variant === "transposed") return +(j >= i);
      if (variant === "no diagonal") return +(j < i);
      if (variant === "inverted") return +!past;
      if (variant === "all ones") return 1;
      return +past;
    }),
  );
  return tf.tensor2d(v, [T, T]);
}

/**
 * Exercise 5.1 as a function: `mask(T)` returns [T, T] of 0 and 1, 1 where query i may see key j. Checked for
 * several T, with the library's mask builders switched off while it runs.
 */
function checkCausalMaskFunction(mask: unknown): string {
  const hints: [Parameters<typeof visibleVariant>[1], string][] = [
    ["transposed", "your ones are on and above the diagonal: row i must see columns 0..i (the past), not the future"],
    ["no diagonal", "the diagonal is 0: a token may attend to itself"],
    ["inverted", "yours marks what is hidden (1 = future); this exercise asks for 1 = may see"],
    ["all ones", "all ones hides nothing: row i may see columns 0..i only"],
  ];
  return withLibraryOff(MASK_BUILDERS, () =>
    checkFunctionOnCases(
      mask,
      "(T) => [T, T] of 0 and 1",
      () =>
        [4, 1, 6, 9].map((T) => ({
          what: `T = ${T}`,
          args: [T],
          expected: visibleVariant(T, "right"),
          layout: `[T, T] = [${T}, ${T}]`,
          pitfalls: hints.map(([v, hint]) => ({ value: visibleVariant(T, v), hint })),
        })),
      "Right: row i has ones in columns 0..i, a lower triangle with its diagonal, for any T.",
      0,
    ),
  );
}

/**
 * Exercise 5.1: a [T, T] matrix of 0 and 1, 1 where query (row) i may see key (column) j, for T = `tokens`; or a
 * function (T) => that matrix, checked for several T with the library's mask builders switched off.
 */
export function checkCausalMask(answer: unknown, tokens?: number): string {
  if (typeof answer === "function") return checkCausalMaskFunction(answer);
  if (isUnanswered(answer)) return NOT_ANSWERED;
  if (tokens === undefined) throw new Error("checkCausalMask: a mask tensor is checked for a number of tokens; pass it");
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

/** The causal weights [b, T, T] of a CausalAttention on x, before dropout. */
function causalWeights(ca: CausalAttention, x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const scores = tf.div(tf.matMul(ca.W_query.forward(x), ca.W_key.forward(x), false, true), Math.sqrt(ca.dOut));
    return softmax(tf.where(causalMask(x.shape[1]!), tf.fill(scores.shape, -Infinity), scores));
  });
}

/**
 * Exercise 5.2: the forward pass of a causal attention module whose constructor is given:
 * `new Module(dIn, dOut, contextLength, dropoutP)` with W_query, W_key, W_value (Linear), mask and training.
 * The check copies a library CausalAttention's weights into it and compares on batches it has not seen (inputs
 * shorter than the context, d_in != d_out, several sizes), tests that the future stays hidden, and that the
 * course's dropout (seeded) acts on the weights in training mode only, at rates 0.2 and 0.7. The library's causal
 * attention (CausalAttention, maskFuture, causalSoftmax, ...) is switched off while the learner's forward runs.
 */
export function checkCausalModule(Module: unknown): string {
  const configs = [
    { dIn: 4, dOut: 3, ctx: 8, p: 0, x: [3, 5, 4] },
    { dIn: 3, dOut: 5, ctx: 6, p: 0, x: [2, 6, 3] },
    { dIn: 4, dOut: 3, ctx: 8, p: 0.2, x: [2, 5, 4] },
    { dIn: 2, dOut: 4, ctx: 7, p: 0.7, x: [2, 6, 2] },
  ];
  const right = "Right: projections, scaled scores, the stored mask's top-left corner, softmax, dropout in training only, weights x values.";
  return withLibraryOff(CAUSAL_ATTENTION, () =>
    trySkeletons(
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
        return dropoutProblems(lib, mine, x, what, p, gen.nextUint32(), right);
      },
    ),
  );
}

/**
 * Dropout in 5.2: with the default generator seeded as the library module's, the learner's training output must be
 * the library's (the course's dropout on the weights), and its evaluation output the one without dropout. The hint
 * comes from what the output is: another rate, another scale, no dropout, or draws not from the course's generator.
 */
function dropoutProblems(
  lib: CausalAttention,
  mine: Parameters<typeof runForward>[0],
  x: tf.Tensor,
  what: string,
  p: number,
  seed: number,
  right: string,
): string | null {
  const values = lib.W_value.forward(x);
  const weights = causalWeights(lib, x);
  const dropped = (rate: number) => dropout(weights, rate, { generator: new Generator(seed) });
  const expected = dropped(p);
  const kept = tf.tidy(() => tf.greater(expected, 0).toFloat());
  const variants: [tf.Tensor, string][] = [
    [
      tf.tidy(() => tf.matMul(dropped(1 - p), values)),
      `you dropped with probability 1 - p: the rate p = ${p} is the share of weights dropped, not kept (dropout(weights, p) takes the rate)`,
    ],
    [tf.tidy(() => tf.matMul(tf.mul(kept, weights), values)), "the kept weights were not scaled up: inverted dropout divides them by 1 - p"],
    [tf.tidy(() => tf.matMul(tf.mul(tf.mul(kept, weights), p), values)), "you scaled the kept weights by p; inverted dropout divides them by 1 - p"],
    [tf.tidy(() => tf.matMul(tf.div(tf.mul(kept, weights), p), values)), "you divided the kept weights by p; inverted dropout divides them by 1 - p"],
  ];
  const expectedTrain = tf.tidy(() => tf.matMul(expected, values));
  const expectedEval = tf.tidy(() => tf.matMul(weights, values));
  const saved = defaultGenerator.getState();
  const trainRun = () => {
    defaultGenerator.manualSeed(seed);
    mine.training = true;
    return runForward(mine, x, what);
  };
  const train = trainRun();
  const again = trainRun();
  defaultGenerator.setState(saved);
  mine.training = false;
  const evaluation = runForward(mine, x, what);
  const made = [values, weights, expected, kept, expectedTrain, expectedEval, ...variants.map((v) => v[0])];
  try {
    if (train === null || evaluation === null || again === null) return NOT_ANSWERED;
    for (const t of [train, again, evaluation]) if (typeof t === "string") return verdict([t], right);
    const [tr, ag, ev] = [train, again, evaluation] as tf.Tensor[];
    if (tr.shape.join() !== expectedTrain.shape.join() || ev.shape.join() !== expectedTrain.shape.join())
      return verdict([`on ${what} your output has shape ${shapeStr(tr.shape)}; expected ${shapeStr(expectedTrain.shape)}`], right);
    const problems: string[] = [];
    if (maxAbsDiff(ev, expectedEval) > 1e-4)
      problems.push("with training = false (evaluation) the output should be the one without dropout: dropout must do nothing then");
    if (maxAbsDiff(tr, expectedTrain) > 1e-4) {
      const variant = variants.find(([v]) => maxAbsDiff(tr, v) <= 1e-4);
      problems.push(
        maxAbsDiff(tr, expectedEval) <= 1e-4
          ? `with training = true and dropout ${p}, nothing was dropped: call dropout(…, this.dropoutP, { training: this.training })`
          : variant
            ? `with dropout ${p}: ${variant[1]}`
            : maxAbsDiff(tr, ag) > 1e-6
              ? "two training runs from the same seed differ: your dropout does not draw from the course's seeded generator (tf.dropout draws its own numbers); use dropout(weights, this.dropoutP, { training: this.training }) from the library"
              : "in training mode the output differs from dropout on the attention weights: apply dropout once, to the weights after the softmax, before multiplying by the values",
      );
    }
    return problems.length ? verdict(problems, right) : null;
  } finally {
    tf.dispose([...made, ...[train, again, evaluation].filter((t): t is tf.Tensor => t instanceof tf.Tensor)]);
  }
}

// ---- 5.3: find the bug that lets the future in ----

/** How a suspect causal head hides the future: right, or one of the bugs exercise 5.3 plants or keeps unseen. */
type CausalBug = "none" | "opposite convention" | "one ahead" | "wrong corner";

/** A causal head for exercise 5.3: W_query, W_key, W_value (Linear d_in -> d_out, seeded), forward [b, T, d_in] -> [b, T, d_out]. */
export class SuspectCausalAttention {
  readonly W_query: Linear;
  readonly W_key: Linear;
  readonly W_value: Linear;
  constructor(
    readonly dIn: number,
    readonly dOut: number,
    readonly contextLength: number,
    private readonly bug: CausalBug,
    seed = 5,
  ) {
    const generator = new Generator(seed);
    this.W_query = new Linear(dIn, dOut, { bias: false, generator });
    this.W_key = new Linear(dIn, dOut, { bias: false, generator });
    this.W_value = new Linear(dIn, dOut, { bias: false, generator });
  }

  /** [T, T], true = hidden, as this head builds it. */
  private hidden(T: number): tf.Tensor {
    const ctx = this.contextLength;
    if (this.bug === "opposite convention") return tf.greater(lowerTriangle(ctx), 0).slice([0, 0], [T, T]); // true = attend (PyTorch's boolean attn_mask), used as true = hide
    if (this.bug === "wrong corner") return causalMask(ctx).slice([ctx - T, 0], [T, T]); // the bottom-left corner of the stored mask
    if (this.bug === "one ahead")
      return tf.tensor2d(
        Array.from({ length: T }, (_, i) => Array.from({ length: T }, (_, j) => +(j > i + 1))),
        [T, T],
        "bool",
      );
    return causalMask(ctx).slice([0, 0], [T, T]);
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const T = x.shape[x.rank - 2];
      if (T > this.contextLength) throw new Error(`forward: ${T} tokens, more than the context length ${this.contextLength}`);
      const scores = tf.div(tf.matMul(this.W_query.forward(x), this.W_key.forward(x), false, true), Math.sqrt(this.dOut));
      const weights = tf.softmax(tf.where(this.hidden(T), tf.scalar(-1e9), scores));
      return tf.matMul(weights, this.W_value.forward(x));
    });
  }

  dispose(): void {
    [this.W_query, this.W_key, this.W_value].forEach((l) => l.dispose());
  }
}

/** Exercise 5.3's module: `suspectCausalAttention(dIn, dOut, contextLength)`, a causal head with one planted bug. */
export function suspectCausalAttention(dIn: number, dOut: number, contextLength: number): SuspectCausalAttention {
  return new SuspectCausalAttention(dIn, dOut, contextLength, "opposite convention");
}

type MakeCausal = (dIn: number, dOut: number, contextLength: number) => SuspectCausalAttention;

/** `make`, recording every module it builds (the check disposes them). */
function trackModules<M extends { dispose(): void }, A extends unknown[]>(make: (...a: A) => M, made: { dispose(): void }[]): (...a: A) => M {
  return (...a: A) => {
    const m = make(...a);
    made.push(m);
    return m;
  };
}

/**
 * Exercise 5.3: `test(make)` returns true when the causal heads `make(dIn, dOut, contextLength)` builds keep the
 * future hidden. The check runs it on exercise 5.3's module (the boolean mask with the opposite convention), a
 * correct head, and two unseen bugs that also let the future in: each token sees one token ahead; the stored mask
 * sliced at the wrong corner, which shows only for inputs shorter than the context length.
 */
export function checkFutureTest(test: unknown): string {
  const make =
    (bug: CausalBug): MakeCausal =>
    (dIn, dOut, ctx) =>
      new SuspectCausalAttention(dIn, dOut, ctx, bug);
  const suspects: Suspect<MakeCausal>[] = [
    {
      make: make("opposite convention"),
      correct: false,
      hint: "your test passes the module of this exercise, which lets the future in: change a later token and see whether an earlier output moves",
    },
    {
      make: make("none"),
      correct: true,
      hint: "your test fails a correct causal head: only the outputs of tokens before the one you change must stay put (its own output and the later ones may move); compare with a tolerance such as 1e-5",
    },
    {
      make: make("one ahead"),
      correct: false,
      hint: "your test passes a head that lets each token see one token ahead: change a token and compare the outputs of every token before it, the one just before included",
    },
    {
      make: make("wrong corner"),
      correct: false,
      hint: "your test passes a head that slices its stored mask at the wrong corner, which lets the future in only for inputs shorter than the context length: try a few lengths",
    },
  ];
  return checkBugTest(
    test,
    suspects,
    trackModules,
    "Right: your test fails every head that lets a later token change an earlier output, and passes the correct one.",
  );
}

// ---- 5.4: find the bug in a dropout ----

/** How a suspect dropout scales: right, or one of the bugs exercise 5.4 plants or keeps unseen. */
type DropoutBug = "none" | "times p" | "divided by p" | "keep probability" | "in evaluation too";

/** A dropout (x, p, training) => x with one of the bugs, drawing from the course's default generator. */
function suspectDropoutOf(bug: DropoutBug): (x: tf.Tensor, p: number, training?: boolean) => tf.Tensor {
  return (x, p, training = true) =>
    tf.tidy(() => {
      if (bug === "none") return dropout(x, p, { training });
      if (!training && bug !== "in evaluation too") return x.clone();
      if (p === 0) return x.clone();
      const rate = bug === "keep probability" ? 1 - p : p;
      const kept = tf.greater(dropout(tf.onesLike(x), rate), 0).toFloat(); // 1 where kept
      const scale = bug === "times p" ? p : bug === "divided by p" ? 1 / p : 1 / (1 - rate);
      return tf.mul(tf.mul(x, kept), scale);
    });
}

/** Exercise 5.4's dropout: `suspectDropout(x, p, training)`, with one planted bug (draws from the course's generator). */
export const suspectDropout = suspectDropoutOf("times p");

type Dropout = (x: tf.Tensor, p: number, training?: boolean) => tf.Tensor;

/**
 * Exercise 5.4: `test(drop)` returns true when the dropout `drop(x, p, training)` is right. The check runs it on
 * exercise 5.4's dropout (kept values scaled by p), the course's dropout, and unseen bugs: kept values divided by p
 * (right only at p = 0.5), p taken as the keep probability, and dropping in evaluation too.
 */
export function checkDropoutTest(test: unknown): string {
  const suspects: Suspect<Dropout>[] = [
    {
      make: suspectDropoutOf("times p"),
      correct: false,
      hint: "your test passes the dropout of this exercise: in training, what should the kept values be, and the mean of many outputs of ones?",
    },
    {
      make: suspectDropoutOf("none"),
      correct: true,
      hint: "your test fails the course's correct dropout: dropout is random, so compare shares and means with a tolerance (on a large tensor), not exact counts",
    },
    {
      make: suspectDropoutOf("divided by p"),
      correct: false,
      hint: "your test passes a dropout that divides the kept values by p, which is right only at p = 0.5: test at another rate",
    },
    {
      make: suspectDropoutOf("keep probability"),
      correct: false,
      hint: "your test passes a dropout that drops with probability 1 - p (p taken as the share kept): check the share of zeros, at a rate other than 0.5",
    },
    {
      make: suspectDropoutOf("in evaluation too"),
      correct: false,
      hint: "your test passes a dropout that also drops in evaluation: with training = false it must return its input unchanged",
    },
  ];
  const saved = defaultGenerator.getState();
  try {
    return checkBugTest(
      test,
      suspects,
      (d) => d,
      "Right: your test fails every wrongly scaled or wrongly timed dropout, and passes the correct one.",
    );
  } finally {
    defaultGenerator.setState(saved);
  }
}
