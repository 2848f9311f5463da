// Writing with the GPT (what ../generate.ts's generate computes), with and without the KV cache, for notebook 09's
// race between the two: the weights are read once into arrays and every token is plain loops over them (the
// Transformer wing's ../../transformer/fast/generate.ts, whose pieces this reuses), so no kernel calls per token and
// both ways run the same code:
//   cache: true    each token goes through the blocks once; every attention keeps its keys and values
//   cache: false   every step runs the blocks over the whole sequence again
// Multi-head, grouped-query and multi-query attention and sliding windows; not MLA's latent (the readable generate
// does that). The next token is drawn by ../generate.ts's sampleNext, so the options mean the same. The tests hold
// the tokens to generate's and each step's logits to GPT.forward's within 1e-5.
import { BOS_ID, EOS_ID } from "../../seq2seq/vocab";
import { sampleNext, type GenerateOptions } from "../generate";
import { add, apply, attend, lin, norm, normOf, relu, type Vec } from "../../transformer/fast/generate";
import type { GPT } from "../model";

/** The GPT's weights as arrays, read once per call. */
function weights(model: GPT) {
  return {
    blocks: model.blocks.map((b) => ({
      n1: normOf(b.norm1),
      q: lin(b.attention.W_query),
      k: lin(b.attention.W_key),
      v: lin(b.attention.W_value),
      out: lin(b.attention.out_proj),
      heads: b.attention.numHeads,
      group: b.attention.numHeads / b.attention.numKvHeads,
      hd: b.attention.headDim,
      window: b.attention.window,
      n2: normOf(b.norm2),
      up: lin(b.feedForward.up),
      down: lin(b.feedForward.down),
    })),
    tok: model.tokEmb.weight.dataSync() as Float32Array,
    pos: model.posEmb.weight.dataSync() as Float32Array,
    norm: normOf(model.finalNorm),
    head: lin(model.outHead),
    d: model.config.d,
  };
}

/** Token `token` at position p through the blocks, appending its keys and values to kept[block]: -> logits [V]. */
function step(w: ReturnType<typeof weights>, kept: { k: Vec[]; v: Vec[] }[], token: number, p: number): Vec {
  const d = w.d;
  let x = new Float64Array(d);
  for (let j = 0; j < d; j++) x[j] = w.tok[token * d + j] + w.pos[p * d + j];
  w.blocks.forEach((b, l) => {
    const h = norm(b.n1, x);
    kept[l].k.push(apply(b.k, h));
    kept[l].v.push(apply(b.v, h));
    const first = b.window === null ? 0 : Math.max(0, p - b.window + 1);
    x = add(x, apply(b.out, attend(apply(b.q, h), kept[l].k, kept[l].v, b.heads, b.hd, null, b.group, first)));
    x = add(x, apply(b.down, relu(apply(b.up, norm(b.n2, x)))));
  });
  return apply(w.head, norm(w.norm, x));
}

/**
 * generate(model, prompt, options), the fast way: the prompt's tokens and up to maxNew new ones (ids without <bos>).
 * With `logits: true` also each step's logits (for the tests).
 */
export function fastGenerate(model: GPT, prompt: number[], options: GenerateOptions & { logits?: boolean }): { ids: number[]; logits: number[][] } {
  if (model.blocks.some((b) => b.attention.kvLatent !== null))
    throw new Error("fastGenerate: MLA's latent cache is not in the speed wing; use generate(model, prompt, options)");
  const room = model.config.contextLength - 1 - prompt.length;
  if (!(Number.isInteger(options.maxNew) && options.maxNew > 0 && options.maxNew <= room))
    throw new Error(
      `fastGenerate: maxNew must be an integer from 1 to ${room} (the positions left after <bos> and the prompt), got ${options.maxNew}`,
    );
  const w = weights(model);
  const seq = [BOS_ID, ...prompt];
  const all: number[][] = [];
  const fresh = () => w.blocks.map(() => ({ k: [] as Vec[], v: [] as Vec[] }));
  let kept = fresh();
  let done = 0; // positions already through the blocks (with the cache)
  for (let n = 0; n < options.maxNew; n++) {
    let logits: Vec = new Float64Array(0);
    if (!(options.cache ?? true)) {
      kept = fresh(); // the whole sequence again
      done = 0;
    }
    for (; done < seq.length; done++) logits = step(w, kept, seq[done], done);
    if (options.logits) all.push(Array.from(logits));
    const next = sampleNext(Float32Array.from(logits), options);
    seq.push(next);
    if (next === EOS_ID && (options.stopAtEos ?? true)) break;
  }
  return { ids: seq.slice(1), logits: all };
}
