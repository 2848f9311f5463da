// What the readable Trainer (../seq2seq/train.ts) asks of the speed wings, without knowing any of them:
//   FAST_LOSSES     each wing registers the fast loss of the model kinds it covers (seq2seq/fast: "plain" and
//                   "bahdanau"; transformer/fast: "transformer"; gpt/fast: "gpt"); the Trainer looks config.kind up
//   clipAndAdam     clipping by the global norm and tfjs's Adam update for every parameter as ONE kernel call
//                   (tfjs runs ~13 ops per parameter: ~650 calls a step for the Transformer's 50 tensors)
// The tests hold both to the readable path (losses, gradients and updated weights within 1e-5).
import * as tf from "@tensorflow/tfjs";
import type { BatchTensors } from "../seq2seq/batch";
import type { Translator } from "../seq2seq/translator";
import { viewsFor } from "../seq2seq/fast/grukernels";

/** The fast paths run on the backends that have their fused kernels (wasm, cpu); others train the readable model. */
export function fastPathAvailable(): boolean {
  return tf.getBackend() === "wasm" || tf.getBackend() === "cpu";
}

/**
 * A wing's loss for one kind of model: model.loss(batch), computed the fast way, or null where the wing does not
 * cover this model's settings (e.g. dropout while training), and the readable loss is used.
 */
export type FastLoss = (model: Translator, batch: BatchTensors) => tf.Scalar | null;

/** config.kind -> the fast loss of that kind of model. The wings fill it in when the library loads (../index.ts). */
export const FAST_LOSSES: Record<string, FastLoss> = {};

type Info = { dataId: object; shape: number[]; dtype: tf.DataType };
const CLIP_ADAM = "CourseClipAdam";

/**
 * inputs g0.., p0.., m0.., v0.. (n each), accBeta1, accBeta2 -> outputs p0'.., m0'.., v0'.. and the gradients' global
 * norm: clipByGlobalNorm(grads, maxNorm), then tfjs's AdamOptimizer.applyGradients, op for op.
 */
function clipAdamKernel({ inputs, backend, attrs }: { inputs: Record<string, Info>; backend: unknown; attrs: Record<string, number> }): Info[] {
  const { n, lr, beta1, beta2, eps, maxNorm } = attrs;
  const v = viewsFor(backend);
  const shapes = [0, 1, 2].flatMap(() => Array.from({ length: n }, (_, i) => inputs[`p${i}`].shape));
  const { infos, views } = v.outputs([...shapes, []]); // allocate first: views of inputs stay valid
  const f = Math.fround;
  let sq = 0;
  for (let i = 0; i < n; i++) {
    const g = v.read(inputs[`g${i}`]);
    let s = 0;
    for (let j = 0; j < g.length; j++) s += g[j] * g[j];
    sq += f(s);
  }
  const norm = f(Math.sqrt(sq));
  const scale = Math.min(1, f(maxNorm / f(norm + 1e-6)));
  const c1 = f(1 - v.read(inputs.accBeta1)[0]);
  const c2 = f(1 - v.read(inputs.accBeta2)[0]);
  for (let i = 0; i < n; i++) {
    const [g, p, m, s] = ["g", "p", "m", "v"].map((k) => v.read(inputs[`${k}${i}`]));
    const [P, M, S] = [views[i], views[n + i], views[2 * n + i]];
    for (let j = 0; j < g.length; j++) {
      const gj = f(g[j] * scale);
      const mj = f(f(m[j] * beta1) + f(gj * f(1 - beta1)));
      const sj = f(f(s[j] * beta2) + f(f(gj * gj) * f(1 - beta2)));
      M[j] = mj;
      S[j] = sj;
      P[j] = f(f(f(mj / c1) / f(f(Math.sqrt(f(sj / c2))) + eps)) * -lr) + p[j];
    }
  }
  views[3 * n][0] = norm;
  return infos;
}

function registerClipAdam(): void {
  for (const backendName of ["wasm", "cpu"])
    if (!tf.getKernel(CLIP_ADAM, backendName))
      tf.registerKernel({ kernelName: CLIP_ADAM, backendName, kernelFunc: clipAdamKernel as unknown as tf.KernelFunc });
}

// What this needs of tfjs's AdamOptimizer (4.22: adam_optimizer.js), which keeps the moments as its own state.
type AdamState = {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[];
  accumulatedSecondMoment: { originalName: string; variable: tf.Variable }[];
  incrementIterations(): void;
};

/**
 * Clip `grads` to a global norm of at most maxNorm and apply one step of `optimizer`, as one kernel call, keeping the
 * optimizer's state where tfjs keeps it (so either path can take the next step). Returns false, having done nothing,
 * when the optimizer is not tfjs's Adam; the caller then clips and updates the readable way.
 */
export function clipAndAdam(optimizer: tf.Optimizer, grads: tf.NamedTensorMap, maxNorm: number): boolean {
  if (optimizer.getClassName() !== "Adam" || !fastPathAvailable()) return false;
  registerClipAdam();
  const opt = optimizer as unknown as AdamState;
  const names = Object.keys(grads);
  const vars = names.map((name) => tf.engine().registeredVariables[name]);
  if (vars.some((x) => x === undefined)) return false;
  const inputs: Record<string, tf.Tensor> = { accBeta1: opt.accBeta1, accBeta2: opt.accBeta2 };
  names.forEach((name, i) => {
    opt.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(vars[i]).variable(false)) };
    opt.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(vars[i]).variable(false)) };
    inputs[`g${i}`] = grads[name];
    inputs[`p${i}`] = vars[i];
    inputs[`m${i}`] = opt.accumulatedFirstMoment[i].variable;
    inputs[`v${i}`] = opt.accumulatedSecondMoment[i].variable;
  });
  const n = names.length;
  const attrs = { n, lr: opt.learningRate, beta1: opt.beta1, beta2: opt.beta2, eps: opt.epsilon, maxNorm };
  const out = tf.engine().runKernel(CLIP_ADAM, inputs as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as unknown as tf.Tensor[];
  for (let i = 0; i < n; i++) {
    vars[i].assign(out[i]);
    opt.accumulatedFirstMoment[i].variable.assign(out[n + i]);
    opt.accumulatedSecondMoment[i].variable.assign(out[2 * n + i]);
  }
  tf.dispose(out);
  tf.tidy(() => {
    opt.accBeta1.assign(tf.mul(opt.accBeta1, opt.beta1));
    opt.accBeta2.assign(tf.mul(opt.accBeta2, opt.beta2));
  });
  opt.incrementIterations();
  return true;
}
