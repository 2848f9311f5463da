// The committed checkpoints still show what notebooks 01-02 claim (Bahdanau et al. 2014, Fig. 2), and
// still score what data/results/length-experiment.json says.
import * as assert from "assert";
import { readFileSync } from "fs";
import { join } from "path";
import { setup, loadCheckpoint, loadCorpus, translatePairs, scoreByLength, LENGTH_BUCKETS } from "attention-lib";
import { ROOT } from "../helpers";

describe("the length experiment (committed checkpoints)", function () {
  this.timeout(300000);
  let rows: { min_len: number; rnn: number; attention: number }[];

  before(async () => {
    await setup({ backend: "wasm", verbose: false });
    const test = loadCorpus(join(ROOT, "data", "corpus")).test;
    const score = (name: string) => {
      const { model, vocabs } = loadCheckpoint(join(ROOT, "data", "checkpoints", name));
      const s = scoreByLength(translatePairs(model, vocabs, test), LENGTH_BUCKETS);
      model.dispose();
      return s;
    };
    const rnn = score("rnn");
    const attention = score("attention");
    rows = rnn.map((b, i) => ({ min_len: b.min_len, rnn: b.bleu, attention: attention[i].bleu }));
  });

  it("plain RNN: BLEU on 30+ tokens is at most 0.6 of its BLEU on the shortest sentences", () => {
    const [first, last] = [rows[0], rows[rows.length - 1]];
    assert.strictEqual(last.min_len, 30);
    assert.ok(last.rnn <= 0.6 * first.rnn, `RNN BLEU ${last.rnn.toFixed(3)} on 30+ vs ${first.rnn.toFixed(3)} on short`);
  });

  it("attention: BLEU on 30+ tokens is at least 0.8 of its own on the shortest, and 0.2 above the plain RNN", () => {
    const [first, last] = [rows[0], rows[rows.length - 1]];
    assert.ok(
      last.attention >= 0.8 * first.attention,
      `attention BLEU ${last.attention.toFixed(3)} on 30+ vs ${first.attention.toFixed(3)} on short`,
    );
    assert.ok(last.attention >= last.rnn + 0.2, `attention ${last.attention.toFixed(3)} vs RNN ${last.rnn.toFixed(3)} on 30+`);
  });

  it("matches the committed results file", () => {
    const committed = JSON.parse(readFileSync(join(ROOT, "data", "results", "length-experiment.json"), "utf8")) as {
      buckets: { min_len: number; rnn_bleu: number; attention_bleu: number }[];
    };
    committed.buckets.forEach((b, i) => {
      assert.strictEqual(b.min_len, rows[i].min_len);
      assert.ok(
        Math.abs(b.rnn_bleu - rows[i].rnn) < 0.01 && Math.abs(b.attention_bleu - rows[i].attention) < 0.01,
        `bucket ${b.min_len}: committed ${b.rnn_bleu}/${b.attention_bleu}, now ${rows[i].rnn}/${rows[i].attention}`,
      );
    });
  });
});
