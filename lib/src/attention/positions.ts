// Word order (notebook 08). Attention alone cannot tell it: shuffle the tokens and the outputs are the same rows,
// shuffled. Three ways to give a model positions: learned absolute embeddings (GPT-2), sinusoidal encodings (the
// 2017 Transformer), and rotary embeddings (RoPE, today's LLMs), which turn queries and keys instead.
import * as tf from "@tensorflow/tfjs";
import { Generator, checkGenerator, uniformValues } from "../core/random";
import { ModuleBase } from "../core/module";
import { variableFrom } from "../core/linear";
import { checkFloat, checkNonNegativeInt, checkNotEmpty, checkPositiveInt, checkTensor, shapeStr } from "../core/checks";

export type PositionScheme = "learned" | "sinusoidal" | "rope";
export const POSITION_SCHEMES: PositionScheme[] = ["learned", "sinusoidal", "rope"];

/**
 * The 2017 paper's encodings, [T, d]: PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d)),
 * sines and cosines interleaved (even columns sin, odd cos), for positions offset .. offset + T - 1.
 */
export function sinusoidalPositions(T: number, d: number, offset = 0): tf.Tensor2D {
  checkPositiveInt(T, "sinusoidalPositions", "T");
  checkPositiveInt(d, "sinusoidalPositions", "d");
  if (d % 2 !== 0) throw new Error(`sinusoidalPositions: d must be even (pairs of sin and cos), got ${d}`);
  checkNonNegativeInt(offset, "sinusoidalPositions", "offset (the position of the first row)");
  const values = new Float32Array(T * d);
  for (let p = 0; p < T; p++) {
    for (let i = 0; i < d / 2; i++) {
      const angle = (p + offset) / Math.pow(10000, (2 * i) / d);
      values[p * d + 2 * i] = Math.sin(angle);
      values[p * d + 2 * i + 1] = Math.cos(angle);
    }
  }
  return tf.tensor2d(values, [T, d]);
}

/** GPT-2's learned absolute positions: one trainable vector per position, [maxLen, d]; positions >= maxLen do not exist. */
export class LearnedPositions extends ModuleBase {
  readonly weight: tf.Variable<tf.Rank.R2>; // [maxLen, d]
  constructor(
    readonly maxLen: number,
    readonly d: number,
    gen: Generator,
  ) {
    super();
    checkPositiveInt(maxLen, "LearnedPositions", "maxLen");
    checkPositiveInt(d, "LearnedPositions", "d");
    checkGenerator(gen, "LearnedPositions");
    this.weight = variableFrom(uniformValues([maxLen, d], -0.1, 0.1, gen), [maxLen, d]) as tf.Variable<tf.Rank.R2>;
  }
  /** The vectors of positions 0 .. T-1: [T, d]. */
  forward(T: number): tf.Tensor2D {
    checkPositiveInt(T, "LearnedPositions", "T (the number of positions)");
    if (T > this.maxLen)
      throw new Error(
        `LearnedPositions: ${T} positions asked for, but only ${this.maxLen} were learned (maxLen); a learned table has no vector for position ${this.maxLen} or later`,
      );
    return this.weight.slice([0, 0], [T, this.d]);
  }
}

/** RoPE's angles: position p turns pair i by p · 10000^(-2i/headDim). cos and sin [T, headDim], each half repeated. */
export function ropeAngles(T: number, headDim: number, offset = 0): { cos: tf.Tensor2D; sin: tf.Tensor2D } {
  checkPositiveInt(T, "ropeAngles", "T");
  if (!(Number.isInteger(headDim) && headDim > 0 && headDim % 2 === 0))
    throw new Error(`ropeAngles: headDim must be a positive even integer, got ${headDim}`);
  checkNonNegativeInt(offset, "ropeAngles", "offset (the position of the first row)");
  const half = headDim / 2;
  const cos = new Float32Array(T * headDim);
  const sin = new Float32Array(T * headDim);
  for (let p = 0; p < T; p++) {
    for (let i = 0; i < half; i++) {
      const angle = (p + offset) * Math.pow(10000, (-2 * i) / headDim);
      for (const j of [i, i + half]) {
        cos[p * headDim + j] = Math.cos(angle);
        sin[p * headDim + j] = Math.sin(angle);
      }
    }
  }
  return { cos: tf.tensor2d(cos, [T, headDim]), sin: tf.tensor2d(sin, [T, headDim]) };
}

/**
 * Rotary embeddings, the rotate-half convention (GPT-NeoX, Llama, Hugging Face's `rotate_half`): the first and the
 * second half of each head's vector form the pairs (x_i, x_{i + d/2}), each turned by its position's angle:
 * x cos + rotate_half(x) sin, rotate_half(x) = [-x2, x1]. x [..., T, headDim] -> the same shape.
 */
export function applyRope(x: tf.Tensor, offset = 0): tf.Tensor {
  checkTensor(x, "applyRope", "x");
  checkFloat(x, "applyRope", "x");
  const T = x.shape[x.rank - 2];
  const hd = x.shape[x.rank - 1];
  if (x.rank < 2 || hd % 2 !== 0) throw new Error(`applyRope: x must be [..., T, headDim] with an even headDim, got ${shapeStr(x.shape)}`);
  if (!(Number.isInteger(offset) && offset >= 0))
    throw new Error(`applyRope: offset (the position of the first row) must be a non-negative integer, got ${offset}`);
  checkNotEmpty(x, "applyRope", "x", "[..., T, headDim]");
  return tf.tidy(() => {
    const { cos, sin } = ropeAngles(T, hd, offset);
    const [x1, x2] = tf.split(x, 2, -1);
    const rotated = tf.concat([tf.neg(x2), x1], -1);
    return tf.add(tf.mul(x, cos), tf.mul(rotated, sin));
  });
}
