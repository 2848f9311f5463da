// The translators' speed wing: the same forward pass as Seq2Seq.forward (../model.ts), made fast enough to
// train in a notebook. Nothing here changes what is computed; the tests hold every piece to the readable
// code (outputs and gradients within 1e-5, kernels equal to the cpu backend's). It registers its loss for the
// Trainer in FAST_LOSSES (../../fast/training.ts), under the kinds "plain" and "bahdanau".
//
//   index.ts         fastForward: the forward pass built from the pieces below
//   recurrences.ts   whole GRU sequences and the Bahdanau decoder loop as single ops, backward by hand
//   grukernels.ts    one GRU step (and its gradient) as one fused kernel, for wasm and cpu
//   (../../fast/wasmkernels.ts: faster Slice/Split/Unstack/Gather/Sum/Tanh/transposed MatMul and the missing
//    UnsortedSegmentSum, registered for wasm only while a fast path runs)
//
// Tested against @tensorflow/tfjs TESTED_TFJS (fast/wasmkernels.ts): the kernels read tensors through the
// wasm and cpu backends' own methods (makeOutput, typedArrayFromHeap, data), which a tfjs upgrade may change.
// A test fails when the installed tfjs differs, so an upgrade re-runs the equality tests before anything trains.
import * as tf from "@tensorflow/tfjs";
import type { BatchTensors } from "../batch";
import { maskedCrossEntropy, paddingBias, type DecoderOutput, type Seq2Seq } from "../model";
import { registerGruKernels } from "./grukernels";
import { bahdanauDecoder, gruSequence } from "./recurrences";
import { withFastKernels } from "../../fast/wasmkernels";
import { FAST_LOSSES, fastPathAvailable } from "../../fast/training";
import type { Translator } from "../translator";

export { withFastKernels, TESTED_TFJS } from "../../fast/wasmkernels";

export { fastPathAvailable };

/**
 * The input projections of embedded tokens, (table[ids]) W + b: [B, T] ids -> [B, T, 3H]. Computed as a
 * row lookup in (table W), a [vocab, 3H] matrix: for batch x length > vocab this is much less work than
 * embedding every token and multiplying (and so is its gradient). Same numbers up to float rounding.
 */
function projectedLookup(table: tf.Tensor, W: tf.Tensor, b: tf.Tensor, ids: tf.Tensor): tf.Tensor3D {
  const [B, T] = ids.shape;
  const rows = tf.gather(tf.matMul(table, W), ids.reshape([-1]) as tf.Tensor1D);
  return tf.add(rows, b).reshape([B, T, W.shape[1]!]) as tf.Tensor3D;
}

/**
 * The output layer over [s_t; c_t] for all steps: states [B, T, H] and contexts [B, T, H] (or one context
 * per sentence [B, H], the plain decoder's) -> logits [B, T, V]. W_o is applied in its two halves,
 * [s; c] W_o = s W_s + c W_c, so a constant context needs no copy per step.
 */
function outputLayer(model: Seq2Seq, states: tf.Tensor, contexts: tf.Tensor): tf.Tensor3D {
  const [B, T, H] = states.shape;
  const V = model.config.tgtVocab;
  const fromStates = tf.matMul(states.reshape([B * T, H]), model.W_out.slice([0, 0], [H, V])).reshape([B, T, V]);
  const fromContexts = tf.matMul(contexts.reshape([-1, H]), model.W_out.slice([H, 0], [H, V])).reshape(contexts.rank === 2 ? [B, 1, V] : [B, T, V]);
  return tf.add(tf.add(fromStates, fromContexts), model.b_out) as tf.Tensor3D;
}

/** What Seq2Seq.forward computes (teacher forcing), the fast way. Needs a backend where fastPathAvailable(). */
export function fastForward(model: Seq2Seq, batch: Pick<BatchTensors, "src" | "srcMask" | "tgtIn">): DecoderOutput {
  if (!fastPathAvailable()) {
    throw new Error(`fastForward: the fast path runs on the wasm and cpu backends, not '${tf.getBackend()}'; use model.forward(batch)`);
  }
  registerGruKernels();
  return withFastKernels(() =>
    tf.tidy(() => {
      const { src, srcMask, tgtIn } = batch;
      const { embedding: E, hidden: H } = model.config;
      const [B, S] = src.shape;
      const T = tgtIn.shape[1];
      // Encoder: one op for the whole sequence. Padding carries the state over, so the last column is
      // each sentence's state after its last token.
      const enc = model.encoder;
      const xs = projectedLookup(model.srcEmb.weight, enc.W, enc.bW, src); // = encoder.projectInputs(srcEmb.forward(src))
      const states = gruSequence(xs, tf.zeros([B, H]), enc.U, enc.bU, srcMask);
      const final = states.slice([0, S - 1, 0], [B, 1, H]).reshape([B, H]);
      // Decoder: its input [emb; c] is projected in two parts, [emb; c] W = emb W_emb + c W_ctx.
      const dec = model.decoder;
      const embProj = projectedLookup(model.tgtEmb.weight, dec.W.slice([0, 0], [E, 3 * H]), dec.bW, tgtIn);
      const ctxW = dec.W.slice([E, 0], [H, 3 * H]);
      if (!model.W_query) {
        // Plain decoder: the context is the same at every step, so the whole decoder is one GRU sequence.
        const xg = tf.add(embProj, tf.matMul(final, ctxW).reshape([B, 1, 3 * H]));
        const decStates = gruSequence(xg, final, dec.U, dec.bU, tf.ones([B, T]));
        return { logits: outputLayer(model, decStates, final), attention: undefined };
      }
      const keys = tf.matMul(states.reshape([B * S, H]), model.W_key!).reshape([B, S, model.config.attention]);
      const out = bahdanauDecoder({
        embProj,
        s0: final,
        keys,
        states,
        maskBias: paddingBias(srcMask),
        Wq: model.W_query,
        v: model.v!,
        ctxW,
        U: dec.U,
        bU: dec.bU,
      });
      const [decStates, contexts, attention] = tf.split(out, [H, H, S], 2);
      return { logits: outputLayer(model, decStates, contexts), attention: attention as tf.Tensor3D };
    }),
  );
}

/** The masked cross-entropy of fastForward (what Seq2Seq.loss computes). */
export function fastLoss(model: Seq2Seq, batch: BatchTensors): tf.Scalar {
  return tf.tidy(() => maskedCrossEntropy(fastForward(model, batch).logits, batch.tgtOut, batch.tgtMask));
}

FAST_LOSSES.plain = FAST_LOSSES.bahdanau = (model: Translator, batch: BatchTensors) => fastLoss(model as Seq2Seq, batch);
