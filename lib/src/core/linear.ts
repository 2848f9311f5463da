// A linear layer laid out like PyTorch's nn.Linear: weight [d_out, d_in], y = x W^T + b,
// initialised uniform in ±1/sqrt(d_in) from the course's generator.
import * as tf from "@tensorflow/tfjs";
import { checkNotEmpty, checkNumbers, checkOptions, checkPositiveInt, shapeStr } from "./checks";
import { Generator, defaultGenerator, uniformLinear } from "./random";
import { checkAlive, ModuleBase } from "./module";

/** A trainable tf.Variable holding these values (no stray copy left behind). */
export function variableFrom(values: Float32Array, shape: number[]): tf.Variable {
  const t = tf.tensor(values, shape, "float32");
  const v = tf.variable(t, true);
  t.dispose();
  return v;
}

export class Linear extends ModuleBase {
  /** [d_out, d_in], like PyTorch: row j holds the weights of output j. */
  readonly weight: tf.Variable;
  /** [d_out], or null without bias. */
  readonly bias: tf.Variable | null;

  constructor(
    readonly dIn: number,
    readonly dOut: number,
    options: { bias?: boolean; generator?: Generator } = {},
  ) {
    super();
    checkPositiveInt(dIn, "Linear", "d_in");
    checkPositiveInt(dOut, "Linear", "d_out");
    checkOptions(options, "Linear", "{ bias: false }");
    const init = uniformLinear(dIn, dOut, options.bias ?? true, options.generator ?? defaultGenerator);
    this.weight = variableFrom(init.weight, [dOut, dIn]);
    this.bias = init.bias ? variableFrom(init.bias, [dOut]) : null;
  }

  /** x [..., d_in] -> [..., d_out] */
  forward(x: tf.Tensor): tf.Tensor {
    checkAlive(this, "Linear");
    checkNumbers(x, "Linear", "x");
    const d = x.shape[x.rank - 1];
    if (x.rank < 1 || d !== this.dIn) {
      throw new Error(`Linear: input has last axis ${d} (shape ${shapeStr(x.shape)}), expected d_in = ${this.dIn}`);
    }
    checkNotEmpty(x, "Linear", "x", "[..., d_in]");
    return tf.tidy(() => {
      const flat = x.reshape([-1, this.dIn]);
      let y = tf.matMul(flat, this.weight, false, true);
      if (this.bias) y = tf.add(y, this.bias);
      return y.reshape([...x.shape.slice(0, -1), this.dOut]);
    });
  }
}
