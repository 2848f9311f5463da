// Checks for notebook 09's exercises: "✓" when right, else "✗" and a hint. 9.1 the cache of a model (GQA, MLA, windows,
// bytes per number), 9.2 repeating key/value heads for their query groups, 9.3 a dilated sliding window, 9.4 a test
// that finds a KV-cache bug. The first three functions below are the earlier 9.1-9.3, kept while exercises.test.ts
// still tests them; the notebook uses the checks after them.
import * as tf from "@tensorflow/tfjs";
import { Generator } from "../core/random";
import { MultiHeadAttention } from "../attention/multihead";
import { NOT_ANSWERED, callAnswer, checkFunctionOnCases, checkNumbersOnCases, isUnanswered, verdict } from "./harness";

/**
 * Exercise 9.1: `cacheBytes(layers, heads, kvHeads, headDim, tokens, window)` returns the bytes of the key/value
 * cache for `tokens` tokens of context at 2 bytes a number, where a sliding window (or null) keeps at most
 * `window` tokens. Checked on published configurations and on sizes it has not seen.
 */
export function checkKvCacheBytes(cacheBytes: unknown): string {
  const cases: [number, number, number, number, number, number | null, string][] = [
    [32, 32, 8, 128, 8192, null, "a Llama-3-8B-like model (32 layers, 32 query heads, 8 key/value heads of 128), 8,192 tokens"],
    [12, 12, 12, 64, 1024, null, "GPT-2 small (12 layers, 12 heads of 64), 1,024 tokens"],
    [32, 32, 8, 128, 32768, 4096, "a Mistral-7B-like model with a 4,096-token window, 32,768 tokens"],
    [4, 8, 2, 16, 100, 512, "4 layers, 8 heads, 2 key/value heads of 16, 100 tokens, a window of 512"],
  ];
  return checkNumbersOnCases(
    cacheBytes,
    "(layers, heads, kvHeads, headDim, tokens, window) => bytes",
    cases.map(([layers, heads, kv, hd, tokens, window, what]) => {
      const kept = window === null ? tokens : Math.min(tokens, window);
      return {
        what,
        args: [layers, heads, kv, hd, tokens, window],
        expected: 2 * layers * kv * hd * 2 * kept,
        pitfalls: [
          [2 * layers * heads * hd * 2 * kept, "you counted every query head; only the key/value heads are cached"],
          [layers * kv * hd * 2 * kept, "the cache holds keys and values: two tensors per layer"],
          [2 * layers * kv * hd * 2 * tokens, "a sliding window keeps only the last window tokens: the rest can be dropped"],
          [
            2 * layers * kv * hd * 2 * (window ?? tokens),
            "the window caps the tokens kept; a context shorter than the window keeps all of its tokens",
          ],
          [2 * kv * hd * 2 * kept, "every layer has its own cache"],
          [2 * layers * kv * hd * 16 * kept, "2 bytes a number (16 bits), not 16"],
          [2 * layers * kv * hd * 4 * kept, "2 bytes a number here (16-bit weights, as served), not 4"],
        ],
      };
    }),
    "Right: 2 (keys and values) x layers x kvHeads x head_dim x 2 bytes per kept token; a window keeps at most window tokens.",
    "bytes",
  );
}

/**
 * Exercise 9.2: `kvHeadOf(h, numHeads, numKvHeads)` returns the key/value head that query head h reads in
 * grouped-query attention (consecutive query heads share one). Checked against GroupedQueryAttention on settings
 * it has not seen.
 */
export function checkKvHeadOf(kvHeadOf: unknown): string {
  if (isUnanswered(kvHeadOf)) return NOT_ANSWERED;
  const right = "Right: query head h reads key/value head floor(h / (heads / kvHeads)); groups of consecutive heads share one.";
  if (typeof kvHeadOf !== "function") return verdict([`expected a function (h, numHeads, numKvHeads) => number, got ${typeof kvHeadOf}`], right);
  for (const [heads, kv] of [
    [8, 2],
    [12, 4],
    [6, 6],
    [5, 1],
  ]) {
    const group = heads / kv;
    for (let h = 0; h < heads; h++) {
      const call = callAnswer(() => (kvHeadOf as (a: number, b: number, c: number) => unknown)(h, heads, kv));
      if ("error" in call) return verdict([`on head ${h} of ${heads} with ${kv} key/value heads, ${call.error}`], right);
      if (isUnanswered(call.value)) return NOT_ANSWERED;
      const expected = Math.floor(h / group);
      if (call.value === expected) continue;
      const hint =
        call.value === h % kv
          ? "you dealt the heads out in turn (h mod kvHeads); the library, like Llama, gives consecutive query heads the same key/value head"
          : call.value === Math.floor(h / kv)
            ? "divide by the group size, heads / kvHeads, not by the number of key/value heads"
            : `it should be a key/value head from 0 to ${kv - 1}`;
      return verdict([`query head ${h} of ${heads} with ${kv} key/value heads: yours says ${String(call.value)}; ${hint}`], right);
    }
  }
  return verdict([], right);
}

/** Exercise 9.3: `windowMask(T, w)` returns [T, T] of 1 where query i may see key j under a sliding window of w keys, else 0. */
export function checkWindowMask(windowMask: unknown): string {
  return checkFunctionOnCases(
    windowMask,
    "(T, w) => [T, T] of 0 and 1",
    () =>
      (
        [
          [6, 3],
          [7, 1],
          [5, 8],
          [9, 4],
        ] as const
      ).map(([T, w]) => {
        const allowed = (win: number, causal = true) =>
          tf.tensor2d(
            Array.from({ length: T }, (_, i) => Array.from({ length: T }, (_, j) => +((!causal || j <= i) && j > i - win))),
            [T, T],
          );
        return {
          what: `T = ${T}, w = ${w}`,
          args: [T, w],
          expected: allowed(w),
          layout: `[T, T] = [${T}, ${T}]`,
          pitfalls: [
            ...(w < T ? [{ value: allowed(w + 1), hint: "each query sees w keys in all, itself included: the w - 1 before it and itself" }] : []),
            ...(w < T ? [{ value: allowed(w, false), hint: "the future is visible: a sliding window is causal too" }] : []),
            ...(w > 1 ? [{ value: allowed(w - 1), hint: "one key too few: itself and the w - 1 before it" }] : []),
            { value: tf.sub(1, allowed(w)), hint: "yours marks what is hidden; this exercise asks for 1 = may see" },
          ],
        };
      }),
    "Right: row i sees keys i - w + 1 .. i: a band of width w along the diagonal.",
    0,
  );
}

// ---- Notebook 09's exercises ----

/** A model's attention as exercise 9.1 describes it. */
export interface CacheShape {
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  /** MLA: numbers per token per layer in the cached latent, or null. */
  latent: number | null;
  /** Sliding window (tokens kept), or null. */
  window: number | null;
  bytesPerNumber: number;
}

/**
 * Exercise 9.1: `cacheBytes(model, tokens)`: the bytes of the KV cache for `tokens` tokens of context. Keys and values
 * per layer and key/value head, or with MLA one latent per layer; a window keeps at most `window` tokens. Every size,
 * including the bytes per number, varies across the cases.
 */
export function checkCacheBytes(cacheBytes: unknown): string {
  const right = "Right: layers x (2 x kvHeads x head_dim, or MLA's latent) x bytes per number x the tokens kept (at most the window).";
  const cases: [CacheShape, number, string][] = [
    [
      { layers: 28, heads: 16, kvHeads: 4, headDim: 96, latent: null, window: null, bytesPerNumber: 2 },
      5000,
      "28 layers, 16 query heads, 4 key/value heads of 96, 16-bit, 5,000 tokens",
    ],
    [
      { layers: 6, heads: 6, kvHeads: 6, headDim: 40, latent: null, window: null, bytesPerNumber: 4 },
      300,
      "6 layers, 6 heads of 40 (MHA), float32, 300 tokens",
    ],
    [
      { layers: 40, heads: 32, kvHeads: 8, headDim: 128, latent: null, window: 2048, bytesPerNumber: 1 },
      9000,
      "40 layers, 8 key/value heads of 128, 8-bit, a window of 2,048, 9,000 tokens",
    ],
    [
      { layers: 3, heads: 8, kvHeads: 2, headDim: 16, latent: null, window: 700, bytesPerNumber: 2 },
      90,
      "3 layers, 2 key/value heads of 16, a window of 700, 90 tokens",
    ],
    [
      { layers: 27, heads: 16, kvHeads: 16, headDim: 128, latent: 576, window: null, bytesPerNumber: 2 },
      12000,
      "MLA: 27 layers, a latent of 576 per token, 16-bit, 12,000 tokens",
    ],
    [
      { layers: 5, heads: 4, kvHeads: 4, headDim: 24, latent: 20, window: 64, bytesPerNumber: 4 },
      150,
      "MLA: 5 layers, a latent of 20, float32, a window of 64, 150 tokens",
    ],
  ];
  const kept = (m: CacheShape, t: number) => (m.window === null ? t : Math.min(t, m.window));
  const perLayer = (m: CacheShape) => m.latent ?? 2 * m.kvHeads * m.headDim; // numbers per token per layer
  const expected = (m: CacheShape, t: number) => m.layers * perLayer(m) * m.bytesPerNumber * kept(m, t);
  // Each mistake as the formula it computes; the hint goes to the one that matches the answer on every case.
  const mistakes: [(m: CacheShape, t: number) => number, string][] = [
    [
      (m, t) => m.layers * 2 * m.kvHeads * m.headDim * m.bytesPerNumber * kept(m, t),
      "with MLA the cache holds only the latent: keys and values are computed from it",
    ],
    [
      (m, t) => m.layers * (m.latent ?? 2 * m.heads * m.headDim) * m.bytesPerNumber * kept(m, t),
      "you counted every query head; only the key/value heads are cached",
    ],
    [
      (m, t) => m.layers * (m.latent ?? m.kvHeads * m.headDim) * m.bytesPerNumber * kept(m, t),
      "the cache holds keys and values: two vectors per key/value head and layer",
    ],
    [
      (m, t) => m.layers * (m.latent === null ? perLayer(m) : 2 * m.latent) * m.bytesPerNumber * kept(m, t),
      "the latent is one vector per token and layer; keys and values are both made from it",
    ],
    [(m, t) => m.layers * perLayer(m) * m.bytesPerNumber * t, "a sliding window keeps only the last window tokens"],
    [
      (m, t) => m.layers * perLayer(m) * m.bytesPerNumber * (m.window ?? t),
      "the window caps the tokens kept; a context shorter than the window keeps all of its tokens",
    ],
    [(m, t) => perLayer(m) * m.bytesPerNumber * kept(m, t), "every layer has its own cache"],
    [(m, t) => m.layers * perLayer(m) * 2 * kept(m, t), "use the model's bytesPerNumber; it is not always 2"],
    [(m, t) => m.layers * perLayer(m) * kept(m, t), "multiply by the bytes per number"],
  ];
  if (isUnanswered(cacheBytes)) return NOT_ANSWERED;
  if (typeof cacheBytes !== "function") return verdict([`expected a function (model, tokens) => bytes, got ${typeof cacheBytes}`], right);
  const answers: number[] = [];
  for (const [m, tokens, what] of cases) {
    const call = callAnswer(() => (cacheBytes as (m: CacheShape, t: number) => unknown)({ ...m }, tokens));
    if ("error" in call) return verdict([`on ${what}, ${call.error}`], right);
    if (isUnanswered(call.value)) return NOT_ANSWERED;
    if (typeof call.value !== "number" || !Number.isFinite(call.value))
      return verdict([`on ${what} it returned ${String(call.value)}; expected a number of bytes`], right);
    answers.push(call.value);
  }
  const wrong = cases.findIndex(([m, t], i) => answers[i] !== expected(m, t));
  if (wrong < 0) return verdict([], right);
  const [m, t, what] = cases[wrong];
  const got = answers[wrong];
  const mistake = mistakes.find(([f]) => cases.every(([c, tc], i) => answers[i] === f(c, tc)) && f(m, t) !== expected(m, t));
  const hint = mistake?.[1] ?? `${got > expected(m, t) ? "too large" : "too small"}`;
  return verdict([`on ${what} it returned ${got.toLocaleString("en-US")} bytes: ${hint}`], right);
}

/**
 * Exercise 9.2: `repeatKvHeads(kv, numHeads)`: [b, kvHeads, T, head_dim] -> [b, numHeads, T, head_dim], key/value head
 * g repeated for query heads g*group .. (g+1)*group - 1. MultiHeadAttention's own repetition is switched off while the
 * check runs, so the answer has to do the work itself.
 */
export function checkRepeatKvHeads(repeatKvHeads: unknown): string {
  const proto = MultiHeadAttention.prototype as unknown as Record<string, unknown>;
  const own = proto.shareKvHeads;
  proto.shareKvHeads = () => {
    throw new Error("MultiHeadAttention's own repetition is switched off in this check: repeat the heads yourself");
  };
  try {
    return checkFunctionOnCases(
      repeatKvHeads,
      "(kv [b, kvHeads, T, head_dim], numHeads) => [b, numHeads, T, head_dim]",
      () =>
        (
          [
            [2, 2, 5, 3, 6],
            [1, 3, 4, 2, 12],
            [3, 1, 2, 5, 4],
            [2, 4, 3, 4, 4],
          ] as const
        ).map(([b, kv, T, hd, heads], i) => {
          const group = heads / kv;
          const x = tf.tensor4d(
            Array.from({ length: b * kv * T * hd }, (_, j) => Math.sin(7 * j + i)),
            [b, kv, T, hd],
          );
          const pick = (order: number[]) => tf.gather(x, order, 1);
          const consecutive = Array.from({ length: heads }, (_, h) => Math.floor(h / group));
          const inTurn = Array.from({ length: heads }, (_, h) => h % kv);
          return {
            what: `kv of shape [${b}, ${kv}, ${T}, ${hd}] for ${heads} query heads`,
            args: [x, heads],
            expected: pick(consecutive),
            layout: `[b, numHeads, T, head_dim] = [${b}, ${heads}, ${T}, ${hd}]`,
            pitfalls:
              kv > 1 && group > 1
                ? [
                    {
                      value: pick(inTurn),
                      hint: "your heads come in turn (0, 1, 0, 1, ...), as tf.tile gives them; each key/value head must serve a run of consecutive query heads",
                    },
                  ]
                : [],
          };
        }),
      "Right: each key/value head repeated heads / kvHeads times in a row (PyTorch's repeat_interleave on the head axis).",
      1e-6,
    );
  } finally {
    proto.shareKvHeads = own;
  }
}

/** Exercise 9.3: `dilatedWindowMask(T, w, dilation)`: [T, T] of 1 where query i may see key j: j <= i, i - j a multiple of dilation, at most w keys. */
export function checkDilatedWindowMask(dilatedWindowMask: unknown): string {
  return checkFunctionOnCases(
    dilatedWindowMask,
    "(T, w, dilation) => [T, T] of 0 and 1",
    () =>
      (
        [
          [9, 3, 2],
          [10, 2, 3],
          [7, 4, 1],
          [11, 3, 4],
          [6, 9, 2],
        ] as const
      ).map(([T, w, dil]) => {
        const band = (rule: (i: number, j: number) => boolean) =>
          tf.tensor2d(
            Array.from({ length: T }, (_, i) => Array.from({ length: T }, (_, j) => +rule(i, j))),
            [T, T],
          );
        const right = (i: number, j: number) => j <= i && (i - j) % dil === 0 && (i - j) / dil < w;
        return {
          what: `T = ${T}, w = ${w}, dilation = ${dil}`,
          args: [T, w, dil],
          expected: band(right),
          layout: `[T, T] = [${T}, ${T}]`,
          pitfalls: [
            {
              value: band((i, j) => j <= i && (i - j) % dil === 0 && i - j < w),
              hint: "w counts keys, not positions: the keys reach back (w - 1) x dilation positions",
            },
            { value: band((i, j) => j <= i && i - j < w), hint: "the dilation is missing: this is a plain sliding window of w keys" },
            { value: band((i, j) => j <= i && i - j <= (w - 1) * dil), hint: "every key in reach is visible; only every dilation-th one should be" },
            { value: band((i, j) => j <= i && i - j < w * dil), hint: "every key in reach is visible; only every dilation-th one should be" },
            {
              value: band((i, j) => (i - j) % dil === 0 && Math.abs(i - j) / dil < w),
              hint: "the future is visible: a dilated window is causal too",
            },
            {
              value: band((i, j) => j <= i && (i - j) % dil === 0 && (i - j) / dil <= w),
              hint: "one key too many: w keys in all, the query's own included",
            },
            { value: band((i, j) => !right(i, j)), hint: "yours marks what is hidden; this exercise asks for 1 = may see" },
          ],
        };
      }),
    "Right: query i sees keys i, i - dilation, ..., i - (w - 1) x dilation (those >= 0).",
    0,
  );
}

/** What a KV-cache suspect offers a learner's test: causal self-attention over [1, T, d] with a cache. */
export interface CachedAttention {
  readonly d: number;
  /** [1, T, d] -> [1, T, d]; with useCache the tokens come after those cached since resetCache(). */
  forward(x: tf.Tensor, options?: { useCache?: boolean }): tf.Tensor;
  resetCache(): void;
  dispose(): void;
}

type CacheBug = "none" | "no-reset" | "mask-offset" | "overwrite" | "reset-keeps-first";

/**
 * One-head causal self-attention with a KV cache, written plainly, with one of the bugs of notebook 09's exercise 9.4
 * planted (or none). The weights come from a fixed seed: every module a suspect makes computes the same function.
 */
class SuspectCachedAttention implements CachedAttention {
  readonly d = 6;
  private readonly W: { q: tf.Tensor2D; k: tf.Tensor2D; v: tf.Tensor2D };
  private keys: tf.Tensor2D | null = null; // [T_cached, d]
  private values: tf.Tensor2D | null = null;
  private past = 0;
  constructor(private readonly bug: CacheBug) {
    const g = new Generator(909);
    const m = () =>
      tf.tensor2d(
        Array.from({ length: 36 }, () => g.nextFloat64() * 2 - 1),
        [6, 6],
      );
    this.W = { q: m(), k: m(), v: m() };
  }
  forward(x: tf.Tensor, options: { useCache?: boolean } = {}): tf.Tensor {
    if (!(x instanceof tf.Tensor) || x.rank !== 3 || x.shape[0] !== 1 || x.shape[2] !== this.d)
      throw new Error(`forward: expected x of shape [1, T, ${this.d}], got ${x instanceof tf.Tensor ? `[${x.shape.join(", ")}]` : typeof x}`);
    const useCache = options.useCache ?? false;
    return tf.tidy(() => {
      const T = x.shape[1]!;
      const x2 = x.reshape([T, this.d]) as tf.Tensor2D;
      const q = tf.matMul(x2, this.W.q);
      let k = tf.matMul(x2, this.W.k);
      let v = tf.matMul(x2, this.W.v);
      const past = useCache ? this.past : 0;
      if (useCache && this.keys && this.bug !== "overwrite") [k, v] = [tf.concat([this.keys, k]), tf.concat([this.values!, v])];
      const Tk = k.shape[0];
      const firstQuery = this.bug === "mask-offset" ? 0 : past; // the new queries' first position (the bug: as if they came first)
      const qi = tf.range(firstQuery, firstQuery + T).reshape([T, 1]);
      const kj = tf.range(past + T - Tk, past + T).reshape([1, Tk]); // the keys' positions
      const hidden = tf.greater(kj, qi); // a key after the query
      const scores = tf.div(tf.matMul(q, k, false, true), Math.sqrt(this.d));
      const weights = tf.softmax(tf.where(hidden, tf.fill(scores.shape, -Infinity), scores));
      const out = tf.matMul(weights, v);
      if (useCache) {
        tf.dispose([this.keys, this.values].filter((t): t is tf.Tensor2D => t !== null));
        [this.keys, this.values] = [tf.keep(k) as tf.Tensor2D, tf.keep(v) as tf.Tensor2D];
        this.past = past + T;
      }
      return out.reshape([1, T, this.d]);
    });
  }
  resetCache(): void {
    if (this.bug === "no-reset") return;
    if (this.bug === "reset-keeps-first" && this.keys) {
      const [k, v] = [this.keys.slice([0, 0], [1, -1]), this.values!.slice([0, 0], [1, -1])];
      tf.dispose([this.keys, this.values!]);
      [this.keys, this.values, this.past] = [k, v, 0];
      return;
    }
    tf.dispose([this.keys, this.values].filter((t): t is tf.Tensor2D => t !== null));
    [this.keys, this.values, this.past] = [null, null, 0];
  }
  dispose(): void {
    tf.dispose([this.keys, this.values, this.W.q, this.W.k, this.W.v].filter((t): t is tf.Tensor2D => t !== null));
  }
}

/**
 * Exercise 9.4's suspect: `suspectKvCache()` is a `make()` that builds the cached attention with one of two bugs
 * planted (the cache not emptied by resetCache(), or the causal mask placed as if the new tokens came first); which
 * one, the learner's test must not need to know. `suspectKvCache("none")` builds the correct one.
 */
export function suspectKvCache(which: "planted" | "none" = "planted"): () => CachedAttention {
  if (which !== "planted" && which !== "none") throw new Error(`suspectKvCache: expected "planted" or "none", got ${String(which)}`);
  return () => new SuspectCachedAttention(which === "none" ? "none" : "no-reset");
}

/**
 * Exercise 9.4: `test(make)` returns true when the cached attention `make()` builds is right, false when it finds a
 * bug. Run on the correct module, the two bugs the exercise names, and two it does not (the cache overwritten instead
 * of appended to; a reset that keeps the first token's key and value). Every module the test makes is freed.
 */
export function checkKvCacheTest(test: unknown): string {
  const right = "Right: your test catches a cache that leaks across sequences and one whose positions are off, and passes the correct one.";
  if (isUnanswered(test)) return NOT_ANSWERED;
  if (typeof test !== "function") return verdict([`expected a test function (make) => boolean, got ${typeof test}`], right);
  const suspects: [CacheBug, boolean, string][] = [
    ["none", true, "your test says the correct cache has a bug: compare with the same module run without the cache, on the same tokens"],
    ["no-reset", false, "a cache that resetCache() does not empty passed: run a second sequence after resetCache() and compare with a fresh module"],
    [
      "mask-offset",
      false,
      "a cache whose causal mask treats the new tokens as the first ones passed: feed a sequence token by token with the cache and compare with the whole sequence at once",
    ],
    [
      "overwrite",
      false,
      "an unseen bug passed: a cache that keeps only the last call's keys and values; compare token-by-token decoding with the whole sequence",
    ],
    [
      "reset-keeps-first",
      false,
      "an unseen bug passed: resetCache() leaves the first token's key and value; after a reset, compare a new sequence with a fresh module",
    ],
  ];
  for (const [bug, correct, hint] of suspects) {
    const made: CachedAttention[] = [];
    const make = () => {
      const m = new SuspectCachedAttention(bug);
      made.push(m);
      return m;
    };
    let said: unknown;
    const call = callAnswer(() => tf.tidy(() => void (said = (test as (make: () => CachedAttention) => unknown)(make))));
    made.forEach((m) => m.dispose());
    if ("error" in call) return verdict([call.error], right);
    if (isUnanswered(said)) return NOT_ANSWERED;
    if (typeof said !== "boolean")
      return verdict([`your test returned ${typeof said}; it should return true (no bug found) or false (a bug found)`], right);
    if (said !== correct) return verdict([hint], right);
  }
  return verdict([], right);
}
