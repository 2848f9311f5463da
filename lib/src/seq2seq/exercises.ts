// Checks for the exercises of notebooks 01 and 02: "✓" when right, else "✗" and a hint, never the answer.
import * as tf from "@tensorflow/tfjs";
import { NOT_ANSWERED, callAnswer, checkNumber, compareAnswer, isUnanswered, verdict } from "../core/exercise";

/**
 * Exercise 1.1: how many numbers the plain decoder receives from the encoder for a sentence of `tokens`
 * tokens, with a hidden state of `hidden` numbers.
 */
export function checkBottleneckSize(answer: unknown, tokens: number, hidden: number): string {
  return checkNumber(
    answer,
    hidden,
    "your count",
    [
      [tokens * hidden, "that is every encoder state; the plain decoder receives only one of them"],
      [(tokens + 1) * hidden, "that is every encoder state; the plain decoder receives only one of them"],
      [tokens, "that counts tokens; the decoder receives numbers from a state vector"],
      [64, "64 is the size of a word embedding, not of the encoder's state"],
    ],
    `Right: ${hidden} numbers, whether the sentence has 4 tokens or ${tokens}.`,
  );
}

/** The clipped unigram precision of BLEU: matched output words (each counted at most as often as in the reference) / output words. */
function unigramPrecision(output: string, reference: string): number {
  const words = output.split(" ").filter(Boolean);
  if (words.length === 0) return 0;
  const left = new Map<string, number>();
  for (const w of reference.split(" ").filter(Boolean)) left.set(w, (left.get(w) ?? 0) + 1);
  let matched = 0;
  for (const w of words) {
    const n = left.get(w) ?? 0;
    if (n > 0) {
      matched++;
      left.set(w, n - 1);
    }
  }
  return matched / words.length;
}

/**
 * Exercise 1.2: `precision(output, reference)` returns BLEU's clipped unigram precision of two
 * space-separated sentences (0 for an empty output). Checked on cases that need the clipping.
 */
export function checkUnigramPrecision(precision: unknown): string {
  if (isUnanswered(precision)) return NOT_ANSWERED;
  if (typeof precision !== "function") return verdict([`expected a function (output, reference) => number, got ${typeof precision}`], "");
  const cases: [string, string, string][] = [
    ["le chat dort .", "le chat dort .", "an exact copy"],
    ["le chat le chat le", "le chat dort", "an output that repeats reference words"],
    ["le chat voit le chien", "le chien voit le chat", "a word that occurs twice in both"],
    ["la maison", "la maison blanche voit le chien .", "a short output"],
    ["une voiture rouge", "le chat dort .", "an output with no word in common"],
    ["", "le chat dort .", "an empty output"],
  ];
  for (const [output, reference, what] of cases) {
    const call = callAnswer(() => (precision as (o: string, r: string) => unknown)(output, reference));
    if ("error" in call) return verdict([`on ${what}, ${call.error}`], "");
    if (isUnanswered(call.value)) return NOT_ANSWERED;
    const got = call.value;
    const expected = unigramPrecision(output, reference);
    if (typeof got !== "number" || Number.isNaN(got)) {
      return verdict(
        [
          `on ${what} ("${output}" against "${reference}") it returned ${typeof got === "number" ? "NaN" : typeof got}, expected a number${output === "" ? " (an empty output matches nothing: 0)" : ""}`,
        ],
        "",
      );
    }
    if (Math.abs(got - expected) > 1e-9) {
      const words = output.split(" ").filter(Boolean);
      const unclipped = words.length ? words.filter((w) => reference.split(" ").includes(w)).length / words.length : 0;
      const byReference = (expected * words.length) / reference.split(" ").filter(Boolean).length;
      const refWords = new Set(reference.split(" ").filter(Boolean));
      const setBased = words.length ? [...new Set(words)].filter((w) => refWords.has(w)).length / words.length : 0;
      const hint =
        Math.abs(got - setBased) < 1e-9 && words.length !== new Set(words).size
          ? "you counted each distinct word once; a word the output repeats counts as often as it occurs, up to its count in the reference"
          : Math.abs(got - unclipped) < 1e-9
            ? "a reference word may be matched only as often as it occurs in the reference (clip the counts)"
            : Math.abs(got - byReference) < 1e-9
              ? "divide by the number of output words (precision), not reference words"
              : "count each output word that still has an unmatched copy in the reference, then divide by the output's length";
      return verdict([`on ${what} ("${output}" against "${reference}") it returned ${got}: ${hint}`], "");
    }
  }
  return verdict([], "Right: clipped unigram precision, the first of BLEU's four n-gram precisions.");
}

/**
 * Exercise 2.1: attention weights [S] for one decoder step with a scaled dot-product score instead of the
 * additive one: softmax(h_j · s / √H) over the encoder states `states` [S, H], query `query` [1, H] or [H].
 */
export function checkDotProductWeights(answer: unknown, query: tf.Tensor, states: tf.Tensor): string {
  if (isUnanswered(answer)) return NOT_ANSWERED;
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
  return verdict(problems, "Right: a scaled dot product needs no learned weights; compare its alignment with the additive one below.");
}

/** Exercise 2.2: the context vector [1, H] from the weights [S] and the encoder states [S, H]. */
export function checkAttentionContext(answer: unknown, weights: tf.Tensor, states: tf.Tensor): string {
  if (isUnanswered(answer)) return NOT_ANSWERED;
  const problems = tf.tidy(() => {
    const w = weights.reshape([1, -1]);
    const expected = tf.matMul(w, states);
    const S = states.shape[0];
    return compareAnswer(answer, expected, "your context vector", `[1, H] = [1, ${states.shape[1]}]`, [
      { value: tf.sum(states, 0, true), hint: "you summed the states without the weights" },
      { value: tf.mean(states, 0, true), hint: "that is the plain average of the states: weight each by its attention weight" },
      { value: states.slice([S - 1, 0], [1, -1]), hint: "that is the last encoder state, the plain model's bottleneck" },
      { value: tf.matMul(w, states).reshape([-1]), hint: "right numbers, but keep the batch axis: [1, H]" },
    ]);
  });
  return verdict(problems, "Right: c = Σ_j a_j h_j, a weighted average of the encoder states.");
}
