// ModuleBase: a module's parts are its fields, found as PyTorch's nn.Module finds them.
import * as assert from "assert";
import * as tf from "@tensorflow/tfjs";
import { setup, ModuleBase, Linear, Generator, MultiHeadAttention, MultiHeadAttentionWrapper, countParameters } from "attention-lib";
import { variableFrom } from "attention-lib/internal";
import { refuses } from "../helpers";

class Inner extends ModuleBase {
  readonly proj: Linear;
  constructor(gen: Generator) {
    super();
    this.proj = new Linear(3, 2, { bias: false, generator: gen });
  }
}

class Outer extends ModuleBase {
  readonly first: Linear;
  readonly blocks: Inner[];
  readonly scale: tf.Variable;
  readonly nothing: Linear | null = null;
  readonly table = tf.ones([4]); // a buffer: freed by dispose(), never trained
  readonly shared: Linear; // the same Linear as first: tied weights
  readonly label = "not a part";
  constructor(gen: Generator) {
    super();
    this.first = new Linear(2, 3, { generator: gen });
    this.blocks = [new Inner(gen), new Inner(gen)];
    this.scale = variableFrom(new Float32Array([1, 1]), [2]);
    this.shared = this.first;
  }
}

describe("ModuleBase: parameters, children and buffers found from fields", () => {
  before(() => setup({ backend: "wasm", verbose: false }));

  it("names every parameter by its path of fields, in creation order, arrays numbered, a tied weight once", () => {
    const m = new Outer(new Generator(1));
    assert.deepStrictEqual(Object.keys(m.namedParameters()), ["first.weight", "first.bias", "blocks.0.proj.weight", "blocks.1.proj.weight", "scale"]);
    assert.deepStrictEqual(
      m.parameters().map((p) => p.shape),
      [[3, 2], [3], [2, 3], [2, 3], [2]],
    );
    assert.strictEqual(countParameters(m), 6 + 3 + 6 + 6 + 2);
    assert.deepStrictEqual(
      m.children().map(([name]) => name),
      ["first", "blocks.0", "blocks.1", "shared"],
    );
    m.dispose();
  });

  it("MultiHeadAttention's parameters come in PyTorch's order (the book's MultiHeadAttention.state_dict, without the mask buffer)", () => {
    const mha = new MultiHeadAttention(4, 6, 5, 0, 2, { qkvBias: true, generator: new Generator(2) });
    assert.deepStrictEqual(Object.keys(mha.namedParameters()), [
      "W_query.weight",
      "W_query.bias",
      "W_key.weight",
      "W_key.bias",
      "W_value.weight",
      "W_value.bias",
      "out_proj.weight",
      "out_proj.bias",
    ]);
    mha.dispose();
  });

  it("train() and eval() reach every module inside, through arrays too; the wrapper's heads follow it", () => {
    const m = new Outer(new Generator(3));
    m.eval();
    assert.deepStrictEqual([m.training, m.first.training, m.blocks[1].training, m.blocks[1].proj.training], [false, false, false, false]);
    m.train();
    assert.ok(m.blocks.every((b) => b.training && b.proj.training));
    m.dispose();
    const w = new MultiHeadAttentionWrapper(3, 2, 4, 0.5, 3, { generator: new Generator(4) });
    assert.ok(w.eval().heads.every((h) => !h.training));
    w.dispose();
  });

  it("dispose() frees parameters and buffers (a causal mask, a tensor field), and the module then refuses to compute", () => {
    const before = tf.memory().numTensors;
    const m = new Outer(new Generator(5));
    const mha = new MultiHeadAttention(4, 4, 6, 0, 2, { generator: new Generator(6) });
    m.dispose();
    mha.dispose();
    assert.strictEqual(tf.memory().numTensors, before);
    const x = tf.ones([1, 3, 4]);
    refuses(() => mha.forward(x), /MultiHeadAttention: this module was disposed/);
    refuses(() => countParameters(3 as never), /countParameters: expected a module .*, got number 3/);
    refuses(() => countParameters({} as never), /countParameters: expected a module .*, got an object without parameters\(\)/);
    x.dispose();
  });
});
