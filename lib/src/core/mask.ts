// Masks: which scores a query must not use, and the numbers that hide them. One builder for every causal
// mask of the course (the readable modules, the fast wing, the exercise checks), one constant per meaning.

/**
 * A hidden score in the readable code: tf.where puts it in, and e^-Infinity is exactly 0, so its weight is
 * exactly 0 and the row still sums to 1. (softmax refuses a row that is MASKED everywhere.)
 */
export const MASKED = -Infinity;

/**
 * A hidden score where the mask is added to the scores, or a running maximum starts (the fused kernels, the
 * online softmax, the translators' padding). It must be finite: -Infinity - (-Infinity) and 0 * -Infinity are
 * NaN, which a fully masked block or a 0/1 padding mask times the constant would produce. e^(-1e30 - m) is
 * still exactly 0 in float32, so the weights are those of MASKED.
 */
export const MASKED_FINITE = -1e30;

/**
 * Row by row, 1 where key (keyStart + j) is hidden from query (queryStart + i), else 0: the future, and with a
 * sliding window of `window` keys also every key `window` or more positions back (notebook 09). [rows, cols], flat.
 * A tile of the [T, T] pattern when the starts are the tile's corner.
 */
export function hiddenPattern(rows: number, cols: number, queryStart = 0, keyStart = 0, window = Infinity): Uint8Array {
  const hidden = new Uint8Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    const q = queryStart + i;
    const firstFuture = Math.max(0, Math.min(cols, q + 1 - keyStart)); // keys before it are the past
    hidden.fill(1, i * cols + firstFuture, (i + 1) * cols);
    const firstVisible = Math.max(0, Math.min(cols, q - window + 1 - keyStart)); // keys before it are too old
    hidden.fill(1, i * cols, i * cols + firstVisible);
  }
  return hidden;
}

/** Row by row, 1 where key (keyStart + j) comes after query (queryStart + i), the future, else 0. [rows, cols], flat. */
export function futurePattern(rows: number, cols: number, queryStart = 0, keyStart = 0): Uint8Array {
  return hiddenPattern(rows, cols, queryStart, keyStart);
}
