import * as assert from "assert";
import * as tf from "@tensorflow/tfjs";
import { setup } from "attention-lib";
import { withFastKernels } from "attention-lib/internal";

/**
 * Run fn on cpu and on wasm (with the fast path's kernels in place) and compare the outputs: the same number of
 * tensors, each of the same shape and dtype, every value within 1e-4 (relative above 1).
 */
async function sameOnBothBackends(fn: () => tf.Tensor | tf.Tensor[]): Promise<void> {
  const results: { shape: number[]; dtype: string; values: number[] }[][] = [];
  for (const backend of ["cpu", "wasm"] as const) {
    await setup({ backend, verbose: false });
    const out = tf.tidy(() => (backend === "wasm" ? withFastKernels(fn) : fn()));
    try {
      results.push((Array.isArray(out) ? out : [out]).map((t) => ({ shape: t.shape, dtype: t.dtype, values: Array.from(t.dataSync()) })));
    } finally {
      tf.dispose(out);
    }
  }
  const [cpu, wasm] = results;
  assert.strictEqual(wasm.length, cpu.length, "as many outputs on both backends");
  cpu.forEach((c, i) => {
    assert.deepStrictEqual(wasm[i].shape, c.shape, `output ${i}: wasm's shape vs cpu's`);
    assert.strictEqual(wasm[i].dtype, c.dtype, `output ${i}: dtype`);
    c.values.forEach((v, j) =>
      assert.ok(Math.abs(v - wasm[i].values[j]) <= 1e-4 * Math.max(1, Math.abs(v)), `output ${i}[${j}]: cpu ${v}, wasm ${wasm[i].values[j]}`),
    );
  });
}

const seq = (shape: number[]) =>
  tf.tensor(
    Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 0.37)),
    shape,
  );

describe("the fast path's wasm kernels compute what the cpu backend computes", function () {
  this.timeout(30000);
  after(() => setup({ backend: "wasm", verbose: false }));

  it("slice: contiguous, strided, 1-D to 5-D", () =>
    sameOnBothBackends(() => [
      tf.slice(seq([24, 8, 6]), [5, 0, 0], [1, 8, 6]),
      tf.slice(seq([4, 7, 6]), [1, 2, 3], [2, 3, 2]),
      tf.slice(seq([10]), [3], [4]),
      tf.slice(seq([2, 3, 4, 5, 2]), [1, 0, 1, 2, 0], [1, 3, 2, 2, 2]),
      tf.slice(seq([3, 4]), [0, 0], [3, 4]),
    ]));

  it("split and unstack along every axis", () =>
    sameOnBothBackends(() => [
      ...tf.split(seq([4, 9]), [2, 3, 4], 1),
      ...tf.split(seq([6, 2, 3]), 3, 0),
      ...tf.unstack(seq([3, 4, 5]), 1),
      ...tf.unstack(seq([3, 4, 5]), 2),
    ]));

  it("matMul with transposed operands, 2-D and batched", () =>
    sameOnBothBackends(() => [
      tf.matMul(seq([5, 3]), seq([5, 4]), true, false),
      tf.matMul(seq([3, 5]), seq([4, 5]), false, true),
      tf.matMul(seq([5, 3]), seq([4, 5]), true, true),
      tf.matMul(seq([2, 5, 3]), seq([2, 5, 4]), true, false),
      tf.matMul(seq([2, 3, 5]), seq([2, 4, 5]), false, true),
    ]));

  it("sums over leading axes, other axes and all axes", () =>
    sameOnBothBackends(() => [
      tf.sum(seq([37, 11]), 0),
      tf.sum(seq([4, 5, 6]), [0, 1]),
      tf.sum(seq([4, 5, 6]), 0, true),
      tf.sum(seq([4, 5, 6]), 1),
      tf.sum(seq([4, 5, 6]), [1, 2]),
      tf.sum(seq([4, 5])),
    ]));

  it("gathers rows, and other gathers", () =>
    sameOnBothBackends(() => [
      tf.gather(seq([7, 5]), tf.tensor1d([6, 0, 3, 3], "int32")),
      tf.gather(
        seq([7, 2, 3]),
        tf.tensor2d(
          [
            [1, 2],
            [0, 6],
          ],
          [2, 2],
          "int32",
        ),
      ),
      tf.gather(seq([4, 6]), tf.tensor1d([5, 1], "int32"), 1),
    ]));

  it("the gradient of gather (UnsortedSegmentSum), missing from wasm before", () =>
    sameOnBothBackends(() => {
      const table = seq([6, 3]);
      const ids = tf.tensor1d([0, 2, 2, 5, 0, 1], "int32");
      const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, ids), seq([6, 3]))))(table);
      return [g, tf.unsortedSegmentSum(seq([4, 2]), tf.tensor1d([1, 0, 1, 3], "int32"), 5)];
    }));

  it("tanh (the Bahdanau score's), through tanhApprox: 1-D to 3-D, large and small values", () =>
    sameOnBothBackends(() => [
      tf.tanh(seq([7])),
      tf.tanh(tf.mul(seq([4, 6]), 12)),
      tf.tanh(tf.mul(seq([2, 3, 5]), 0.01)),
      tf.tanh(tf.tensor1d([0, -0, 30, -30, 7.9, -7.91])),
    ]));

  it("a kernel with the right numbers in the wrong shape is caught", async () => {
    await assert.rejects(
      sameOnBothBackends(() => (tf.getBackend() === "wasm" ? seq([3, 2]) : seq([2, 3]))),
      /output 0: wasm's shape vs cpu's/,
    );
  });
});
