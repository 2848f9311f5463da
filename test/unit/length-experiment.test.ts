// The committed checkpoints still show what notebooks 01-02 and 08 claim (Bahdanau et al. 2014, Fig. 2; the
// Transformer against both), and still score what data/results/length-experiment.json says.
import * as assert from "assert";
import { readFileSync } from "fs";
import { join } from "path";
import {
  setup,
  loadCheckpoint,
  loadCorpus,
  longSentences,
  translatePairs,
  scoreByLength,
  LENGTH_BUCKETS,
  LONG_BUCKETS,
  type TransformerTranslator,
} from "attention-lib";
import { ROOT } from "../helpers";

type Row = { min_len: number } & Record<string, number>;
const committed = JSON.parse(readFileSync(join(ROOT, "data", "results", "length-experiment.json"), "utf8")) as {
  buckets: Row[];
  long: { buckets: Row[] };
};

describe("the length experiment (committed checkpoints)", function () {
  this.timeout(600000);
  const test: Record<string, number[]> = {};
  const long: Record<string, number[]> = {};

  before(async () => {
    await setup({ backend: "wasm", verbose: false });
    const corpus = loadCorpus(join(ROOT, "data", "corpus"));
    const longPairs = longSentences(corpus.train);
    const score = (name: string, column: string, splits: ("test" | "long")[]) => {
      const { model, vocabs } = loadCheckpoint<TransformerTranslator>(join(ROOT, "data", "checkpoints", name));
      if (splits.includes("test"))
        test[column] = scoreByLength(translatePairs(model, vocabs, corpus.test, 100, { cache: true }), LENGTH_BUCKETS).map((b) => b.bleu);
      if (splits.includes("long"))
        long[column] = scoreByLength(translatePairs(model, vocabs, longPairs, 100, { cache: true }), LONG_BUCKETS).map((b) => b.bleu);
      model.dispose();
    };
    score("rnn", "rnn", ["test", "long"]);
    score("attention", "attention", ["test", "long"]);
    score("transformer-sinusoidal", "transformer_sinusoidal", ["test", "long"]);
    // The other two position schemes: the long sentences, where they differ (the test split is in the file).
    score("transformer-learned", "transformer_learned", ["long"]);
    score("transformer-rope", "transformer_rope", ["long"]);
  });

  it("plain RNN: BLEU on 30+ tokens is at most 0.6 of its BLEU on the shortest sentences", () => {
    const r = test.rnn;
    assert.strictEqual(committed.buckets[3].min_len, 30);
    assert.ok(r[3] <= 0.6 * r[0], `RNN BLEU ${r[3].toFixed(3)} on 30+ vs ${r[0].toFixed(3)} on short`);
  });

  it("attention: BLEU on 30+ tokens is at least 0.8 of its own on the shortest, and 0.2 above the plain RNN", () => {
    const [a, r] = [test.attention, test.rnn];
    assert.ok(a[3] >= 0.8 * a[0], `attention BLEU ${a[3].toFixed(3)} on 30+ vs ${a[0].toFixed(3)} on short`);
    assert.ok(a[3] >= r[3] + 0.2, `attention ${a[3].toFixed(3)} vs RNN ${r[3].toFixed(3)} on 30+`);
  });

  it("matches the committed results file, on both splits, for every model scored here", () => {
    for (const [split, rows, scored] of [
      ["test", committed.buckets, test],
      ["long", committed.long.buckets, long],
    ] as const) {
      for (const [column, bleus] of Object.entries(scored)) {
        rows.forEach((b, i) => {
          const was = b[`${column}_bleu`];
          assert.ok(Math.abs(was - bleus[i]) < 0.01, `${split} split, ${column}, bucket ${b.min_len}: committed ${was}, now ${bleus[i]}`);
        });
      }
    }
  });
});
