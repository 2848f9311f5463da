// The length experiment over seeds (data/results/length-experiment-seeds.json, written by
// `npm run length-experiment -- --seeds 8,9`): every model has at least 3 seeds, the committed seed's scores are
// length-experiment.json's, and the summary per bucket is the mean, sd, min and max of the runs it lists.
import * as assert from "assert";
import { readFileSync } from "fs";
import { join } from "path";
import { LENGTH_BUCKETS, LONG_BUCKETS } from "attention-lib";
import { ROOT } from "../helpers";

type Bucket = { min_len: number; max_len: number; n: number };
type Stat = { mean: number; sd: number; min: number; max: number };
type Run = {
  seed: number;
  steps: number;
  seconds: number;
  final_loss: number;
  test_bleu: number[];
  long_bleu: number[];
  test_accuracy: number[];
  long_accuracy: number[];
};
type Model = {
  kind: string;
  runs: Run[];
  summary: {
    seeds: number[];
    test: ({ min_len: number; max_len: number } & Stat)[];
    long: ({ min_len: number; max_len: number } & Stat)[];
    final_loss: Stat;
  };
};
type SeedsFile = {
  steps: number;
  committed_seed: number;
  complete: boolean;
  test_buckets: Bucket[];
  long_buckets: Bucket[];
  models: Record<string, Model>;
};
type Row = Bucket & Record<string, number>;

const read = <T>(name: string) => JSON.parse(readFileSync(join(ROOT, "data", "results", name), "utf8")) as T;
const seeds = read<SeedsFile>("length-experiment-seeds.json");
const committed = read<{ buckets: Row[]; long: { buckets: Row[] } }>("length-experiment.json");
const MODELS: Record<string, string> = {
  rnn: "plain",
  attention: "bahdanau",
  transformer_learned: "transformer-learned",
  transformer_sinusoidal: "transformer-sinusoidal",
  transformer_rope: "transformer-rope",
};
const SPLITS = ["test", "long"] as const;
const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) < 1e-12, `${what}: ${a} vs ${b}`);

describe("the length experiment over seeds (data/results/length-experiment-seeds.json)", () => {
  it("has the five models, each with distinct seeds (the committed one among them), all trained the same number of steps", () => {
    assert.deepStrictEqual(Object.keys(seeds.models).sort(), Object.keys(MODELS).sort());
    assert.strictEqual(seeds.committed_seed, 7);
    for (const [column, m] of Object.entries(seeds.models)) {
      assert.strictEqual(m.kind, MODELS[column], column);
      const s = m.runs.map((r) => r.seed);
      assert.ok(new Set(s).size === s.length, `${column}: seeds ${s.join(", ")}`);
      assert.ok(s.includes(7), `${column}: no committed seed`);
      assert.deepStrictEqual(m.summary.seeds, s, `${column}: summary seeds`);
      for (const r of m.runs) {
        assert.strictEqual(r.steps, seeds.steps, `${column} seed ${r.seed}: steps`);
        assert.ok(
          r.seconds > 0 && Number.isFinite(r.final_loss) && r.final_loss > 0,
          `${column} seed ${r.seed}: seconds ${r.seconds}, loss ${r.final_loss}`,
        );
      }
    }
  });

  it("is complete when every model has at least 3 seeds (pending until then)", function () {
    const counts = Object.values(seeds.models).map((m) => m.runs.length);
    assert.strictEqual(
      seeds.complete,
      counts.every((n) => n >= 3),
      `seeds per model: ${counts.join(", ")}`,
    );
    // Not all seeds trained yet: `npm run length-experiment -- --seeds 8,9` trains the missing ones.
    if (!seeds.complete) this.skip();
  });

  it("uses the library's buckets, with the sentence counts of length-experiment.json", () => {
    const bounds = (b: Bucket[]) => b.map((x) => [x.min_len, x.max_len]);
    assert.deepStrictEqual(bounds(seeds.test_buckets), LENGTH_BUCKETS);
    assert.deepStrictEqual(bounds(seeds.long_buckets), LONG_BUCKETS);
    assert.deepStrictEqual(
      seeds.test_buckets.map((b) => b.n),
      committed.buckets.map((b) => b.n),
    );
    assert.deepStrictEqual(
      seeds.long_buckets.map((b) => b.n),
      committed.long.buckets.map((b) => b.n),
    );
  });

  it("gives every run one BLEU and one accuracy in [0, 1] per bucket on both splits", () => {
    const sizes = { test: LENGTH_BUCKETS.length, long: LONG_BUCKETS.length };
    for (const [column, m] of Object.entries(seeds.models))
      for (const r of m.runs)
        for (const split of SPLITS)
          for (const what of ["bleu", "accuracy"] as const) {
            const v = r[`${split}_${what}`];
            assert.strictEqual(v.length, sizes[split], `${column} seed ${r.seed} ${split}_${what}`);
            for (const x of v) assert.ok(x >= 0 && x <= 1, `${column} seed ${r.seed} ${split}_${what}: ${x}`);
          }
  });

  it("copies the committed seed's scores from length-experiment.json, and its steps and loss from the checkpoint's notes", () => {
    for (const [column, m] of Object.entries(seeds.models)) {
      const r = m.runs.find((x) => x.seed === 7)!;
      assert.deepStrictEqual(
        r.test_bleu,
        committed.buckets.map((b) => b[`${column}_bleu`]),
        `${column} test`,
      );
      assert.deepStrictEqual(
        r.long_bleu,
        committed.long.buckets.map((b) => b[`${column}_bleu`]),
        `${column} long`,
      );
      const name = { rnn: "rnn", attention: "attention" }[column] ?? m.kind;
      const notes = (
        JSON.parse(readFileSync(join(ROOT, "data", "checkpoints", `${name}.json`), "utf8")) as {
          notes: { steps: number; losses: { loss: number }[] };
        }
      ).notes;
      assert.strictEqual(r.steps, notes.steps, column);
      assert.strictEqual(r.final_loss, notes.losses[notes.losses.length - 1].loss, column);
    }
  });

  it("summarises each bucket by the mean, sample standard deviation, min and max of the runs' BLEU", () => {
    for (const [column, m] of Object.entries(seeds.models))
      for (const split of SPLITS) {
        const buckets = split === "test" ? seeds.test_buckets : seeds.long_buckets;
        assert.strictEqual(m.summary[split].length, buckets.length);
        m.summary[split].forEach((s, i) => {
          const what = `${column} ${split} ${s.min_len}-${s.max_len}`;
          assert.deepStrictEqual([s.min_len, s.max_len], [buckets[i].min_len, buckets[i].max_len], what);
          const v = m.runs.map((r) => r[`${split}_bleu`][i]);
          const mean = v.reduce((a, b) => a + b, 0) / v.length;
          close(s.mean, mean, `${what} mean`);
          const sd = v.length > 1 ? Math.sqrt(v.reduce((a, x) => a + (x - mean) ** 2, 0) / (v.length - 1)) : 0;
          close(s.sd, sd, `${what} sd`);
          assert.strictEqual(s.min, Math.min(...v), `${what} min`);
          assert.strictEqual(s.max, Math.max(...v), `${what} max`);
          assert.ok(s.min <= s.mean && s.mean <= s.max, what);
        });
        const losses = m.runs.map((r) => r.final_loss);
        close(m.summary.final_loss.mean, losses.reduce((a, b) => a + b, 0) / losses.length, `${column} final loss`);
      }
  });
});
