// What every trainable piece of the course has: its parameters, and a way to free them.
import * as tf from "@tensorflow/tfjs";

export interface Module {
  /** The trainable tensors, in PyTorch's order (the order they were created). */
  parameters(): tf.Variable[];
  /** Free the parameters' memory. */
  dispose(): void;
}

/** How many numbers a module learns: the sum of its parameters' sizes. */
export function countParameters(module: Module): number {
  return module.parameters().reduce((n, p) => n + p.size, 0);
}
