// Checks for notebook 02's exercises (2.1 a dot-product score, 2.2 a padded additive step): "✓" when right, else "✗" and a hint.
import * as tf from "@tensorflow/tfjs";
import { shapeStr } from "../core/checks";
import { Generator, randValues } from "../core/random";
import * as scaled from "../attention/scaled";
import * as scores from "../attention/scores";
import * as simple from "../attention/simple";
import { makeBatch } from "../seq2seq/batch";
import { encodeAll } from "../seq2seq/data";
import * as seq2seq from "../seq2seq/model";
import { Seq2Seq, additiveAttention, paddingBias } from "../seq2seq/model";
import { tokenize, type Vocabulary } from "../seq2seq/vocab";
import {
  NOT_ANSWERED,
  checkFunctionOnCases,
  compareAnswer,
  isUnanswered,
  libraryParts,
  unseen,
  verdict,
  withLibraryOff,
  type Pitfall,
} from "./harness";

/** The library's attention steps: switched off while exercise 2.1's and 2.2's answers run. */
const ATTENTION_STEPS = [
  ...libraryParts(scaled, ["scaledDotProductAttention"]),
  ...libraryParts(scores, ["attentionScores"]),
  ...libraryParts(simple, ["simpleSelfAttention"]),
  ...libraryParts(seq2seq, ["additiveAttention", "paddingBias"]),
  ...libraryParts(Seq2Seq.prototype, ["attend", "remember", "decodeStep", "forward", "translate"], "model."),
];

/** softmax(states · q / scale) for states [S, H] and q [H], with the slips the hints name. */
function dotWeights(query: tf.Tensor, states: tf.Tensor, scale: number | null, softmaxToo = true): tf.Tensor {
  return tf.tidy(() => {
    const s = tf.dot(states as tf.Tensor2D, query.reshape([-1]) as tf.Tensor1D);
    const scaledScores = scale === null ? s : tf.div(s, scale);
    return softmaxToo ? tf.softmax(scaledScores) : scaledScores;
  });
}

/**
 * Exercise 2.1 as a function: `weights(query, states)` for a query [1, H] and states [S, H] returns
 * softmax(h_j · s / √H) [S]. Checked on state sizes H it has not seen (so √128 cannot be hard-coded), with the
 * library's attention functions switched off.
 */
function checkDotProductFunction(weights: unknown): string {
  return withLibraryOff(ATTENTION_STEPS, () =>
    checkFunctionOnCases(
      weights,
      "(query [1, H], states [S, H]) => weights [S]",
      () => {
        const gen = new Generator(21);
        return (
          [
            [5, 4],
            [3, 9],
            [7, 16],
          ] as const
        ).map(([S, H]) => {
          const [q, h] = [unseen([1, H], gen), unseen([S, H], gen)];
          const pitfalls: Pitfall[] = [
            { value: dotWeights(q, h, null), hint: "no scaling: divide the dot products by √H (H is the state size) before the softmax" },
            { value: dotWeights(q, h, Math.sqrt(H), false), hint: "those are the scaled scores; the weights are their softmax" },
            { value: dotWeights(q, h, null, false), hint: "those are the raw dot products; scale them, then take the softmax" },
            { value: dotWeights(q, h, H), hint: "you divided by H; the scale is √H" },
            {
              value: dotWeights(q, h, Math.sqrt(128)),
              hint: "you divided by √128 whatever the states' size: the scale is √H, H the width of these states",
            },
          ];
          return {
            what: `a query ${shapeStr([1, H])} and states ${shapeStr([S, H])}`,
            args: [q, h],
            expected: dotWeights(q, h, Math.sqrt(H)),
            layout: `[S] = [${S}]`,
            pitfalls,
          };
        });
      },
      "Right: a scaled dot product needs no learned weights, for states of any size; compare its alignment with the additive model's (the heatmap of this notebook).",
    ),
  );
}
import { unseenSentences } from "./01-rnn-limits";

/**
 * Exercise 2.1: attention weights [S] for one decoder step with a scaled dot-product score instead of the
 * additive one: softmax(h_j · s / √H) over the encoder states `states` [S, H], query `query` [1, H] or [H].
 * Given a function (query, states) => weights instead, it is checked on other sizes (checkDotProductFunction).
 */
export function checkDotProductWeights(answer: unknown, query?: tf.Tensor, states?: tf.Tensor): string {
  if (typeof answer === "function") return checkDotProductFunction(answer);
  if (isUnanswered(answer)) return NOT_ANSWERED;
  if (!query || !states) throw new Error("checkDotProductWeights: a weights tensor is checked against the query and states it came from; pass them");
  const problems = tf.tidy(() => {
    const q = query.reshape([-1]);
    const hidden = q.shape[0];
    const scores = tf.dot(states as tf.Tensor2D, q as tf.Tensor1D) as tf.Tensor1D; // [S]
    const expected = tf.softmax(tf.div(scores, Math.sqrt(hidden)));
    return compareAnswer(answer, expected, "your weights", `[S] = [${states.shape[0]}]`, [
      { value: tf.softmax(scores), hint: "no scaling: divide the dot products by √H (H is the state size) before the softmax" },
      { value: tf.div(scores, Math.sqrt(hidden)), hint: "those are the scaled scores; the weights are their softmax" },
      { value: scores, hint: "those are the raw dot products; scale them, then take the softmax" },
      { value: tf.softmax(tf.div(scores, hidden)), hint: "you divided by H; the scale is √H" },
    ]);
  });
  return verdict(
    problems,
    "Right: a scaled dot product needs no learned weights; compare its alignment with the additive model's (the heatmap of this notebook).",
  );
}

/**
 * Exercise 2.2: `step(s, states, srcMask)` is one step of additive attention for a padded batch, with the model's
 * W_query [H, A], W_key [H, A] and v [A, 1]: s [B, H], states [B, S, H], srcMask [B, S] (1 = token, 0 = padding)
 * -> context [B, H]. Checked on batches of three and two sentences it has not seen, of different lengths; the padded
 * positions hold random numbers, so only a mask keeps them out. The library's attention step (model.attend,
 * additiveAttention, paddingBias, ...) is switched off while it runs.
 */
export function checkAdditiveStep(step: unknown, model: Seq2Seq, vocabs: { src: Vocabulary }): string {
  if (!model.W_query || !model.W_key || !model.v) throw new Error("checkAdditiveStep: expected a Bahdanau model (kind 'bahdanau'), got a plain one");
  const [Wq, Wk, v] = [model.W_query, model.W_key, model.v];
  return withLibraryOff(ATTENTION_STEPS, () =>
    checkFunctionOnCases(
      step,
      "(s [B, H], states [B, S, H], srcMask [B, S]) => context [B, H]",
      () =>
        [unseenSentences(), unseenSentences(4343)].map((sentences, n) => {
          const encoded = encodeAll(
            sentences.map((en) => ({ en, fr: "." })),
            { src: vocabs.src as Vocabulary, tgt: vocabs.src as Vocabulary },
          );
          const batch = makeBatch(encoded);
          const src = tf.tensor2d(batch.src, [batch.size, batch.srcLen], "int32");
          const mask = tf.tensor2d(batch.srcMask, [batch.size, batch.srcLen]);
          const { states, final } = model.encode(src, mask);
          const [B, S, H] = states.shape;
          const garbage = tf
            .tensor(randValues([B, S, H], new Generator(2 + n)), [B, S, H])
            .mul(4)
            .sub(2);
          const padded = tf.where(tf.greater(tf.broadcastTo(mask.reshape([B, S, 1]), [B, S, H]), 0), states, garbage) as tf.Tensor3D;
          const keys = tf.matMul(padded.reshape([B * S, H]), Wk).reshape([B, S, -1]);
          const attend = (bias: tf.Tensor) => additiveAttention(tf.matMul(final, Wq), keys, padded, v, bias);
          const right = attend(paddingBias(mask));
          const unmasked = attend(tf.zerosLike(mask));
          const realMean = tf.div(tf.sum(tf.mul(padded, mask.reshape([B, S, 1])), 1), tf.sum(mask, 1, true));
          return {
            what: `a batch of ${B} sentences padded to ${S} tokens (lengths ${sentences.map((e) => tokenize(e).length + 1).join(", ")})`,
            args: [final, padded, mask],
            expected: right.context,
            layout: `[B, H] = [${B}, ${H}]`,
            pitfalls: [
              {
                value: unmasked.context,
                hint: "the padding gets weight: give the padded positions' scores -∞ (or a very negative number) before the softmax",
              },
              { value: realMean, hint: "that is the plain average of the real states: weight each by its attention weight" },
              { value: final, hint: "that is each sentence's last state, the plain model's bottleneck" },
              { value: right.weights, hint: "those are the weights [B, S]; the context is their weighted sum of the states" },
            ],
          };
        }),
      "Right: with padding masked, each sentence's context is the weighted average of its own real encoder states.",
    ),
  );
}
