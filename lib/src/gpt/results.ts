// The GPT variants' results (notebook 09): what `npm run gpt` wrote to data/results/gpt-variants.json.
import { platform } from "../core/platform";
import type { GPTConfig } from "./model";

/** One trained variant: its config, size, cache bytes per token (float32, all layers), losses and training time. */
export interface GPTVariantResult {
  config: Required<GPTConfig>;
  parameters: number;
  cache_bytes_per_token: number;
  /** Next-word loss on the valid split, nats per token. */
  valid_loss: number;
  /** Mean training loss of the last 25 steps. */
  train_loss: number;
  steps: number;
  seconds: number;
  losses: { step: number; loss: number }[];
}

export interface GPTVariantsResults {
  description: string;
  sizes: Record<string, number>;
  training: Record<string, number>;
  variants: Record<string, GPTVariantResult>;
}

/** Read the GPT variants' results (notebook 09: `loadGptVariants("../data/results/gpt-variants.json")`). */
export function loadGptVariants(file: string): GPTVariantsResults {
  const fn = "loadGptVariants";
  if (typeof file !== "string" || file === "")
    throw new Error(`${fn}: expected a path such as "../data/results/gpt-variants.json", got ${String(file)}`);
  if (!platform().exists(file)) throw new Error(`${fn}: ${file} not found; \`npm run gpt\` writes it (see data/README.md)`);
  let r: GPTVariantsResults;
  try {
    r = JSON.parse(platform().readText(file)) as GPTVariantsResults;
  } catch (e) {
    throw new Error(`${fn}: ${file} is not valid JSON (${(e as Error).message})`);
  }
  const ok = (v: unknown) => {
    const x = v as GPTVariantResult;
    return (
      typeof x?.valid_loss === "number" &&
      typeof x?.cache_bytes_per_token === "number" &&
      typeof x?.config?.d === "number" &&
      Array.isArray(x?.losses)
    );
  };
  if (r === null || typeof r !== "object" || typeof r.variants !== "object" || r.variants === null || !Object.values(r.variants).every(ok))
    throw new Error(
      `${fn}: ${file} does not hold the GPT variants' results (expected variants, each with config, valid_loss, cache_bytes_per_token, losses)`,
    );
  return r;
}
