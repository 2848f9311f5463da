// Checks for notebook 09's exercises (9.1 cache bytes, 9.2 grouped heads, 9.3 window mask): "✓" when right, else "✗" and a hint.
import * as tf from "@tensorflow/tfjs";
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
