// The GRU of ../layers.ts and the Bahdanau decoder of ../model.ts with hand-written backward passes,
// for training speed.
//
// tfjs records every small op of every time step on its gradient tape (a GRU step is ~13 ops, its
// backward ~30 more, each with bookkeeping), and computes the recurrent weight's gradient with one small
// matrix product per step. Here a whole sequence is ONE op for the tape (tf.customGrad): the forward pass
// keeps the gates it needs, and the backward pass runs back through time by hand and computes the
// gradient of U with a single [H, T*B] x [T*B, 3H] product. Each GRU step is the fused kernel of
// ./grukernels.ts. Same equations, same numbers: the tests compare outputs and gradients with the
// readable model within 1e-5.
import * as tf from "@tensorflow/tfjs";
import { additiveAttention } from "../model";
import { gruCellFused, gruCellGradFused } from "./grukernels";

/** Sum over axis 0 of [N, K] as a product with a row of ones (tfjs reduces other axes by transposing first). */
function sumRows(x: tf.Tensor): tf.Tensor {
  return tf.matMul(tf.ones([1, x.shape[0]]), x).reshape([x.shape[1]!]);
}

/**
 * states [B, T, H] of a GRU over precomputed input projections xg [B, T, 3H] (x W + b_W for every step),
 * from h0 [B, H], with recurrent weights U [H, 3H], bU [3H], and mask [B, T] (1 = token; at 0 the state
 * is carried over unchanged).
 */
export function gruSequence(xg: tf.Tensor, h0: tf.Tensor, U: tf.Tensor, bU: tf.Tensor, mask: tf.Tensor): tf.Tensor3D {
  const f = tf.customGrad(((xgIn: tf.Tensor, h0In: tf.Tensor, UIn: tf.Tensor, bUIn: tf.Tensor, maskIn: tf.Tensor, save: tf.GradSaveFunc) => {
    const xs = tf.unstack(xgIn, 1);
    const ms = tf.unstack(maskIn.expandDims(2), 1);
    let h = h0In;
    const keep: tf.Tensor[] = [];
    const states: tf.Tensor[] = [];
    for (let t = 0; t < xs.length; t++) {
      const [out, gates, hnB] = gruCellFused(xs[t], tf.matMul(h, UIn), bUIn, h, ms[t]);
      keep.push(h, gates, hnB, ms[t]);
      h = out;
      states.push(h);
    }
    save([UIn, ...keep]);
    return {
      value: tf.stack(states, 1),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [Us, ...per] = saved;
        const dys = tf.unstack(dy as tf.Tensor, 1);
        const Ut = tf.transpose(Us); // [3H, H], once
        let dhNext: tf.Tensor = tf.zerosLike(dys[0]);
        const dxgs: tf.Tensor[] = new Array(dys.length);
        const dhgs: tf.Tensor[] = new Array(dys.length);
        const hPrevs: tf.Tensor[] = new Array(dys.length);
        for (let t = dys.length - 1; t >= 0; t--) {
          const [hPrev, gates, hn, m] = per.slice(4 * t, 4 * t + 4);
          const dh = tf.add(dys[t], dhNext);
          const [dxg, dhg, dDirect] = gruCellGradFused(dh, gates, hn, hPrev, m);
          dxgs[t] = dxg;
          dhgs[t] = dhg;
          hPrevs[t] = hPrev;
          // dh_prev: directly (carried over where masked, and through z), and through the recurrent product
          dhNext = tf.add(dDirect, tf.matMul(dhg, Ut));
        }
        const dHG = tf.concat(dhgs, 0); // [T*B, 3H]
        const dU = tf.matMul(tf.transpose(tf.concat(hPrevs, 0)), dHG); // one product for all steps
        return [tf.stack(dxgs, 1), dhNext, dU, sumRows(dHG), tf.zerosLike(maskIn)];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(xg, h0, U, bU, mask) as tf.Tensor3D;
}

/** What `bahdanauDecoder` needs: the decoder's inputs and weights. Shapes in the comments. */
export interface BahdanauInputs {
  embProj: tf.Tensor; // [B, T, 3H] the embedding part of the decoder GRU's input projection, plus its bias
  s0: tf.Tensor; // [B, H] the first decoder state (the encoder's final state)
  keys: tf.Tensor; // [B, S, A] W_k h_j, projected once per sentence
  states: tf.Tensor; // [B, S, H] the encoder states h_j (the values)
  maskBias: tf.Tensor; // [B, S] 0 for tokens, MASKED_FINITE for padding
  Wq: tf.Tensor; // [H, A]
  v: tf.Tensor; // [A, 1]
  ctxW: tf.Tensor; // [H, 3H] the context part of the decoder GRU's input projection
  U: tf.Tensor; // [H, 3H]
  bU: tf.Tensor; // [3H]
}

/** The decoder op's inputs, in the order tf.customGrad passes them and wants their gradients. */
const BAHDANAU_INPUTS = ["embProj", "s0", "keys", "states", "maskBias", "Wq", "v", "ctxW", "U", "bU"] as const;
type BahdanauInput = (typeof BAHDANAU_INPUTS)[number];

/**
 * The whole Bahdanau decoder loop under teacher forcing as ONE op for the gradient tape, with a
 * hand-written backward pass through time (the same maths as Seq2Seq.forward).
 * Returns [B, T, 2H + S]: the decoder states s_t, the contexts c_t and the attention weights a_t, side by side.
 */
export function bahdanauDecoder(x: BahdanauInputs): tf.Tensor3D {
  const [B, T] = x.embProj.shape;
  const [, S, A] = x.keys.shape;
  const H = x.s0.shape[1]!;
  // tf.customGrad passes its inputs by position and wants their gradients back in the same order: both go
  // through BAHDANAU_INPUTS, so every gradient is matched to its input by name.
  const f = tf.customGrad(((...args: [...tf.Tensor[], tf.GradSaveFunc]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const {
      embProj,
      s0,
      keys,
      states: hs,
      maskBias,
      Wq,
      v,
      ctxW,
      U,
      bU,
    } = Object.fromEntries(BAHDANAU_INPUTS.map((name, i) => [name, args[i] as tf.Tensor])) as Record<BahdanauInput, tf.Tensor>;
    const xs = tf.unstack(embProj, 1);
    const ones = tf.ones([B, 1]);
    let s = s0;
    const keep: tf.Tensor[] = [];
    const outS: tf.Tensor[] = [];
    const outC: tf.Tensor[] = [];
    const outA: tf.Tensor[] = [];
    for (let t = 0; t < T; t++) {
      // the readable model's attention step (its tanh runs on the fast kernel while the wing's kernels are in place)
      const { e, weights: a, context: c } = additiveAttention(tf.matMul(s, Wq), keys, hs, v, maskBias);
      // GRU step on [emb; c]: [emb; c] W = emb W_emb (precomputed in embProj) + c W_ctx
      const xg = tf.add(xs[t], tf.matMul(c, ctxW));
      const [next, gates, hnB] = gruCellFused(xg, tf.matMul(s, U), bU, s, ones);
      keep.push(s, e, a, c, gates, hnB);
      s = next;
      outS.push(s);
      outC.push(c);
      outA.push(a);
    }
    save([keys, hs, Wq, v, ctxW, U, ...keep]);
    return {
      value: tf.concat([tf.stack(outS, 1), tf.stack(outC, 1), tf.stack(outA, 1)], 2),
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [, hsS, WqS, vS, ctxWS, US, ...per] = saved;
        const [dOutS, dOutC, dOutA] = tf.split(dy as tf.Tensor, [H, H, S], 2);
        const dSs = tf.unstack(dOutS, 1);
        const dCs = tf.unstack(dOutC, 1);
        const dAs = tf.unstack(dOutA, 1);
        const Ut = tf.transpose(US);
        const ctxWt = tf.transpose(ctxWS);
        const Wqt = tf.transpose(WqS);
        const vRow = vS.reshape([1, 1, A]);
        const onesB = tf.ones([B, 1]); // (the forward pass's intermediates are gone by now)
        let dsNext: tf.Tensor = tf.zerosLike(dSs[0]);
        let dKeys: tf.Tensor = tf.zeros([B, S, A]);
        let dv: tf.Tensor = tf.zeros([A]);
        const dxgs: tf.Tensor[] = new Array(T);
        const dhgs: tf.Tensor[] = new Array(T);
        const dqs: tf.Tensor[] = new Array(T);
        const dcs: tf.Tensor[] = new Array(T);
        const sPrevs: tf.Tensor[] = new Array(T);
        const cs: tf.Tensor[] = new Array(T);
        const as: tf.Tensor[] = new Array(T);
        for (let t = T - 1; t >= 0; t--) {
          const [sPrev, e, a, c, gates, hnB] = per.slice(6 * t, 6 * t + 6);
          // GRU step backward
          const dh = tf.add(dSs[t], dsNext);
          const [dxg, dhg, dDirect] = gruCellGradFused(dh, gates, hnB, sPrev, onesB);
          // context c = a @ hs, fed to the GRU through ctxW, and to the output layer (dCs)
          const dc = tf.add(dCs[t], tf.matMul(dxg, ctxWt)); // [B, H]
          const da = tf.add(tf.matMul(hsS, dc.reshape([B, H, 1])).reshape([B, S]), dAs[t]); // [B, S]
          // softmax backward, then the score e = tanh(...) v
          const dsc = tf.mul(a, tf.sub(da, tf.sum(tf.mul(a, da), 1, true))); // [B, S]
          const dsc3 = dsc.reshape([B, S, 1]);
          dv = tf.add(dv, tf.sum(tf.mul(e, dsc3), [0, 1]));
          const dPre = tf.mul(tf.mul(dsc3, vRow), tf.sub(1, tf.square(e))); // [B, S, A]
          dKeys = tf.add(dKeys, dPre);
          const dq = tf.sum(dPre, 1); // [B, A]
          dsNext = tf.add(tf.add(dDirect, tf.matMul(dhg, Ut)), tf.matMul(dq, Wqt));
          dxgs[t] = dxg;
          dhgs[t] = dhg;
          dqs[t] = dq;
          dcs[t] = dc;
          sPrevs[t] = sPrev;
          cs[t] = c;
          as[t] = a;
        }
        // Weight gradients: one product each over all steps.
        const flatT = (xsList: tf.Tensor[]) => tf.transpose(tf.concat(xsList, 0));
        const dXG = tf.concat(dxgs, 0); // [T*B, 3H]
        const dHG = tf.concat(dhgs, 0);
        const dU = tf.matMul(flatT(sPrevs), dHG);
        const dWq = tf.matMul(flatT(sPrevs), tf.concat(dqs, 0));
        const dctxW = tf.matMul(flatT(cs), dXG);
        // The values: dhs[b] = sum_t a_t[b]^T dc_t[b] = A[b]^T DC[b]
        const dHs = tf.matMul(tf.transpose(tf.stack(as, 1), [0, 2, 1]), tf.stack(dcs, 1)); // [B, S, H]
        const grads: Record<BahdanauInput, tf.Tensor> = {
          embProj: tf.stack(dxgs, 1),
          s0: dsNext,
          keys: dKeys,
          states: dHs,
          maskBias: tf.zerosLike(maskBias),
          Wq: dWq,
          v: dv.reshape([A, 1]),
          ctxW: dctxW,
          U: dU,
          bU: sumRows(dHG),
        };
        return BAHDANAU_INPUTS.map((name) => grads[name]);
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(...BAHDANAU_INPUTS.map((name) => x[name])) as tf.Tensor3D;
}
