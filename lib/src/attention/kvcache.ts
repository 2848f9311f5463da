// The KV cache's memory (notebook 09): what each token of context costs, per model configuration.
import { checkPositiveInt } from "../core/checks";

/**
 * Bytes of the key/value cache per token of context: keys and values (2) x layers x kvHeads x head_dim x bytes per
 * number. Multi-head attention is kvHeads = heads; a sliding window caps the tokens kept at the window.
 */
export function kvCacheBytesPerToken(layers: number, kvHeads: number, headDim: number, bytesPerNumber = 2): number {
  for (const [v, n] of [
    [layers, "layers"],
    [kvHeads, "kvHeads"],
    [headDim, "headDim"],
    [bytesPerNumber, "bytesPerNumber"],
  ] as const)
    checkPositiveInt(v, "kvCacheBytesPerToken", n);
  return 2 * layers * kvHeads * headDim * bytesPerNumber;
}
