// Notebook 08's exercise checks: a right answer gets "✓", a placeholder "not answered yet", each typical wrong answer
// and each shortcut through the library a "✗" that says what is wrong. No check leaks a tensor.
import * as tf from "@tensorflow/tfjs";
import {
  setup,
  applyRope,
  sinusoidalPositions,
  checkSinusoidalEncoding,
  checkRotaryEmbedding,
  checkDecoderBlock,
  type DecoderBlock,
} from "attention-lib";
import { says } from "../helpers";

const NOT_ANSWERED = /^not answered yet/;

describe("exercise checks of notebook 08", function () {
  this.timeout(60000);
  before(() => setup({ backend: "wasm", verbose: false }));

  describe("8.1: sinusoidal encodings with any base", () => {
    const sinusoid =
      (o: { cosFirst?: boolean; halves?: boolean; iNot2i?: boolean; base?: number } = {}) =>
      (T: number, d: number, base: number) => {
        const rows = Array.from({ length: T }, (_, p) => {
          const row = new Array(d).fill(0);
          for (let i = 0; i < d / 2; i++) {
            const a = p / Math.pow(o.base ?? base, (o.iNot2i ? i : 2 * i) / d);
            const [s, c] = o.cosFirst ? [Math.cos(a), Math.sin(a)] : [Math.sin(a), Math.cos(a)];
            if (o.halves) [row[i], row[d / 2 + i]] = [s, c];
            else [row[2 * i], row[2 * i + 1]] = [s, c];
          }
          return row;
        });
        return tf.tensor2d(rows, [T, d]);
      };
    it("right (also with tf ops instead of loops); not answered", () => {
      says(() => checkSinusoidalEncoding(sinusoid()), /^✓/);
      const withOps = (T: number, d: number, base: number) =>
        tf.tidy(() => {
          const p = tf.range(0, T).reshape([T, 1]);
          const freq = tf.pow(base, tf.range(0, d, 2).div(-d)).reshape([1, d / 2]);
          const a = tf.mul(p, freq); // [T, d/2]
          return tf.stack([tf.sin(a), tf.cos(a)], -1).reshape([T, d]);
        });
      says(() => checkSinusoidalEncoding(withOps), /^✓/);
      says(() => checkSinusoidalEncoding(null), NOT_ANSWERED);
      says(() => checkSinusoidalEncoding(() => null), NOT_ANSWERED);
    });
    it("the library's sinusoidalPositions (base 10000 only) is refused with the base named; the usual slips get their hints", () => {
      says(
        () => checkSinusoidalEncoding((T: number, d: number) => sinusoidalPositions(T, d)),
        /your wavelengths use 10000; this case asks for base 100/,
      );
      says(() => checkSinusoidalEncoding(sinusoid({ base: 10000 })), /asks for base/);
      says(() => checkSinusoidalEncoding(sinusoid({ cosFirst: true })), /sin and cos are swapped/);
      says(() => checkSinusoidalEncoding(sinusoid({ halves: true })), /interleaves them/);
      says(() => checkSinusoidalEncoding(sinusoid({ iNot2i: true })), /the exponent is 2i\/d/);
      says(() => checkSinusoidalEncoding((T: number, d: number, b: number) => sinusoid()(T, d, b).transpose()), /one row per position/);
      says(() => checkSinusoidalEncoding(() => tf.zeros([5, 6])), /^✗/);
    });
  });

  describe("8.2: rotary embeddings with interleaved pairs", () => {
    const rope =
      (o: { halves?: boolean; backwards?: boolean; noOffset?: boolean } = {}) =>
      (x: tf.Tensor, offset: number) => {
        const [T, d] = x.shape as [number, number];
        const v = x.arraySync() as number[][];
        const out = v.map((row, t) => {
          const p = o.noOffset ? t : t + offset;
          const r = [...row];
          for (let i = 0; i < d / 2; i++) {
            const a = (o.backwards ? -1 : 1) * p * Math.pow(10000, (-2 * i) / d);
            const [j, k] = o.halves ? [i, i + d / 2] : [2 * i, 2 * i + 1];
            r[j] = row[j] * Math.cos(a) - row[k] * Math.sin(a);
            r[k] = row[k] * Math.cos(a) + row[j] * Math.sin(a);
          }
          return r;
        });
        return tf.tensor2d(out, [T, d]);
      };
    it("right, also by reordering the columns around the library's rotate-half (the layouts are the idea); not answered", () => {
      says(() => checkRotaryEmbedding(rope()), /^✓/);
      // Neighbours to halves, the library's turn, and back: a learner who did this understood both layouts.
      const viaHalves = (x: tf.Tensor, offset: number) =>
        tf.tidy(() => {
          const d = x.shape[1]!;
          const toHalves = [...Array.from({ length: d / 2 }, (_, i) => 2 * i), ...Array.from({ length: d / 2 }, (_, i) => 2 * i + 1)];
          const back = Array.from({ length: d }, (_, j) => (j % 2 === 0 ? j / 2 : d / 2 + (j - 1) / 2));
          return tf.gather(applyRope(tf.gather(x, toHalves, 1), offset), back, 1);
        });
      says(() => checkRotaryEmbedding(viaHalves), /^✓/);
      says(() => checkRotaryEmbedding(null), NOT_ANSWERED);
    });
    it("the library's applyRope (rotate-half) and the usual slips get their hints", () => {
      says(() => checkRotaryEmbedding((x: tf.Tensor, offset: number) => applyRope(x, offset)), /rotate-half, the library's layout/);
      says(() => checkRotaryEmbedding(rope({ halves: true })), /rotate-half/);
      says(() => checkRotaryEmbedding(rope({ backwards: true })), /turns the other way/);
      says(() => checkRotaryEmbedding(rope({ noOffset: true })), /the offset changes every angle/);
    });
  });

  describe("8.3: a decoder block's forward pass", () => {
    type Norm = { scale: tf.Tensor; shift: tf.Tensor; eps: number };
    type Ff = { up: { weight: tf.Tensor; bias: tf.Tensor | null }; down: { weight: tf.Tensor; bias: tf.Tensor | null } };
    const linear = (l: { weight: tf.Tensor; bias: tf.Tensor | null }, x: tf.Tensor) => {
      const y = tf.matMul(x.reshape([-1, x.shape[x.rank - 1]!]), l.weight, false, true);
      return (l.bias ? tf.add(y, l.bias) : y).reshape([...x.shape.slice(0, -1), l.weight.shape[0]]);
    };
    const norm = (n: Norm, x: tf.Tensor, o: { unbiased?: boolean } = {}) => {
      const d = x.shape[x.rank - 1]!;
      const mean = tf.mean(x, -1, true);
      const dev = tf.sub(x, mean);
      const variance = tf.div(tf.sum(tf.square(dev), -1, true), o.unbiased ? d - 1 : d);
      return tf.add(tf.mul(tf.div(dev, tf.sqrt(tf.add(variance, n.eps))), n.scale), n.shift);
    };
    const ff = (f: Ff, x: tf.Tensor) => linear(f.down, tf.relu(linear(f.up, x)));
    const answer =
      (o: { postNorm?: boolean; noMask?: boolean; unbiased?: boolean; noResidual?: boolean; libraryNorm?: boolean } = {}) =>
      (block: DecoderBlock, x: tf.Tensor, memory: tf.Tensor, srcMask: tf.Tensor) => {
        const n = (which: DecoderBlock["norm1"], t: tf.Tensor) => (o.libraryNorm ? which.forward(t) : norm(which, t, o));
        const f = (t: tf.Tensor) => ff(block.feedForward, t);
        const self = (t: tf.Tensor) => block.selfAttention.forward(t);
        const cross = (t: tf.Tensor) => block.crossAttention.forward(t, o.noMask ? { memory } : { memory, keyMask: srcMask });
        if (o.postNorm) {
          const a = n(block.norm1, tf.add(x, self(x)));
          const c = n(block.norm2, tf.add(a, cross(a)));
          return n(block.norm3, tf.add(c, f(c)));
        }
        const add = (t: tf.Tensor, y: tf.Tensor) => (o.noResidual ? y : tf.add(t, y));
        const a = add(x, self(n(block.norm1, x)));
        const c = add(a, cross(n(block.norm2, a)));
        return add(c, f(n(block.norm3, c)));
      };
    it("right on every size; not answered", () => {
      says(() => checkDecoderBlock(answer()), /^✓/);
      says(() => checkDecoderBlock(null), NOT_ANSWERED);
      says(() => checkDecoderBlock(() => null), NOT_ANSWERED);
    });
    it("the library's block, LayerNorm.forward or FeedForward.forward are named and refused, and the library works again afterwards", () => {
      says(() => checkDecoderBlock((b: DecoderBlock, x: tf.Tensor, m: tf.Tensor, s: tf.Tensor) => b.forward(x, m, s)), /called DecoderBlock.forward/);
      says(() => checkDecoderBlock(answer({ libraryNorm: true })), /called LayerNorm.forward/);
      says(
        () =>
          checkDecoderBlock((b: DecoderBlock, x: tf.Tensor) => {
            const a = tf.add(x, b.selfAttention.forward(norm(b.norm1, x)));
            return tf.add(a, b.feedForward.forward(a));
          }),
        /called FeedForward.forward/,
      );
      // Switched back on: the library's own block computes again.
      says(() => checkDecoderBlock(answer()), /^✓/);
    });
    it("post-norm, a layer norm over d - 1, no residual, the padding visible to cross-attention get their hints", () => {
      says(() => checkDecoderBlock(answer({ postNorm: true })), /post-norm/);
      says(() => checkDecoderBlock(answer({ unbiased: true })), /divide by d/);
      says(() => checkDecoderBlock(answer({ noResidual: true })), /add it back/);
      says(() => checkDecoderBlock(answer({ noMask: true })), /pass srcMask as the cross-attention's keyMask/);
      says(() => checkDecoderBlock(() => tf.zeros([2, 3, 8])), /^✗/);
    });
  });
});
