// One call at the top of every notebook: choose the tfjs backend, keep the output clean,
// print tensors like PyTorch, and (inside a notebook) load the plot library once. It leaves tfjs's
// kernels as they are (the translators' faster kernels are in place only while they train).
import * as tf from "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-wasm";
import { installTensorPrinting } from "./core/print";
import { inKernel, loadPlotLibrary } from "./plots/show";
import { platform } from "./core/platform";
import { checkBoolean, checkOptions } from "./core/checks";

/**
 * - `wasm`: WebAssembly with SIMD, the default: 10-20x faster than `cpu` here.
 * - `cpu`: plain JavaScript; slow, but every kernel exists.
 * - `tensorflow`: native TensorFlow through @tensorflow/tfjs-node, when the learner installed it.
 */
export type BackendName = "wasm" | "cpu" | "tensorflow";

export const BACKENDS: readonly BackendName[] = ["wasm", "cpu", "tensorflow"];

export interface SetupOptions {
  /** Which backend to use; default: $ATTENTION_BACKEND, else "wasm". */
  backend?: BackendName;
  /** Print one line saying what was set up (default: true inside a notebook, false elsewhere). */
  verbose?: boolean;
}

function loadTfjsNode(): void {
  try {
    // Resolved at run time: the course never depends on tfjs-node (its install downloads libtensorflow).
    const name = "@tensorflow/tfjs-node";
    const paths = [process.cwd(), __dirname];
    require(require.resolve(name, { paths })); // eslint-disable-line @typescript-eslint/no-require-imports -- optional, found at run time
  } catch (e) {
    throw new Error(
      "setup: the 'tensorflow' backend needs @tensorflow/tfjs-node, which is not installed " +
        `(${(e as Error).message.split("\n")[0]}). Install it with ` +
        "`npm install @tensorflow/tfjs-node@4.22.0` in the course folder (it downloads TensorFlow), " +
        "or use setup({ backend: 'wasm' }).",
    );
  }
}

/** The backend asked for in code, else in $ATTENTION_BACKEND, else wasm. */
export function chosenBackend(requested?: string): BackendName {
  const name = requested ?? platform().env("ATTENTION_BACKEND") ?? "wasm";
  if (!(BACKENDS as readonly string[]).includes(name)) {
    const from = requested === undefined ? " (from $ATTENTION_BACKEND)" : "";
    throw new Error(`setup: unknown backend '${name}'${from}; expected one of ${BACKENDS.join(", ")}`);
  }
  return name as BackendName;
}

/**
 * Set up tfjs for the course. Call once at the top of a notebook (`await setup()`).
 *
 * It starts from a clean slate: tensors made before it (by an earlier run of the notebook's cells)
 * are freed, so "Run All" twice does not keep two copies of everything in memory.
 */
export async function setup(options: SetupOptions = {}): Promise<void> {
  checkOptions(options, "setup", '{ backend: "wasm", verbose: false }');
  if (options.verbose !== undefined) checkBoolean(options.verbose, "setup", "verbose");
  const backend = chosenBackend(options.backend);
  if (backend === "tensorflow") loadTfjsNode();
  const leftover = tf.engine().backendName ? tf.memory().numTensors : 0;
  tf.engine().reset(); // frees every tensor and variable of earlier runs (and resets tfjs's flags)
  // Production mode silences tfjs's console banners ("looks like you are running TensorFlow.js in
  // Node.js ..."), which a learner would otherwise see as a red box.
  tf.enableProdMode();
  const ok = await tf.setBackend(backend);
  if (!ok) throw new Error(`setup: tfjs could not start the '${backend}' backend`);
  await tf.ready();
  installTensorPrinting();
  const simd = backend === "wasm" && tf.env().getBool("WASM_HAS_SIMD_SUPPORT");
  const notebook = inKernel();
  if (notebook) loadPlotLibrary();
  if (options.verbose ?? notebook) {
    const speed = backend === "wasm" ? (simd ? " (SIMD)" : " (no SIMD)") : "";
    const freed = leftover > 0 ? `; freed ${leftover} tensors of an earlier run` : "";
    console.log(`tfjs ${tf.version.tfjs}, backend: ${backend}${speed}${freed}`);
  }
}
