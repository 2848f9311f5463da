// Checks for the exercises of notebooks 01 and 02: "✓" when right, else "✗" and a hint, never the answer.
import * as tf from "@tensorflow/tfjs";
import { NOT_ANSWERED, callAnswer, checkFunctionOnCases, compareAnswer, isUnanswered, verdict } from "../core/exercise";
import { Generator, randValues } from "../core/random";
import { makeBatch } from "./batch";
import { encodeAll } from "./data";
import { generatePairs } from "./grammar";
import { additiveAttention, paddingBias, type Seq2Seq } from "./model";
import { tokenize, type Vocabulary } from "./vocab";

/** Three sentences of the course's grammar that are not in the corpus (a seed of their own), short to long. */
function unseenSentences(): string[] {
  const pairs = generatePairs(60, 4242).map((p) => p.en);
  const byLength = [...pairs].sort((a, b) => a.split(" ").length - b.split(" ").length);
  return [byLength[0], byLength[Math.floor(byLength.length / 2)], byLength[byLength.length - 1]];
}

/** Source ids [1, S] (with <eos>) and an all-ones mask, for one sentence. */
function sourceOf(vocabs: { src: Vocabulary }, sentence: string): { src: tf.Tensor2D; mask: tf.Tensor2D; ids: number[] } {
  const ids = [...vocabs.src.encode(sentence), vocabs.src.eos];
  const src = tf.tensor2d([ids], [1, ids.length], "int32");
  return { src, mask: tf.onesLike(src).toFloat() as tf.Tensor2D, ids };
}

/**
 * Exercise 1.1: `lastState(ids)` runs the encoder over a sentence's ids (with <eos>) one token at a time, from a
 * zero state, and returns its last state h_S [1, H]: all the plain decoder receives. Checked on three sentences it
 * has not seen, short to long, against the model's own encoder.
 */
export function checkEncoderLoop(lastState: unknown, model: Seq2Seq, vocabs: { src: Vocabulary }): string {
  const H = model.config.hidden;
  return checkFunctionOnCases(
    lastState,
    "(ids) => h_S [1, H]",
    () =>
      unseenSentences().map((sentence) => {
        const { src, mask, ids } = sourceOf(vocabs, sentence);
        const { states, final } = model.encode(src, mask); // [1, S, H], [1, H]
        const S = ids.length;
        const x = model.srcEmb.forward(src); // [1, S, E]
        const alone = model.encoder.step(model.encoder.projectInputs(x.slice([0, S - 1, 0], [1, 1, -1]).reshape([1, -1])), tf.zeros([1, H]));
        return {
          what: `"${sentence}" (${S} tokens with <eos>)`,
          args: [ids],
          expected: final,
          layout: `[1, H] = [1, ${H}]`,
          pitfalls: [
            {
              value: states.slice([0, 0, 0], [1, 1, H]).reshape([1, H]),
              hint: "that is the state after the first token: keep stepping, feeding each new state into the next step",
            },
            {
              value: states.slice([0, S - 2, 0], [1, 1, H]).reshape([1, H]),
              hint: "that is the state before the last token (<eos>): the loop stops one token early",
            },
            {
              value: alone,
              hint: "that is one step from a zero state on the last token alone: each step must start from the state the previous one returned",
            },
            { value: states.reshape([S, H]), hint: "those are all the states h_1 .. h_S; the plain decoder receives only the last one" },
            { value: tf.mean(states, 1), hint: "that is the average of the states; the plain decoder receives the last one" },
          ],
        };
      }),
    `Right: the last state h_S, ${H} numbers, is all the plain decoder receives, for a sentence of 4 tokens or 40.`,
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

/**
 * Exercise 2.2: `step(s, states, srcMask)` is one step of additive attention for a padded batch, with the model's
 * W_query [H, A], W_key [H, A] and v [A, 1]: s [B, H], states [B, S, H], srcMask [B, S] (1 = token, 0 = padding)
 * -> context [B, H]. Checked on a batch of three sentences it has not seen, of different lengths; the padded
 * positions hold random numbers, so only a mask keeps them out.
 */
export function checkAdditiveStep(step: unknown, model: Seq2Seq, vocabs: { src: Vocabulary }): string {
  if (!model.W_query || !model.W_key || !model.v) throw new Error("checkAdditiveStep: expected a Bahdanau model (kind 'bahdanau'), got a plain one");
  const [Wq, Wk, v] = [model.W_query, model.W_key, model.v];
  return checkFunctionOnCases(
    step,
    "(s [B, H], states [B, S, H], srcMask [B, S]) => context [B, H]",
    () => {
      const sentences = unseenSentences();
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
        .tensor(randValues([B, S, H], new Generator(2)), [B, S, H])
        .mul(4)
        .sub(2);
      const padded = tf.where(tf.greater(tf.broadcastTo(mask.reshape([B, S, 1]), [B, S, H]), 0), states, garbage) as tf.Tensor3D;
      const keys = tf.matMul(padded.reshape([B * S, H]), Wk).reshape([B, S, -1]);
      const attend = (bias: tf.Tensor) => additiveAttention(tf.matMul(final, Wq), keys, padded, v, bias);
      const right = attend(paddingBias(mask));
      const unmasked = attend(tf.zerosLike(mask));
      const realMean = tf.div(tf.sum(tf.mul(padded, mask.reshape([B, S, 1])), 1), tf.sum(mask, 1, true));
      return [
        {
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
        },
      ];
    },
    "Right: with padding masked, each sentence's context is the weighted average of its own real encoder states.",
  );
}
