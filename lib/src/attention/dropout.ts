// Dropout: in training, zero each element with probability p and scale the survivors by 1 / (1 - p),
// so the expected value is unchanged; in evaluation, do nothing. Draws from the course's generator.
import * as tf from "@tensorflow/tfjs";
import { FEWER_TOKENS, checkBoolean, checkDropout, checkFits, checkNumbers, describeValue } from "../core/checks";
import { Generator, defaultGenerator, dropoutScaleValues } from "../core/random";

export interface DropoutOptions {
  /** Apply dropout (training) or pass the input through (evaluation). Default: true. */
  training?: boolean;
  generator?: Generator;
}

/** x [...] -> [...]; like torch.nn.functional.dropout. With p = 0 or in evaluation no random number is drawn. */
export function dropout(x: tf.Tensor, p: number, options: DropoutOptions = {}): tf.Tensor {
  checkNumbers(x, "dropout", "x");
  checkDropout(p, "dropout", "the drop probability p");
  checkFits(x.shape, "dropout", "x", FEWER_TOKENS);
  if (typeof options !== "object" || options === null)
    throw new Error(`dropout: options must be an object like { training: false }, got ${describeValue(options)}`);
  if (options.training !== undefined) checkBoolean(options.training, "dropout", "training");
  if (options.generator !== undefined && !(options.generator instanceof Generator))
    throw new Error(`dropout: the option generator must be a Generator (new Generator(seed)), got ${describeValue(options.generator)}`);
  if (p === 0 || options.training === false || x.size === 0) return x.clone();
  const scale = dropoutScaleValues(x.shape, p, options.generator ?? defaultGenerator);
  return tf.tidy(() => tf.mul(x, tf.tensor(scale, x.shape, "float32")));
}
