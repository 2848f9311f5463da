// Checks for notebook 01's exercises (1.1 the encoder loop, 1.2 clipped unigram precision): "✓" when right, else "✗" and a hint.
import * as tf from "@tensorflow/tfjs";
import { generatePairs } from "../seq2seq/grammar";
import { Seq2Seq } from "../seq2seq/model";
import { GRU } from "../seq2seq/layers";
import * as metrics from "../seq2seq/metrics";
import { type Vocabulary } from "../seq2seq/vocab";
import { NOT_ANSWERED, callAnswer, checkFunctionOnCases, isUnanswered, libraryParts, verdict, withLibraryOff } from "./harness";

/** What runs a whole sentence through the encoder at once: switched off while exercise 1.1's answer runs. */
const WHOLE_SENTENCE = [
  ...libraryParts(Seq2Seq.prototype, ["encode", "encodeChecked", "remember", "forward", "translate"], "model."),
  ...libraryParts(GRU.prototype, ["run"], "encoder."),
];

/** Three sentences of the course's grammar that are not in the corpus (a seed of their own), short to long; or two, another seed. */
export function unseenSentences(seed = 4242): string[] {
  const pairs = generatePairs(60, seed).map((p) => p.en);
  const byLength = [...pairs].sort((a, b) => a.split(" ").length - b.split(" ").length);
  if (seed !== 4242) return [byLength[Math.floor(byLength.length / 4)], byLength[byLength.length - 2]];
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
 * has not seen, short to long, against the model's own encoder, with the whole-sentence paths (model.encode,
 * remember, forward, translate, the GRU's run) switched off while it runs: the loop is the learner's.
 */
export function checkEncoderLoop(lastState: unknown, model: Seq2Seq, vocabs: { src: Vocabulary }): string {
  const H = model.config.hidden;
  return withLibraryOff(WHOLE_SENTENCE, () =>
    checkFunctionOnCases(
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
    ),
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
  return withLibraryOff(libraryParts(metrics, ["corpusBleu"]), () => checkPrecision(precision));
}

function checkPrecision(precision: unknown): string {
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
