// Notebook 08's committed measurements, read through the library: the race in time (ours and PyTorch's, CPU time)
// and the length experiment over seeds (the committed run stands in, one seed each, until the seeds file exists).
import * as assert from "assert";
import { join } from "path";
import { loadRace, loadBench, loadLengthSeeds, loadLengthExperiment } from "attention-lib";
import { ROOT, assertThrowsMessage } from "../helpers";

const results = (name: string) => join(ROOT, "data", "results", name);

describe("notebook 08's committed measurements", () => {
  it("seq-race.json: both models at T = 16..256, the Transformer's step growing faster than T and the GRU's slower, the T x T share rising", () => {
    const race = loadRace(results("seq-race.json"));
    assert.deepStrictEqual(
      race.rows.map((r) => r.T),
      [16, 32, 64, 128, 256],
    );
    assert.strictEqual(race.gru.parameters, 222784);
    assert.strictEqual(race.transformer.parameters, 246080);
    const [a, z] = [race.rows[0], race.rows[race.rows.length - 1]];
    assert.ok(z.transformer.cpu_ms / a.transformer.cpu_ms > 16, "the Transformer's step grows faster than T");
    assert.ok(z.gru.cpu_ms / a.gru.cpu_ms < 16, "the GRU's step grows slower than T at batch 8");
    for (let i = 1; i < race.rows.length; i++)
      assert.ok(race.rows[i].scores_share > race.rows[i - 1].scores_share, `share rises at T = ${race.rows[i].T}`);
    for (const r of race.rows)
      assert.ok(Math.abs((6 * r.scores_one_attention.cpu_ms) / r.transformer.cpu_ms - r.scores_share) < 0.002, `share at ${r.T}`);
  });

  it("pytorch-race.json: PyTorch's seq-scaling steps for both models at every T of the race, and the train-step cases", () => {
    const cases = loadBench(results("pytorch-race.json"));
    for (const T of [16, 32, 64, 128, 256])
      for (const m of ["gru-encdec", "transformer"])
        assert.ok(
          cases.some((c) => c.name === `seq-scaling/${m}/T=${T}` && c.backend === "pytorch-cpu-1thread" && c.ms_min > 0 && c.ms_min <= c.ms_median),
          `${m} at T = ${T}`,
        );
    for (const m of ["gru-encdec", "bahdanau", "transformer"])
      assert.ok(
        cases.some((c) => c.name === `train-step/${m}`),
        m,
      );
  });

  it("loadLengthSeeds: with the committed run standing in for a missing file, one seed (7) per model, its scores, spread 0", () => {
    const committed = loadLengthExperiment(results("length-experiment.json"));
    const s = loadLengthSeeds(join(ROOT, "data", "results", "no-such-seeds-file.json"), committed);
    assert.deepStrictEqual(Object.keys(s.models).sort(), ["attention", "rnn", "transformer_learned", "transformer_rope", "transformer_sinusoidal"]);
    for (const [col, m] of Object.entries(s.models)) {
      assert.deepStrictEqual(m.summary.seeds, [7]);
      m.summary.long.forEach((b, i) => {
        assert.strictEqual(b.mean, committed.long.buckets[i][`${col}_bleu`]);
        assert.strictEqual(b.sd, 0);
      });
    }
    assertThrowsMessage(() => loadLengthSeeds(join(ROOT, "data", "results", "no-such-seeds-file.json")), /loadLengthSeeds: .* not found/);
    assertThrowsMessage(() => loadRace(results("length-experiment.json")), /loadRace: .* does not hold the race/);
    assertThrowsMessage(() => loadBench(results("seq-race.json")), /loadBench: .* does not hold bench cases/);
  });
});
