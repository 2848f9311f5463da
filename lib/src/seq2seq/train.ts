// Training a translator: one step (forward, backward, clip, Adam update), and the loop around it.
import * as tf from "@tensorflow/tfjs";
import { Generator } from "../core/random";
import { makeBatches, toTensors, type Batch, type BatchTensors, type EncodedPair } from "./batch";
import type { Seq2Seq } from "./model";
import { fastLoss, fastPathAvailable, withFastKernels } from "./fast";

/** Scale the gradients down so that their global L2 norm is at most maxNorm (as torch's clip_grad_norm_). */
export function clipByGlobalNorm(grads: tf.NamedTensorMap, maxNorm: number): { grads: tf.NamedTensorMap; norm: tf.Scalar } {
  return tf.tidy(() => {
    const norm = tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g))))) as tf.Scalar;
    const scale = tf.minimum(1, tf.div(maxNorm, tf.add(norm, 1e-6)));
    const out: tf.NamedTensorMap = {};
    for (const [k, g] of Object.entries(grads)) out[k] = tf.mul(g, scale);
    return { grads: out, norm };
  });
}

export interface StepOptions {
  /** Largest global norm of the gradients (default 1). */
  clipNorm?: number;
  /** Train through the fast path (./fast/) where the backend has it (default), or the readable model. */
  fast?: boolean;
}

/** Forward + backward + update. Returns the loss as a scalar tensor (read it when you need it). */
export function trainStep(model: Seq2Seq, optimizer: tf.Optimizer, batch: BatchTensors, options: StepOptions = {}): tf.Scalar {
  const fast = (options.fast ?? true) && fastPathAvailable();
  const step = () => {
    const loss = () => (fast ? fastLoss(model, batch) : model.loss(batch));
    const { value, grads } = tf.variableGrads(loss, model.parameters());
    const clipped = clipByGlobalNorm(grads, options.clipNorm ?? 1);
    optimizer.applyGradients(clipped.grads);
    tf.dispose([grads, clipped.grads, clipped.norm]);
    return value;
  };
  return fast ? withFastKernels(step) : step();
}

export interface TrainOptions {
  /** Stop after this many steps. */
  steps: number;
  /** ... or after this many seconds, whichever comes first. */
  maxSeconds?: number;
  batchSize?: number;
  learningRate?: number;
  clipNorm?: number;
  seed?: number;
  /** Called every `reportEvery` steps with the mean loss since the last report. */
  onReport?: (step: number, loss: number) => void;
  reportEvery?: number;
}

/**
 * Trains a translator with Adam on shuffled, length-bucketed batches. `stop()` ends it after the current
 * step: interrupting a notebook cell that awaits `run()` does not stop the loop itself, so call
 * `trainer.stop()` from another cell.
 */
export class Trainer {
  private stopped = false;
  private readonly optimizer: tf.AdamOptimizer;
  step = 0;
  readonly losses: { step: number; loss: number }[] = [];

  constructor(readonly model: Seq2Seq, readonly pairs: EncodedPair[], private readonly options: TrainOptions) {
    if (pairs.length === 0) throw new Error("Trainer: no training pairs");
    this.optimizer = tf.train.adam(options.learningRate ?? 2e-3);
  }

  stop(): void {
    this.stopped = true;
  }

  /** Run until `steps`, `maxSeconds` or stop(). Yields to the event loop between steps. */
  async run(): Promise<{ steps: number; seconds: number; stoppedEarly: boolean }> {
    const o = this.options;
    const gen = new Generator(o.seed ?? 1);
    const every = o.reportEvery ?? 10;
    const start = Date.now();
    let batches: Batch[] = [];
    let acc: tf.Scalar[] = [];
    this.stopped = false;
    const report = () => {
      if (acc.length === 0) return;
      const mean = tf.tidy(() => tf.mean(tf.stack(acc)).dataSync()[0]);
      tf.dispose(acc);
      acc = [];
      this.losses.push({ step: this.step, loss: mean });
      o.onReport?.(this.step, mean);
    };
    while (this.step < o.steps && !this.stopped && (o.maxSeconds === undefined || (Date.now() - start) / 1000 < o.maxSeconds)) {
      if (batches.length === 0) batches = makeBatches(this.pairs, o.batchSize ?? 64, gen);
      const t = toTensors(batches.pop()!);
      acc.push(trainStep(this.model, this.optimizer, t, { clipNorm: o.clipNorm }));
      tf.dispose(t);
      this.step++;
      if (this.step % every === 0) {
        report();
        await new Promise((r) => setImmediate(r)); // let live plots and stop() through
      }
    }
    report();
    return { steps: this.step, seconds: (Date.now() - start) / 1000, stoppedEarly: this.step < o.steps };
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}

