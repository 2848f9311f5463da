import * as assert from "assert";
import * as tf from "@tensorflow/tfjs";
import { inspect } from "util";
import { formatTensor, print, setup } from "attention-lib";
import { formatValues } from "attention-lib/internal";
import { noLeak } from "../helpers";

describe("print: tensors look like PyTorch's", () => {
  before(() => setup({ backend: "wasm", verbose: false }));

  const cases: [string, () => tf.Tensor, string][] = [
    ["a vector, 4 decimals", () => tf.tensor([0.441866, 0.651482, 0.568309]), "tensor([0.4419, 0.6515, 0.5683])"],
    ["a scalar", () => tf.scalar(1.852384), "tensor(1.8524)"],
    [
      "a matrix, right-aligned columns with room for the sign",
      () =>
        tf.tensor([
          [0.9995, -0.9544],
          [10.5, 1.495],
        ]),
      "tensor([[ 0.9995, -0.9544],\n        [10.5000,  1.4950]])",
    ],
    ["whole numbers as '1.'", () => tf.tensor([2, 0, 2]), "tensor([2., 0., 2.])"],
    ["int32 as integers", () => tf.tensor([1, 2, -3], [3], "int32"), "tensor([ 1,  2, -3])"],
    ["bool", () => tf.tensor([1, 0], [2], "bool"), "tensor([ True, False])"],
    ["scientific notation when magnitudes differ by > 1000", () => tf.tensor([1e-5, 3, 1000]), "tensor([1.0000e-05, 3.0000e+00, 1.0000e+03])"],
    ["inf and nan", () => tf.tensor([Infinity, NaN, -Infinity, 0.5]), "tensor([   inf,    nan,   -inf, 0.5000])"],
    ["3-D with a blank line between matrices", () => tf.ones([2, 1, 2]), "tensor([[[1., 1.]],\n\n        [[1., 1.]]])"],
  ];
  for (const [what, make, expected] of cases) {
    it(what, () => {
      const t = make();
      assert.strictEqual(
        noLeak(() => formatTensor(t)),
        expected,
      );
      t.dispose();
    });
  }

  it("wraps long vectors at 80 columns like PyTorch", () => {
    const s = formatValues(
      Array.from({ length: 30 }, (_, i) => i),
      [30],
    );
    assert.strictEqual(
      s,
      "tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,\n" +
        "        14., 15., 16., 17., 18., 19., 20., 21., 22., 23., 24., 25., 26., 27.,\n" +
        "        28., 29.])",
    );
  });

  it("summarises large tensors with '...' and shows their shape", () => {
    const t = tf.zeros([40, 50]);
    const s = formatTensor(t);
    const lines = s.split("\n");
    assert.strictEqual(lines[0], "tensor([[0., 0., 0.,  ..., 0., 0., 0.],");
    assert.strictEqual(lines[3], "        ...,");
    assert.ok(s.endsWith("]], shape=[40, 50])"), s);
    assert.strictEqual(lines.length, 7);
    t.dispose();
  });

  it("setup() makes console.log and a cell's last value print PyTorch-style", () => {
    const t = tf.tensor([[0.25, 0.75]]);
    assert.strictEqual(inspect(t), "tensor([[0.2500, 0.7500]])");
    t.dispose();
  });

  it("print() prints tensors and other values like Python's print", () => {
    const lines: string[] = [];
    const orig = console.log;
    console.log = (s: string) => lines.push(s);
    const t = tf.tensor([1.5]);
    try {
      print("w:", t, [1, 2]);
    } finally {
      console.log = orig;
    }
    t.dispose();
    assert.deepStrictEqual(lines, ["w: tensor([1.5000]) [ 1, 2 ]"]);
  });

  it("says clearly when values do not fill the shape", () => {
    assert.throws(() => formatValues([1, 2, 3], [2, 2]), /3 values do not fill shape \[2, 2\] \(4\)/);
  });

  it("print() of values of any kind does not throw", () => {
    const lines: string[] = [];
    const log = console.log;
    console.log = (s: string) => lines.push(s);
    try {
      print(undefined, null, { a: 1 }, [1, 2]);
    } finally {
      console.log = log;
    }
    assert.strictEqual(lines[0], "undefined null { a: 1 } [ 1, 2 ]");
  });
});

describe("formatTensor refuses options of the wrong type", () => {
  it("a threshold or lineWidth given as a string, options that are not an object", () => {
    const x = tf.ones([2, 2]);
    assert.throws(() => formatTensor(x, { threshold: "5" as never }), /^Error: formatTensor: threshold must be a number, got "5"$/);
    assert.throws(() => formatTensor(x, { lineWidth: "80" as never }), /^Error: formatTensor: lineWidth must be a number, got "80"$/);
    assert.throws(() => formatTensor(x, 3 as never), /^Error: formatTensor: options must be an object like \{ precision: 4 \}, got 3$/);
    assert.strictEqual(formatTensor(x, { precision: 1 }), "tensor([[1., 1.],\n        [1., 1.]])");
    x.dispose();
  });
});
