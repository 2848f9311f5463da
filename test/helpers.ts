// Shared test helpers: the reference values, closeness checks and a tensor-leak guard.
import * as assert from "assert";
import { readFileSync, existsSync } from "fs";
import { spawnSync } from "child_process";
import { join } from "path";
import * as tf from "@tensorflow/tfjs";
import { exampleInputs, SelfAttentionV2 } from "attention-lib";

export const ROOT = join(__dirname, "..", "..");

/**
 * Reference tensors of the book's chapter 3 examples, recomputed with PyTorch 1.13 (CPU):
 * test/fixtures/ch03-public-values.json (see test/fixtures/README.md).
 */
export function referenceValues(): Record<string, { shape: number[]; data: number[] }> {
  const file = join(ROOT, "test", "fixtures", "ch03-public-values.json");
  if (!existsSync(file)) throw new Error(`reference values not found at ${file}`);
  return (JSON.parse(readFileSync(file, "utf8")) as { values: Record<string, { shape: number[]; data: number[] }> }).values;
}

/** The Python of the JupyterLab that `npm install` set up in .venv/ (scripts/jupyter-env.mjs). */
export const VENV_PYTHON = join(ROOT, ".venv", process.platform === "win32" ? "Scripts/python.exe" : "bin/python");

/** A Python that has nbclient, nbconvert and jupyter_client: $ATTENTION_PYTHON, the project's .venv/, Debian's, or the one on PATH (scripts/python.mjs). */
export function findPython(): string {
  const r = spawnSync(process.execPath, [join(ROOT, "scripts", "python.mjs"), "nbclient", "nbconvert", "nbformat", "jupyter_client"], {
    encoding: "utf8",
  });
  if (r.status === 0) return r.stdout.trim();
  throw new Error(
    `No Python with nbclient, nbconvert and jupyter_client (${r.stderr.trim()}). ` +
      "`npm install` sets them up in .venv/ (run `npm run jupyter:venv` to retry); or set ATTENTION_PYTHON",
  );
}

/** Debian's Chromium (or $CHROMIUM_PATH), for the browser checks. */
export function findChromium(): string {
  const candidates = [process.env.CHROMIUM_PATH, "/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];
  const found = candidates.find((p) => p && existsSync(p));
  if (!found) throw new Error("No Chromium found (set CHROMIUM_PATH). On Debian/Ubuntu: sudo npm run deps:debian");
  return found;
}

/** Every value within `tol` of the expected one (the book prints 4 decimals: 1e-4). */
export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = 1e-4, what = "values"): void {
  assert.strictEqual(actual.length, expected.length, `${what}: ${actual.length} values, expected ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs(actual[i] - expected[i]);
    assert.ok(d <= tol, `${what}[${i}] = ${actual[i]}, expected ${expected[i]} (off by ${d.toExponential(2)} > ${tol})`);
  }
}

/** Run fn and check it left tf.memory().numTensors where it found it, except `keep` tensors it returns. */
export function noLeak<T>(fn: () => T, keep = 0): T {
  const before = tf.memory().numTensors;
  const out = fn();
  const after = tf.memory().numTensors;
  assert.strictEqual(after - before, keep, `tensor leak: ${after - before} tensors more after the call, expected ${keep}`);
  return out;
}

/** assert.throws with a message check that prints the message it got. */
export function assertThrowsMessage(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: Error) => {
    assert.match(e.message, pattern);
    return true;
  });
}

/**
 * Finite-difference gradient check: compare tf.variableGrads of `loss` with central differences
 * (eps 1e-2) on the first, middle and last entry of every parameter. Returns how many entries it checked.
 */
export function checkGradients(loss: () => tf.Scalar, params: tf.Variable[], what: string, tol = 3e-3): number {
  const { grads } = tf.variableGrads(loss, params);
  const eps = 1e-2;
  let checked = 0;
  for (const p of params) {
    const g = grads[p.name].dataSync();
    const values = Array.from(p.dataSync());
    for (const k of [0, Math.floor(values.length / 2), values.length - 1]) {
      const at = (v: number) => {
        const copy = values.slice();
        copy[k] = v;
        tf.tidy(() => p.assign(tf.tensor(copy, p.shape)));
        return tf.tidy(() => loss().dataSync()[0]);
      };
      const numeric = (at(values[k] + eps) - at(values[k] - eps)) / (2 * eps);
      tf.tidy(() => p.assign(tf.tensor(values, p.shape)));
      assert.ok(Math.abs(numeric - g[k]) < tol * Math.max(1, Math.abs(numeric)), `${what} ${p.name}[${k}]: analytic ${g[k]}, numeric ${numeric}`);
      checked++;
    }
  }
  tf.dispose(grads);
  return checked;
}

export { EXAMPLE_TOKENS as TOKENS, EXAMPLE_EMBEDDINGS as INPUTS } from "attention-lib";

/** A tensor's values as a plain array. */
export const data = (t: tf.Tensor): number[] => Array.from(t.dataSync());

/** The backend still works: a 6x3 self-attention forward gives finite numbers. */
export function backendWorks(): void {
  const x = exampleInputs();
  const sa = new SelfAttentionV2(3, 2);
  const out = sa.forward(x);
  assert.deepStrictEqual(out.shape, [6, 2]);
  assert.ok(Array.from(out.dataSync()).every(Number.isFinite));
  tf.dispose([x, out]);
  sa.dispose();
}

/** fn throws a message matching `pattern`, leaves no tensor behind, and the backend works afterwards. */
export function refuses(fn: () => unknown, pattern: RegExp): void {
  noLeak(() => assertThrowsMessage(fn, pattern));
  backendWorks();
}

/** Run fn with its own tensors freed afterwards. */
export function withTensors<T>(make: () => tf.Tensor[], fn: (...t: tf.Tensor[]) => T): T {
  const ts = make();
  try {
    return fn(...ts);
  } finally {
    tf.dispose(ts);
  }
}

/** Run an exercise check, assert it leaks nothing and says what `pattern` expects; the answer's numbers never appear. */
export function says(check: () => string, pattern: RegExp, mustNotContain: string[] = []): string {
  const before = tf.memory().numTensors;
  const message = check();
  assert.strictEqual(tf.memory().numTensors, before, `the check leaked tensors: ${message}`);
  assert.match(message, pattern);
  for (const s of mustNotContain) assert.ok(!message.includes(s), `the message gives the answer away (${s}): ${message}`);
  return message;
}
