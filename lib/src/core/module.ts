// What every trainable piece of the course has: its parameters, found from its fields as PyTorch's nn.Module
// finds them, a training flag that reaches every part, and a way to free its memory.
import * as tf from "@tensorflow/tfjs";

export interface Module {
  /** The trainable tensors, in PyTorch's order (the order they were created). */
  parameters(): tf.Variable[];
  /** Free the parameters' memory. */
  dispose(): void;
}

/**
 * The base of every module of the course. Its parts are its fields: a tf.Variable is a parameter, a ModuleBase a child
 * module, an array of either is numbered (`encoder.0`), any other tensor a buffer (a mask, a cache: freed by dispose(),
 * never trained). Field order is creation order, so parameters() come in PyTorch's order.
 */
export abstract class ModuleBase implements Module {
  /** Training mode applies dropout; evaluation mode does not. Default: training, like PyTorch. */
  training = true;

  /** The direct parts, by field name: [name, part] for every Variable, child module and buffer. */
  private parts(): [string, tf.Tensor | ModuleBase][] {
    const found: [string, tf.Tensor | ModuleBase][] = [];
    const visit = (name: string, value: unknown) => {
      if (value instanceof tf.Tensor || value instanceof ModuleBase) found.push([name, value]);
      else if (Array.isArray(value)) value.forEach((v, i) => visit(`${name}.${i}`, v));
    };
    for (const [name, value] of Object.entries(this)) visit(name, value);
    return found;
  }

  /** The modules inside this one, by field name (`encoder.0`, `out_proj`, ...). */
  children(): [string, ModuleBase][] {
    return this.parts().filter((p): p is [string, ModuleBase] => p[1] instanceof ModuleBase);
  }

  /**
   * Every parameter by its path of field names, e.g. "decoder.0.crossAttention.W_query.weight", in creation order. A
   * parameter shared by two parts (tied weights) is listed once, under its first name, as PyTorch does.
   */
  namedParameters(): Record<string, tf.Variable> {
    const named: Record<string, tf.Variable> = {};
    const seen = new Set<tf.Variable>();
    const add = (name: string, p: tf.Variable) => {
      if (!seen.has(p)) named[name] = p;
      seen.add(p);
    };
    for (const [name, part] of this.parts()) {
      if (part instanceof tf.Variable) add(name, part);
      else if (part instanceof ModuleBase) for (const [inner, p] of Object.entries(part.namedParameters())) add(`${name}.${inner}`, p);
    }
    return named;
  }

  parameters(): tf.Variable[] {
    return Object.values(this.namedParameters());
  }

  /** Training mode for this module and every module inside it (dropout on). */
  train(): this {
    return this.setTraining(true);
  }

  /** Evaluation mode for this module and every module inside it (dropout off). */
  eval(): this {
    return this.setTraining(false);
  }

  private setTraining(on: boolean): this {
    this.training = on;
    for (const [, child] of this.children()) child.setTraining(on);
    return this;
  }

  /** Free the memory of every parameter and buffer, this module's and its children's. */
  dispose(): void {
    for (const [, part] of this.parts()) part.dispose();
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
  if (typeof (module as Partial<Module> | null)?.parameters !== "function")
    throw new Error(`countParameters: expected a module (something with parameters(), e.g. a MultiHeadAttention), got ${describe(module)}`);
  return module.parameters().reduce((n, p) => n + p.size, 0);
}

function describe(v: unknown): string {
  return v === null ? "null" : Array.isArray(v) ? "an array" : typeof v === "object" ? "an object without parameters()" : `${typeof v} ${String(v)}`;
}
