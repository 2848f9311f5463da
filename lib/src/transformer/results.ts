// Notebook 08's committed measurements, read through the platform layer (no Node fs in notebooks): the length
// experiment over seeds, the race in time (scripts/seq-race.mjs) and the bench's PyTorch numbers.
import { platform } from "../core/platform";
import type { LengthExperimentResults } from "../seq2seq/data";

/** mean, sample standard deviation (n - 1), min and max over the seeds. */
export interface SeedStat {
  mean: number;
  sd: number;
  min: number;
  max: number;
}

/** data/results/length-experiment-seeds.json: per model (column name, e.g. "transformer_rope") its runs and spread per bucket. */
export interface LengthSeedsResults {
  steps: number;
  committed_seed: number;
  test_buckets: { min_len: number; max_len: number; n: number }[];
  long_buckets: { min_len: number; max_len: number; n: number }[];
  models: Record<
    string,
    {
      kind: string;
      runs: { seed: number; steps: number; seconds: number; final_loss: number; test_bleu: number[]; long_bleu: number[] }[];
      summary: {
        seeds: number[];
        test: ({ min_len: number; max_len: number } & SeedStat)[];
        long: ({ min_len: number; max_len: number } & SeedStat)[];
        final_loss: SeedStat;
      };
    }
  >;
}

/** One length of scripts/seq-race.mjs: the training step's minimum CPU and wall milliseconds. */
export interface RaceRow {
  T: number;
  gru: { cpu_ms: number; wall_ms: number };
  transformer: { cpu_ms: number; wall_ms: number };
  scores_one_attention: { cpu_ms: number; wall_ms: number | null };
  /** The six attentions' T x T parts as a share of the Transformer's step (CPU time). */
  scores_share: number;
}

/** data/results/seq-race.json. */
export interface RaceResults {
  batch: number;
  gru: { parameters: number };
  transformer: { parameters: number };
  rows: RaceRow[];
}

/** One case of `npm run bench -- --json FILE`: its name, backend ("wasm", "pytorch-cpu-1thread", ...) and times. */
export interface BenchCase {
  name: string;
  backend: string;
  ms_median: number;
  ms_min: number;
}

function readJson(file: unknown, fn: string, example: string, how: string): unknown {
  if (typeof file !== "string" || file === "") throw new Error(`${fn}: expected a path such as "${example}", got ${String(file)}`);
  if (!platform().exists(file)) throw new Error(`${fn}: ${file} not found; ${how}`);
  try {
    return JSON.parse(platform().readText(file));
  } catch (e) {
    throw new Error(`${fn}: ${file} is not valid JSON (${(e as Error).message})`);
  }
}

const isStat = (s: unknown) => ["mean", "sd", "min", "max"].every((k) => typeof (s as Record<string, unknown>)?.[k] === "number");

/** The columns of the length experiment's five models, and their kinds. */
const MODEL_KINDS: Record<string, string> = {
  rnn: "plain",
  attention: "bahdanau",
  transformer_learned: "transformer-learned",
  transformer_sinusoidal: "transformer-sinusoidal",
  transformer_rope: "transformer-rope",
};

/**
 * Read the length experiment over seeds (`npm run length-experiment -- --seeds 8,9` writes it). Until that file
 * exists, `orCommitted` (the committed run, loadLengthExperiment) stands in: one seed per model, spread 0.
 */
export function loadLengthSeeds(file: string, orCommitted?: LengthExperimentResults): LengthSeedsResults {
  const fn = "loadLengthSeeds";
  if (orCommitted !== undefined && typeof file === "string" && file !== "" && !platform().exists(file)) return oneSeed(orCommitted);
  const r = readJson(
    file,
    fn,
    "../data/results/length-experiment-seeds.json",
    "`npm run length-experiment -- --seeds 8,9` writes it",
  ) as LengthSeedsResults;
  const ok =
    r !== null &&
    typeof r === "object" &&
    Array.isArray(r.test_buckets) &&
    Array.isArray(r.long_buckets) &&
    typeof r.models === "object" &&
    r.models !== null &&
    Object.values(r.models).every(
      (m) =>
        Array.isArray(m?.runs) &&
        Array.isArray(m?.summary?.seeds) &&
        Array.isArray(m.summary.test) &&
        m.summary.test.length === r.test_buckets.length &&
        m.summary.test.every(isStat) &&
        Array.isArray(m.summary.long) &&
        m.summary.long.length === r.long_buckets.length &&
        m.summary.long.every(isStat),
    );
  if (!ok)
    throw new Error(
      `${fn}: ${file} does not hold the length experiment over seeds (expected test_buckets, long_buckets and models, each with runs and a summary of mean, sd, min, max per bucket)`,
    );
  return r;
}

/** Read the race in time (`node scripts/seq-race.mjs` writes data/results/seq-race.json). */
export function loadRace(file: string): RaceResults {
  const fn = "loadRace";
  const r = readJson(file, fn, "../data/results/seq-race.json", "`node scripts/seq-race.mjs` writes it") as RaceResults;
  const time = (t: unknown) =>
    typeof (t as Record<string, unknown>)?.cpu_ms === "number" && typeof (t as Record<string, unknown>)?.wall_ms === "number";
  const ok =
    r !== null &&
    typeof r === "object" &&
    Array.isArray(r.rows) &&
    r.rows.length > 0 &&
    r.rows.every(
      (x) =>
        typeof x?.T === "number" &&
        time(x.gru) &&
        time(x.transformer) &&
        typeof x.scores_one_attention?.cpu_ms === "number" &&
        typeof x.scores_share === "number",
    );
  if (!ok) throw new Error(`${fn}: ${file} does not hold the race (expected rows of { T, gru, transformer, scores_one_attention, scores_share })`);
  return r;
}

/** Read the cases a `npm run bench -- --json FILE` run wrote (ours and, with --pytorch, PyTorch's). */
export function loadBench(file: string): BenchCase[] {
  const fn = "loadBench";
  const r = readJson(file, fn, "../data/results/bench-seq-scaling.json", "`npm run bench -- --case seq-scaling --pytorch --json FILE` writes it") as {
    cases?: BenchCase[];
  };
  const ok =
    Array.isArray(r?.cases) &&
    r.cases.every(
      (c) => typeof c?.name === "string" && typeof c.backend === "string" && typeof c.ms_median === "number" && typeof c.ms_min === "number",
    );
  if (!ok) throw new Error(`${fn}: ${file} does not hold bench cases (expected { cases: [{ name, backend, ms_median, ms_min }, ...] })`);
  return r.cases!;
}

/** The committed run as a seeds file of one seed (7, the committed checkpoints'), each spread 0. */
function oneSeed(r: LengthExperimentResults): LengthSeedsResults {
  const stat = (v: number): SeedStat => ({ mean: v, sd: 0, min: v, max: v });
  const bounds = (b: { min_len: number; max_len: number; n: number }) => ({ min_len: b.min_len, max_len: b.max_len, n: b.n });
  const models: LengthSeedsResults["models"] = {};
  for (const [column, kind] of Object.entries(MODEL_KINDS)) {
    const test = r.buckets.map((b) => b[`${column}_bleu`]);
    const long = r.long.buckets.map((b) => b[`${column}_bleu`]);
    if (![...test, ...long].every((v) => typeof v === "number")) continue;
    models[column] = {
      kind,
      runs: [{ seed: 7, steps: 3000, seconds: NaN, final_loss: NaN, test_bleu: test, long_bleu: long }],
      summary: {
        seeds: [7],
        test: r.buckets.map((b, i) => ({ min_len: b.min_len, max_len: b.max_len, ...stat(test[i]) })),
        long: r.long.buckets.map((b, i) => ({ min_len: b.min_len, max_len: b.max_len, ...stat(long[i]) })),
        final_loss: stat(NaN),
      },
    };
  }
  return { steps: 3000, committed_seed: 7, test_buckets: r.buckets.map(bounds), long_buckets: r.long.buckets.map(bounds), models };
}
