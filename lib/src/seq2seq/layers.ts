// The recurrent pieces of notebooks 01-02: an embedding and a GRU, written the readable way.
// The training fast path (./fast/) computes the same GRU step in fused kernels, tested against GRU.step.
import * as tf from "@tensorflow/tfjs";
import { checkPositiveInt, checkTokenIds, shapeStr } from "../core/checks";
import { Generator, uniformValues } from "../core/random";
import { variableFrom } from "../core/linear";
import { ModuleBase } from "../core/module";

/** Uniform in ±1/sqrt(fanIn), PyTorch's default for RNN and linear weights. */
export function uniformVariable(shape: number[], fanIn: number, gen: Generator): tf.Variable {
  const b = 1 / Math.sqrt(fanIn);
  return variableFrom(uniformValues(shape, -b, b, gen), shape);
}

/**
 * Token ids -> vectors, written as one-hot x matrix: the plainest form, and its gradient needs no kernel
 * that tfjs's wasm backend lacks. (The training fast path looks rows up instead: ./fast/index.ts.)
 */
export class Embedding extends ModuleBase {
  readonly weight: tf.Variable; // [vocab, dim]
  constructor(
    readonly vocab: number,
    readonly dim: number,
    gen: Generator,
  ) {
    super();
    checkPositiveInt(vocab, "Embedding", "vocab");
    checkPositiveInt(dim, "Embedding", "dim");
    this.weight = uniformVariable([vocab, dim], 1, gen); // uniform in ±1
  }
  /** ids [B, T] (or [B]) int32 -> [B, T, dim] (or [B, dim]) */
  forward(ids: tf.Tensor): tf.Tensor {
    checkTokenIds(ids, this.vocab, "Embedding", "ids", [1, 2]);
    return tf.tidy(() => {
      const flat = tf.oneHot(ids.reshape([-1]) as tf.Tensor1D, this.vocab);
      return tf.matMul(flat, this.weight).reshape([...ids.shape, this.dim]);
    });
  }
}

/**
 * A GRU layer with PyTorch's equations (gates r, z, n):
 *   r = σ(x W_r + b_xr + h U_r + b_hr),  z = σ(x W_z + b_xz + h U_z + b_hz)
 *   n = tanh(x W_n + b_xn + r ⊙ (h U_n + b_hn)),  h' = (1 - z) ⊙ n + z ⊙ h
 * The three gates' weights are one matrix each for inputs (W [in, 3H]) and state (U [H, 3H]).
 */
export class GRU extends ModuleBase {
  readonly W: tf.Variable; // [inputSize, 3H]
  readonly bW: tf.Variable; // [3H]
  readonly U: tf.Variable; // [H, 3H]
  readonly bU: tf.Variable; // [3H]

  constructor(
    readonly inputSize: number,
    readonly hidden: number,
    gen: Generator,
  ) {
    super();
    checkPositiveInt(inputSize, "GRU", "inputSize");
    checkPositiveInt(hidden, "GRU", "hidden");
    const h3 = 3 * hidden;
    this.W = uniformVariable([inputSize, h3], hidden, gen);
    this.bW = uniformVariable([h3], hidden, gen);
    this.U = uniformVariable([hidden, h3], hidden, gen);
    this.bU = uniformVariable([h3], hidden, gen);
  }

  /** Input projections x W + b_W, of all time steps in one matMul: x [..., in] -> [..., 3H] */
  projectInputs(x: tf.Tensor): tf.Tensor {
    if (x.shape[x.rank - 1] !== this.inputSize) {
      throw new Error(`GRU: inputs have size ${x.shape[x.rank - 1]} (shape ${shapeStr(x.shape)}), expected ${this.inputSize}`);
    }
    return tf.tidy(() => {
      const xg = tf.add(tf.matMul(x.reshape([-1, this.inputSize]), this.W), this.bW);
      return xg.reshape([...x.shape.slice(0, -1), 3 * this.hidden]);
    });
  }

  /** One step from a projected input xg [B, 3H] and the state h [B, H] -> the new state [B, H]. */
  step(xg: tf.Tensor, h: tf.Tensor): tf.Tensor2D {
    return tf.tidy(() => {
      const H = this.hidden;
      const hg = tf.add(tf.matMul(h, this.U), this.bU); // [B, 3H]
      const [xrz, xn] = tf.split(xg, [2 * H, H], 1);
      const [hrz, hn] = tf.split(hg, [2 * H, H], 1);
      const [r, z] = tf.split(tf.sigmoid(tf.add(xrz, hrz)), 2, 1);
      const n = tf.tanh(tf.add(xn, tf.mul(r, hn)));
      return tf.add(n, tf.mul(z, tf.sub(h, n))) as tf.Tensor2D; // (1 - z) n + z h
    });
  }

  /**
   * Run over a sequence. x [B, T, in], h0 [B, H], mask [B, T] (1 = token, 0 = padding: the state is
   * carried over unchanged). Returns all states [B, T, H] and the last one [B, H].
   */
  run(x: tf.Tensor, h0: tf.Tensor, mask?: tf.Tensor): { states: tf.Tensor3D; last: tf.Tensor2D } {
    return tf.tidy(() => {
      const xs = tf.unstack(this.projectInputs(x), 1);
      const ms = mask ? tf.unstack(mask.expandDims(2), 1) : null;
      let h = h0;
      const states: tf.Tensor[] = [];
      xs.forEach((xg, t) => {
        const next = this.step(xg, h);
        h = ms ? tf.add(h, tf.mul(ms[t], tf.sub(next, h))) : next;
        states.push(h);
      });
      return { states: tf.stack(states, 1) as tf.Tensor3D, last: h as tf.Tensor2D };
    });
  }
}
