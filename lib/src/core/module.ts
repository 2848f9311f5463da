// What every trainable piece of the course has: its parameters, and a way to free them.
import * as tf from "@tensorflow/tfjs";

export interface Module {
  /** The trainable tensors, in PyTorch's order (the order they were created). */
  parameters(): tf.Variable[];
  /** Free the parameters' memory. */
  dispose(): void;
}

/** A module whose weights were freed cannot compute: say so instead of tfjs's "Tensor is disposed". */
export function checkAlive(module: Module, fn: string): void {
  if (module.parameters().some((p) => p.isDisposed)) {
    throw new Error(`${fn}: this module was disposed (its weights were freed); build a new one`);
  }
}

/** How many numbers a module learns: the sum of its parameters' sizes. */
export function countParameters(module: Module): number {
  return module.parameters().reduce((n, p) => n + p.size, 0);
}
