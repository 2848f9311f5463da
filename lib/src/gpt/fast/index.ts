// The GPT's speed wing: what GPT.loss (../model.ts) computes, with the Transformer wing's kernels (../../transformer/
// fast/): activations as [B T, d] matrices, one product for queries, keys and values, all heads (grouped-query and
// sliding windows included) in one kernel, layer norm and the masked cross-entropy as one kernel each. The readable
// GPT does not know it exists; it registers its loss for the Trainer in FAST_LOSSES under "gpt". The tests hold it to
// the readable model (logits, loss and gradients within 1e-5).
import * as tf from "@tensorflow/tfjs";
import type { BatchTensors } from "../../seq2seq/batch";
import type { Translator } from "../../seq2seq/translator";
import { FAST_LOSSES, fastPathAvailable } from "../../fast/training";
import { withFastKernels } from "../../fast/wasmkernels";
import { attentionCovered, feedForward, linear, norm, selfAttend } from "../../transformer/fast";
import { crossEntropy, registerTransformerKernels } from "../../transformer/fast/kernels";
import type { GPT } from "../model";

/** Whether the wing computes what this GPT does: no dropout masks while training, no MLA latents. */
export function gptWingCovers(model: GPT): boolean {
  return fastPathAvailable() && !(model.training && model.config.dropout > 0) && model.blocks.every((b) => attentionCovered(b.attention));
}

/** GPT.forward over tgtIn [B, T] (no cache), the fast way: logits [B T, V] (rows in the order of [B, T]). */
export function fastGptLogits(model: GPT, tgtIn: tf.Tensor): tf.Tensor2D {
  if (!gptWingCovers(model))
    throw new Error("fastGptLogits: this GPT needs the readable model (dropout while training, MLA latents, or a backend other than wasm and cpu)");
  registerTransformerKernels();
  return withFastKernels(() =>
    tf.tidy(() => {
      const [B, T] = tgtIn.shape;
      const d = model.config.d;
      const tokens = tf.gather(model.tokEmb.weight, tgtIn.reshape([-1]) as tf.Tensor1D).reshape([B, T!, d]);
      let x: tf.Tensor = tf.add(tokens, model.posEmb.weight.slice([0, 0], [T!, d])).reshape([B * T!, d]);
      for (const blk of model.blocks) {
        const a = tf.add(x, selfAttend(blk.attention, norm(blk.norm1, x), B!, T!, null));
        x = tf.add(a, feedForward(blk.feedForward, norm(blk.norm2, a)));
      }
      return linear(model.outHead, norm(model.finalNorm, x));
    }),
  );
}

/** GPT.loss, the fast way. */
export function fastGptLoss(model: GPT, batch: BatchTensors): tf.Scalar {
  return withFastKernels(() => tf.tidy(() => crossEntropy(fastGptLogits(model, batch.tgtIn), batch.tgtOut, batch.tgtMask)));
}

FAST_LOSSES.gpt = (model: Translator, batch: BatchTensors) => {
  const m = model as GPT;
  return gptWingCovers(m) ? fastGptLoss(m, batch) : null;
};

export { fastGenerate } from "./generate";
