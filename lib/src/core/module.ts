// What every trainable piece of the course has: its parameters, and a way to free them.
import * as tf from "@tensorflow/tfjs";

export interface Module {
  /** The trainable tensors, in PyTorch's order (the order they were created). */
  parameters(): tf.Variable[];
  /** Free the parameters' memory. */
  dispose(): void;
}

/** What the course's modules share: a training flag that eval() and train() set, and dispose(). */
export abstract class ModuleBase implements Module {
  /** Training mode applies dropout; evaluation mode does not. Default: training, like PyTorch. */
  training = true;

  abstract parameters(): tf.Variable[];

  train(): this {
    this.training = true;
    return this;
  }

  eval(): this {
    this.training = false;
    return this;
  }

  dispose(): void {
    for (const p of this.parameters()) p.dispose();
  }
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
