// Writing with a GPT (notebook 09): pick the next token from the logits (greedy, temperature, top-k, drawn with the
// course's seeded generator), append it, repeat; with the KV cache only the newest token goes through the model.
import * as tf from "@tensorflow/tfjs";
import { Generator, checkGenerator, defaultGenerator } from "../core/random";
import { BOS_ID, EOS_ID } from "../seq2seq/vocab";
import type { GPT } from "./model";

export interface SampleOptions {
  /** 0 (default): greedy, the most likely token. Above 0: draw from softmax(logits / temperature). */
  temperature?: number;
  /** Draw only among the k most likely tokens (default: all). */
  topK?: number | null;
  /** Where the draws come from (default: the course's default generator). */
  generator?: Generator;
}

function checkSampleOptions(o: SampleOptions, fn: string): void {
  if (typeof o !== "object" || o === null) throw new Error(`${fn}: options must be an object, got ${String(o)}`);
  const { temperature, topK, generator } = o;
  if (temperature !== undefined && !(typeof temperature === "number" && temperature >= 0 && Number.isFinite(temperature)))
    throw new Error(`${fn}: temperature must be a number >= 0 (0 is greedy), got ${String(temperature)}`);
  if (topK !== undefined && topK !== null && !(Number.isInteger(topK) && topK > 0))
    throw new Error(`${fn}: topK must be a positive integer or null, got ${String(topK)}`);
  if (generator !== undefined) checkGenerator(generator, fn);
}

/** The next token from one position's logits [V]: the argmax at temperature 0, else a draw among the top k. */
export function sampleNext(logits: ArrayLike<number>, options: SampleOptions = {}): number {
  const fn = "sampleNext";
  checkSampleOptions(options, fn);
  const V = logits.length;
  if (V === 0) throw new Error(`${fn}: no logits; expected one per word of the vocabulary`);
  const values = Array.from(logits);
  if (!values.every(Number.isFinite)) throw new Error(`${fn}: the logits hold NaN or Infinity; expected finite numbers`);
  const temperature = options.temperature ?? 0;
  if (temperature === 0) return values.indexOf(Math.max(...values));
  const k = Math.min(options.topK ?? V, V);
  const kth = [...values].sort((a, b) => b - a)[k - 1]; // ties with the k-th stay in
  const top = Math.max(...values);
  const weights = values.map((v) => (v >= kth ? Math.exp((v - top) / temperature) : 0));
  const total = weights.reduce((a, b) => a + b, 0);
  let u = (options.generator ?? defaultGenerator).nextFloat64() * total;
  for (let i = 0; i < V; i++) {
    u -= weights[i];
    if (u < 0 && weights[i] > 0) return i;
  }
  return weights
    .map((w, i) => (w > 0 ? i : -1))
    .filter((i) => i >= 0)
    .pop()!; // rounding left u >= 0: the last candidate
}

export interface GenerateOptions extends SampleOptions {
  /** How many tokens to write at most. */
  maxNew: number;
  /** Feed only the newest token and keep keys and values in the blocks' caches (default true). */
  cache?: boolean;
  /** End at <eos> (default true); false writes maxNew tokens whatever comes (for timing). */
  stopAtEos?: boolean;
}

/**
 * Continue `prompt` (token ids, without <bos>: the model starts from <bos> + prompt) by up to maxNew tokens, in
 * evaluation mode. Returns the prompt and the new tokens, and the milliseconds each new token took (model and pick).
 */
export function generate(model: GPT, prompt: number[], options: GenerateOptions): { ids: number[]; ms: number[] } {
  const fn = "generate";
  checkSampleOptions(options, fn);
  const { maxNew } = options;
  if (!Array.isArray(prompt) || !prompt.every((id) => Number.isInteger(id) && id >= 0 && id < model.vocab))
    throw new Error(`${fn}: prompt must be an array of token ids in 0..${model.vocab - 1} (the words without <bos>), got ${JSON.stringify(prompt)}`);
  if (!(Number.isInteger(maxNew) && maxNew > 0)) throw new Error(`${fn}: maxNew must be a positive integer, got ${String(maxNew)}`);
  const cache = options.cache ?? true;
  if (typeof cache !== "boolean") throw new Error(`${fn}: cache must be true or false, got ${String(cache)}`);
  const room = model.config.contextLength - 1 - prompt.length;
  if (maxNew > room)
    throw new Error(
      `${fn}: <bos>, ${prompt.length} prompt tokens and ${maxNew} new ones make ${prompt.length + 1 + maxNew}, more than the ${model.config.contextLength} positions this GPT has; ask for at most ${room} new tokens`,
    );
  const wasTraining = model.training;
  model.eval();
  model.resetCache();
  const seq = [BOS_ID, ...prompt];
  const ms: number[] = [];
  try {
    for (let step = 0; step < maxNew; step++) {
      const t0 = performance.now();
      const last = tf.tidy(() => {
        const logits = cache ? model.forward(step === 0 ? seq : [seq[seq.length - 1]], { useCache: true }) : model.forward(seq); // [1, T, V]
        return logits.slice([0, logits.shape[1] - 1, 0], [1, 1, -1]).dataSync();
      });
      const next = sampleNext(last, options);
      ms.push(performance.now() - t0);
      seq.push(next);
      if (next === EOS_ID && (options.stopAtEos ?? true)) break;
    }
  } finally {
    model.resetCache();
    if (wasTraining) model.train();
  }
  return { ids: seq.slice(1), ms };
}

/** The probability of every next word after <bos> + prompt: [V] (temperature 1 unless told). */
export function nextWordProbabilities(model: GPT, prompt: number[], temperature = 1): Float32Array {
  if (!(typeof temperature === "number" && temperature > 0 && Number.isFinite(temperature)))
    throw new Error(`nextWordProbabilities: temperature must be a positive number, got ${String(temperature)}`);
  const wasTraining = model.training;
  model.eval();
  try {
    return tf.tidy(() => {
      const logits = model.forward([BOS_ID, ...prompt]);
      const T = logits.shape[1];
      return tf.softmax(tf.div(logits.slice([0, T - 1, 0], [1, 1, -1]).reshape([-1]), temperature)).dataSync() as Float32Array;
    });
  } finally {
    if (wasTraining) model.train();
  }
}
