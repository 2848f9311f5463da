// Training a translator: one step (forward, backward, clip, Adam update), and the loop around it.
import * as tf from "@tensorflow/tfjs";
import { Generator } from "../core/random";
import { makeBatches, toTensors, type Batch, type BatchTensors, type EncodedPair } from "./batch";
import type { Translator } from "./translator";
import { checkPositive, checkPositiveInt } from "../core/checks";
import { checkAlive } from "../core/module";
import { inKernel } from "../core/jupyter";
import { platform } from "../core/platform";
import { FAST_LOSSES, clipAndAdam, fastPathAvailable } from "../fast/training";
import { withFastKernels } from "../fast/wasmkernels";

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
  /** Train through the speed wings (../fast/) where the backend has them (default), or the readable model. */
  fast?: boolean;
}

/** Forward + backward + update. Returns the loss as a scalar tensor (read it when you need it). */
export function trainStep(model: Translator, optimizer: tf.Optimizer, batch: BatchTensors, options: StepOptions = {}): tf.Scalar {
  // The speed wings (same numbers): the fast loss its wing registered for this kind of model, clipping and Adam as
  // one kernel, and faster wasm kernels.
  const fast = (options.fast ?? true) && fastPathAvailable();
  const fastLoss = fast ? FAST_LOSSES[model.config.kind] : undefined;
  if (fastLoss) model.checkBatch(batch); // what loss() would check; the wing's loss computes on trusted tensors
  const step = () => {
    const loss = () => fastLoss?.(model, batch) ?? model.loss(batch);
    const { value, grads } = tf.variableGrads(loss, model.parameters());
    if (!(fast && clipAndAdam(optimizer, grads, options.clipNorm ?? 1))) {
      const clipped = clipByGlobalNorm(grads, options.clipNorm ?? 1);
      optimizer.applyGradients(clipped.grads);
      tf.dispose(clipped);
    }
    tf.dispose(grads);
    return value;
  };
  return fast ? withFastKernels(step) : step();
}

export interface TrainOptions {
  /** Stop after this many steps. */
  steps: number;
  /** ... or after this many seconds, whichever comes first. */
  maxSeconds?: number;
  /** Sentence pairs per step (default 64). */
  batchSize?: number;
  /** Adam's learning rate (default 2e-3). */
  learningRate?: number;
  /** Largest global norm of the gradients (default 1). */
  clipNorm?: number;
  /** Seed of the batch order (default 1). */
  seed?: number;
  /** Called every `reportEvery` steps (default 10) with the mean loss since the last report. */
  onReport?: (step: number, loss: number) => void;
  reportEvery?: number;
}

/** The options, checked: a wrong one would loop forever, train on NaN or run zero steps without a word. */
function checkOptions(o: TrainOptions): void {
  if (o === null || typeof o !== "object") throw new Error("Trainer: options must be an object such as { steps: 300 }");
  checkPositiveInt(o.steps, "Trainer", "steps (how many training steps to run)");
  if (o.maxSeconds !== undefined) checkPositive(o.maxSeconds, "Trainer", "maxSeconds");
  if (o.batchSize !== undefined) checkPositiveInt(o.batchSize, "Trainer", "batchSize");
  if (o.learningRate !== undefined) checkPositive(o.learningRate, "Trainer", "learningRate");
  if (o.clipNorm !== undefined) checkPositive(o.clipNorm, "Trainer", "clipNorm");
  if (o.reportEvery !== undefined) checkPositiveInt(o.reportEvery, "Trainer", "reportEvery");
  if (o.seed !== undefined && !(Number.isSafeInteger(o.seed) && o.seed >= 0))
    throw new Error(`Trainer: seed must be a non-negative integer, got ${o.seed}`);
  if (o.onReport !== undefined && typeof o.onReport !== "function") throw new Error("Trainer: onReport must be a function (step, loss) => ...");
}

/** Every token id must be a word of the model's vocabularies, and every pair must end in <eos>. */
function checkPairs(model: Translator, pairs: EncodedPair[]): void {
  if (!Array.isArray(pairs) || pairs.length === 0) throw new Error("Trainer: no training pairs; expected encodeAll(corpus.train, vocabs)");
  const { srcVocab, tgtVocab } = model.config;
  pairs.forEach((p, i) => {
    for (const [side, ids, size] of [
      ["source", p?.src, srcVocab],
      ["target", p?.tgt, tgtVocab],
    ] as const) {
      if (!Array.isArray(ids) || ids.length === 0)
        throw new Error(`Trainer: pair ${i} has no ${side} ids; expected { src: number[], tgt: number[] } from encodeAll`);
      const bad = ids.find((id) => !(Number.isInteger(id) && id >= 0 && id < size));
      if (bad !== undefined) {
        throw new Error(
          `Trainer: pair ${i} has ${side} id ${bad}, but the model's ${side} vocabulary has ${size} words (ids 0-${size - 1}); build the model with the vocabularies the pairs were encoded with`,
        );
      }
    }
  });
}

/**
 * ATTENTION_TRAIN_SECONDS=N caps every run at N seconds (whatever maxSeconds says): short live-training cells for a
 * quick demo, or for the notebook tests, which run every notebook twice.
 */
function secondsCap(maxSeconds: number | undefined): number | undefined {
  const cap = Number(platform().env("ATTENTION_TRAIN_SECONDS"));
  if (!(cap > 0) || !Number.isFinite(cap)) return maxSeconds;
  return Math.min(maxSeconds ?? Infinity, cap);
}

/** What a run did. */
export interface RunResult {
  steps: number;
  seconds: number;
  /** Ended before `steps`: by its time limit, stop() or Interrupt. */
  stoppedEarly: boolean;
  /** Ended by the kernel's Interrupt. */
  interrupted: boolean;
}

/**
 * Trains a translator with Adam on shuffled, length-bucketed batches. In a notebook, Kernel > Interrupt
 * stops it after the current step (the model keeps what it learned); `stop()` does the same from code.
 */
export class Trainer {
  private stopped = false;
  private running = false;
  private readonly optimizer: tf.AdamOptimizer;
  step = 0;
  readonly losses: { step: number; loss: number }[] = [];

  constructor(
    readonly model: Translator,
    readonly pairs: EncodedPair[],
    private readonly options: TrainOptions,
  ) {
    checkOptions(options);
    checkAlive(model, "Trainer");
    checkPairs(model, pairs);
    this.optimizer = tf.train.adam(options.learningRate ?? 2e-3);
  }

  /** End a run after its current step. */
  stop(): void {
    this.stopped = true;
  }

  /** Run until `steps`, `maxSeconds`, stop() or Interrupt. Yields to the event loop after every step. */
  async run(): Promise<RunResult> {
    if (this.running) throw new Error("Trainer.run: this trainer is already running; wait for it, or call stop()");
    checkAlive(this.model, "Trainer.run");
    const o = { ...this.options, maxSeconds: secondsCap(this.options.maxSeconds) };
    const gen = new Generator(o.seed ?? 1);
    const every = o.reportEvery ?? 10;
    const start = Date.now();
    let batches: Batch[] = [];
    let acc: tf.Scalar[] = [];
    let interrupted = false;
    // The kernel's Interrupt (a SIGINT under tslab) ends the cell; this ends the loop too.
    const onInterrupt = () => {
      interrupted = true;
      this.stopped = true;
    };
    const kernel = inKernel();
    let stopListening = () => {};
    this.stopped = false;
    this.running = true;
    const report = () => {
      if (acc.length === 0) return;
      const mean = tf.tidy(() => tf.mean(tf.stack(acc)).dataSync()[0]);
      tf.dispose(acc);
      acc = [];
      this.losses.push({ step: this.step, loss: mean });
      o.onReport?.(this.step, mean);
      if (!Number.isFinite(mean)) {
        throw new Error(
          `Trainer: the loss became ${mean} by step ${this.step}: training diverged; try a smaller learningRate (now ${o.learningRate ?? 2e-3}) or clipNorm`,
        );
      }
    };
    try {
      // First let the cell's synchronous part end: tslab runs it with vm's breakOnSigint, and a SIGINT
      // listener added while that is active is left without an OS handler (Node then dies on Interrupt).
      await platform().yieldToEventLoop();
      if (kernel) stopListening = platform().onInterrupt(onInterrupt);
      while (this.step < o.steps && !this.stopped && (o.maxSeconds === undefined || (Date.now() - start) / 1000 < o.maxSeconds)) {
        if (batches.length === 0) batches = makeBatches(this.pairs, o.batchSize ?? 64, gen);
        const t = toTensors(batches.pop()!);
        try {
          acc.push(trainStep(this.model, this.optimizer, t, { clipNorm: o.clipNorm }));
        } finally {
          tf.dispose(t);
        }
        this.step++;
        if (this.step % every === 0) report();
        await platform().yieldToEventLoop(); // let Interrupt, stop() and live plots through
      }
      report();
    } finally {
      tf.dispose(acc);
      this.running = false;
      stopListening();
    }
    const seconds = (Date.now() - start) / 1000;
    if (interrupted) console.log(`Interrupted after ${this.step} steps (${seconds.toFixed(1)} s); the model keeps what it learned.`);
    return { steps: this.step, seconds, stoppedEarly: this.step < o.steps, interrupted };
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}
