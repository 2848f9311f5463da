// Checks for notebook 06's exercises (6.1 wrapper, 6.2 splitting heads, 6.3 parameter count, 6.4 the forward pass,
// 6.5 a bug to find), and the planted buggy module of 6.5.
import * as tf from "@tensorflow/tfjs";
import { shapeStr } from "../core/checks";
import { Linear } from "../core/linear";
import * as moduleParts from "../core/module";
import { Generator } from "../core/random";
import { softmax } from "../attention/softmax";
import { causalMask } from "../attention/causal";
import * as heads from "../attention/heads";
import { CausalAttention, MultiHeadAttentionWrapper } from "../attention/causalattention";
import { MultiHeadAttention } from "../attention/multihead";
import { FusedMultiHeadAttention } from "../attention/fast/fused";
import {
  NOT_ANSWERED,
  callAnswer,
  checkBugTest,
  checkFunctionOnCases,
  checkNumbersOnCases,
  compareAnswer,
  isUnanswered,
  libraryParts,
  nextTensorId,
  runForward,
  trySkeletons,
  unseen,
  verdict,
  whyDifferent,
  withLibraryOff,
  type Suspect,
} from "./harness";

/** The library's head splitting and multi-head modules: switched off while the answers of 6.2 and 6.4 run. */
const MULTI_HEAD = [
  ...libraryParts(MultiHeadAttention.prototype, ["explain"], "MultiHeadAttention."),
  ...libraryParts(Object.getPrototypeOf(MultiHeadAttention.prototype) as object, ["forward"], "MultiHeadAttention."),
  ...libraryParts(CausalAttention.prototype, ["explain"], "CausalAttention."),
  ...libraryParts(MultiHeadAttentionWrapper.prototype, ["explain", "forward"], "MultiHeadAttentionWrapper."),
  ...libraryParts(Object.getPrototypeOf(FusedMultiHeadAttention.prototype) as object, ["forward"], "FusedMultiHeadAttention."),
];
const SPLITTING = [...libraryParts(heads, ["splitHeads", "mergeHeads"]), ...MULTI_HEAD];

/**
 * Exercise 6.1 as a function: `wrapperWith(dIn, width, numHeads, contextLength)` returns a MultiHeadAttentionWrapper
 * whose context vectors have `width` dimensions. Checked on the book's sizes and others.
 */
function checkWrapperFunction(wrapperWith: unknown, batch: tf.Tensor): string {
  const right = "Right: the wrapper concatenates its heads, so each head's d_out is the width / the number of heads.";
  if (typeof wrapperWith !== "function") return verdict([`expected a function (dIn, width, numHeads, contextLength) => wrapper`], right);
  const cases = [
    [batch.shape[batch.rank - 1], 2, 2, batch.shape[batch.rank - 2]],
    [4, 6, 3, 5],
    [2, 8, 2, 4],
    [5, 3, 1, 6],
  ];
  const gen = new Generator(61);
  for (const [dIn, width, numHeads, ctx] of cases) {
    const what = `d_in = ${dIn}, width ${width}, ${numHeads} head(s), context length ${ctx}`;
    const call = callAnswer(() => (wrapperWith as (...a: number[]) => unknown)(dIn, width, numHeads, ctx));
    if ("error" in call) return verdict([`on ${what}, ${call.error}`], right);
    if (isUnanswered(call.value)) return NOT_ANSWERED;
    const w = call.value;
    if (!(w instanceof MultiHeadAttentionWrapper))
      return verdict([`on ${what} it returned ${typeof w}; expected a MultiHeadAttentionWrapper`], right);
    try {
      const problems: string[] = [];
      if (w.heads.length !== numHeads) problems.push(`on ${what} the wrapper has ${w.heads.length} head(s); asked for ${numHeads}`);
      if (w.dIn !== dIn) problems.push(`on ${what} the wrapper takes d_in = ${w.dIn}; its inputs have ${dIn} dimensions`);
      if (w.contextLength !== ctx) problems.push(`on ${what} the wrapper's context length is ${w.contextLength}; asked for ${ctx}`);
      if (problems.length) return verdict(problems, right);
      const x = unseen([1, ctx, dIn], gen);
      const out = w.forward(x);
      const got = out.shape[2];
      tf.dispose([x, out]);
      if (got !== width)
        return verdict(
          [
            `on ${what} its context vectors have ${got} dimensions: the wrapper concatenates its heads, so the width is d_out x heads = ${w.dOut} x ${numHeads}`,
          ],
          right,
        );
    } finally {
      w.dispose();
    }
  }
  return verdict([], right);
}

/**
 * Exercise (notebook 06): a MultiHeadAttentionWrapper with 2 heads whose context vectors are 2-dimensional.
 * Returns "✓ ..." when `wrapper` does it, else "✗ ..." and what differs. Given a function (dIn, width, numHeads,
 * contextLength) => wrapper instead, it is checked on several widths and head counts (checkWrapperFunction).
 */
export function checkTwoDimensionalWrapper(wrapper: unknown, batch: tf.Tensor): string {
  if (isUnanswered(wrapper)) return NOT_ANSWERED;
  if (!(wrapper instanceof MultiHeadAttentionWrapper)) return checkWrapperFunction(wrapper, batch);
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

/** [b, T, d] split into heads, right or with a slip the hints name. */
function splitVariant(x: tf.Tensor, h: number, variant: "right" | "viewed" | "straight"): tf.Tensor {
  const [b, t, d] = x.shape;
  if (variant === "straight") return x.reshape([b, h, t, d / h]);
  const viewed = x.reshape([b, t, h, d / h]);
  return variant === "viewed" ? viewed : viewed.transpose([0, 2, 1, 3]);
}

/**
 * Exercise 6.2 as a function: `split(x, numHeads)` returns x [b, T, d_out] as [b, heads, T, head_dim]. Checked on
 * sizes and head counts it has not seen, with the library's splitHeads (and its modules) switched off.
 */
function checkSplitFunction(split: unknown): string {
  return withLibraryOff(SPLITTING, () =>
    checkFunctionOnCases(
      split,
      "(x [b, T, d_out], numHeads) => [b, heads, T, head_dim]",
      () => {
        const gen = new Generator(62);
        return (
          [
            [[2, 6, 4], 2],
            [[1, 5, 6], 3],
            [[3, 4, 8], 2],
            [[2, 3, 6], 6],
          ] as const
        ).map(([shape, h]) => {
          const x = unseen([...shape], gen);
          return {
            what: `x ${shapeStr([...shape])} with ${h} heads`,
            args: [x, h],
            expected: splitVariant(x, h, "right"),
            layout: `[b, heads, T, head_dim] = ${shapeStr([shape[0], h, shape[1], shape[2] / h])}`,
            pitfalls: [
              { value: splitVariant(x, h, "viewed"), hint: "that is [b, T, heads, head_dim]: now swap axes 1 and 2" },
              {
                value: splitVariant(x, h, "straight"),
                hint: "reshaping straight to [b, heads, T, head_dim] mixes tokens into heads: reshape to [b, T, heads, head_dim] first, then swap axes 1 and 2",
              },
            ],
          };
        });
      },
      "Right: each head holds its own block of head_dim columns of every token, for any size and number of heads.",
      0,
    ),
  );
}

/**
 * Exercise 6.2: split `x` [b, T, d_out] into `numHeads` heads by hand: [b, heads, T, head_dim]. Given a function
 * (x, numHeads) => heads instead, it is checked on other sizes (checkSplitFunction).
 */
export function checkSplitHeads(answer: unknown, x?: tf.Tensor, numHeads?: number): string {
  if (typeof answer === "function") return checkSplitFunction(answer);
  if (isUnanswered(answer)) return NOT_ANSWERED;
  if (!x || !numHeads)
    throw new Error("checkSplitHeads: split heads are checked against the tensor they came from and the number of heads; pass them");
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
 * d_out -> d_out with a bias). Checked on GPT-2's sizes and on sizes it has not seen, from the sizes alone: the
 * check notices a tensor being made (a module built to count) and switches countParameters off.
 */
export function checkAttentionParameterCount(answer: unknown): string {
  // A count from the sizes alone makes no tensor: building a module (and counting its parameters) would.
  const count =
    typeof answer === "function"
      ? (...a: unknown[]) => {
          const before = nextTensorId();
          const n = (answer as (...a: unknown[]) => unknown)(...a);
          if (nextTensorId() > before + 1)
            throw new Error("it built tensors (a module?); count from the sizes alone, the check notices a module being built");
          return n;
        }
      : answer;
  return withLibraryOff(libraryParts(moduleParts, ["countParameters"]), () => countOnCases(count));
}

function countOnCases(count: unknown): string {
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
  | "scale by d_out"
  | "scale by √2"
  | "split without transpose"
  | "split and merge without transpose"
  | "merge without transpose"
  | "no output projection";
function multiHeadVariant(m: MultiHeadAttention, x: tf.Tensor, variant: MultiHeadVariant): tf.Tensor {
  return tf.tidy(() => {
    const [b, T] = x.shape;
    const [h, hd] = [m.numHeads, m.headDim];
    const straightSplit = variant.startsWith("split");
    const straightMerge = variant.includes("merge without");
    const split = (t: tf.Tensor) => (straightSplit ? t.reshape([b, h, T, hd]) : t.reshape([b, T, h, hd]).transpose([0, 2, 1, 3]));
    const [q, k, v] = [split(m.W_query.forward(x)), split(m.W_key.forward(x)), split(m.W_value.forward(x))];
    const scale = Math.sqrt(variant === "scale by d_out" ? m.dOut : variant === "scale by √2" ? 2 : hd);
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
 * head counts and head sizes, so scales, d_in != d_out, inputs shorter than the context), and tests that the future
 * stays hidden. The library's multi-head modules are switched off while the learner's forward runs.
 */
export function checkMultiHeadModule(Module: unknown): string {
  // head_dim 2, 4, 3 and 4 (one head): the scale √head_dim and the reshape's sizes differ between cases.
  const configs = [
    { dIn: 5, dOut: 6, ctx: 7, heads: 3, x: [3, 5, 5] },
    { dIn: 3, dOut: 8, ctx: 6, heads: 2, x: [1, 6, 3] },
    { dIn: 4, dOut: 9, ctx: 5, heads: 3, x: [2, 4, 4] },
    { dIn: 6, dOut: 4, ctx: 4, heads: 1, x: [2, 3, 6] },
  ];
  const right = "Right: one projection each for Q, K, V, split into heads, causal scaled softmax per head, merged, then out_proj.";
  return withLibraryOff(MULTI_HEAD, () =>
    trySkeletons(
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
            {
              value: multiHeadVariant(lib, x, "scale by √2"),
              hint: `you scaled by √2 whatever the heads' size: the scale is √head_dim, here √${lib.headDim}`,
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
    ),
  );
}

// ---- 6.5: find the bug in a multi-head module ----

/** How a suspect multi-head module lays out its heads: right, or one of the bugs exercise 6.5 plants or keeps unseen. */
type HeadBug = "none" | "split without transpose" | "merge without transpose" | "interleaved heads";

/**
 * A causal multi-head attention for exercise 6.5: W_query, W_key, W_value (Linear d_in -> d_out), out_proj
 * (d_out -> d_out, with a bias), numHeads, headDim; forward [b, T, d_in] -> [b, T, d_out]. Seeded weights.
 */
export class SuspectMultiHeadAttention {
  readonly W_query: Linear;
  readonly W_key: Linear;
  readonly W_value: Linear;
  readonly out_proj: Linear;
  readonly headDim: number;
  constructor(
    readonly dIn: number,
    readonly dOut: number,
    readonly contextLength: number,
    readonly numHeads: number,
    private readonly bug: HeadBug,
    seed = 6,
  ) {
    this.headDim = heads.headDimOf(dOut, numHeads, "SuspectMultiHeadAttention");
    const generator = new Generator(seed);
    this.W_query = new Linear(dIn, dOut, { bias: false, generator });
    this.W_key = new Linear(dIn, dOut, { bias: false, generator });
    this.W_value = new Linear(dIn, dOut, { bias: false, generator });
    this.out_proj = new Linear(dOut, dOut, { generator });
  }

  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const x3 = x.rank === 2 ? x.expandDims(0) : x;
      const [b, T] = x3.shape;
      if (T > this.contextLength) throw new Error(`forward: ${T} tokens, more than the context length ${this.contextLength}`);
      const [h, hd] = [this.numHeads, this.headDim];
      const split = (t: tf.Tensor) => {
        if (this.bug === "split without transpose") return t.reshape([b, h, T, hd]); // tokens mixed into heads
        if (this.bug === "interleaved heads") return t.reshape([b, T, hd, h]).transpose([0, 3, 1, 2]); // head j: columns j, j + h, ...
        return t.reshape([b, T, h, hd]).transpose([0, 2, 1, 3]);
      };
      const [q, k, v] = [split(this.W_query.forward(x3)), split(this.W_key.forward(x3)), split(this.W_value.forward(x3))];
      const scores = tf.div(tf.matMul(q, k, false, true), Math.sqrt(hd));
      const context = tf.matMul(softmax(tf.where(causalMask(T), tf.fill(scores.shape, -Infinity), scores)), v); // [b, h, T, hd]
      const merged =
        this.bug === "merge without transpose"
          ? context.reshape([b, T, this.dOut])
          : this.bug === "interleaved heads"
            ? context.transpose([0, 2, 3, 1]).reshape([b, T, this.dOut])
            : context.transpose([0, 2, 1, 3]).reshape([b, T, this.dOut]);
      const out = this.out_proj.forward(merged);
      return x.rank === 2 ? out.squeeze([0]) : out;
    });
  }

  dispose(): void {
    [this.W_query, this.W_key, this.W_value, this.out_proj].forEach((l) => l.dispose());
  }
}

/** Exercise 6.5's module: `suspectMultiHeadAttention(dIn, dOut, contextLength, numHeads)`, with one planted bug. */
export function suspectMultiHeadAttention(dIn: number, dOut: number, contextLength: number, numHeads: number): SuspectMultiHeadAttention {
  return new SuspectMultiHeadAttention(dIn, dOut, contextLength, numHeads, "split without transpose");
}

type MakeMultiHead = (dIn: number, dOut: number, contextLength: number, numHeads: number) => SuspectMultiHeadAttention;

/**
 * Exercise 6.5: `test(make)` returns true when the modules `make(dIn, dOut, contextLength, numHeads)` builds are
 * right. The check runs it on exercise 6.5's module (the heads split by a reshape without its transpose), a correct
 * module, and unseen bugs of the same kind: the heads merged back without the transpose, and heads that take every
 * heads-th column (which lets no future in, so only a comparison with a reference catches it).
 */
export function checkHeadLayoutTest(test: unknown): string {
  const make =
    (bug: HeadBug): MakeMultiHead =>
    (dIn, dOut, ctx, h) =>
      new SuspectMultiHeadAttention(dIn, dOut, ctx, h, bug);
  const suspects: Suspect<MakeMultiHead>[] = [
    {
      make: make("split without transpose"),
      correct: false,
      hint: "your test passes the module of this exercise: its bug shows only with more than one head (and more than one token)",
    },
    {
      make: make("none"),
      correct: true,
      hint: "your test fails a correct multi-head module: check your reference (each head reads its own block of head_dim columns; the heads are concatenated in order before out_proj) and compare with a tolerance such as 1e-4",
    },
    {
      make: make("merge without transpose"),
      correct: false,
      hint: "your test passes a module that merges its heads back with a reshape and no transpose: compare every token's output, with more than one head",
    },
    {
      make: make("interleaved heads"),
      correct: false,
      hint: "your test passes a module whose heads take every heads-th column instead of a block of head_dim columns; it lets no future in, so compare the output with a reference computed from the same weights",
    },
  ];
  return checkBugTest(
    test,
    suspects,
    (m, made) => (dIn, dOut, ctx, h) => {
      const module = m(dIn, dOut, ctx, h);
      made.push(module);
      return module;
    },
    "Right: your test fails every module whose heads are laid out wrong, and passes the correct one.",
  );
}
