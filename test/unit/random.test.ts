import * as assert from "assert";
import * as tf from "@tensorflow/tfjs";
import { Generator, manualSeed, rand, setup } from "attention-lib";
import { defaultGenerator, dropoutScaleValues, randValues, uniformLinear, uniformValues } from "attention-lib/internal";
import { assertClose, assertThrowsMessage, noLeak, referenceValues, refuses } from "../helpers";
import * as lib from "attention-lib";

describe("random: a generator that reproduces PyTorch's CPU generator", () => {
  const ref = referenceValues();
  before(() => setup({ backend: "wasm", verbose: false }));

  it("getState/setState come back to the same place in the stream, like torch.get_rng_state", () => {
    const g = new Generator(7);
    g.nextUint32();
    const state = g.getState();
    const next = [g.nextUint32(), g.nextFloat64()];
    g.manualSeed(99).nextUint32();
    g.setState(state);
    assert.deepStrictEqual([g.nextUint32(), g.nextFloat64()], next);
    assert.strictEqual(g.seed, 7);
  });

  it("is MT19937: seed 5489 gives the standard first outputs", () => {
    const g = new Generator(5489);
    assert.deepStrictEqual([g.nextUint32(), g.nextUint32(), g.nextUint32()], [3499211612, 581869302, 3890346734]);
  });

  it("rand after seed 123 matches the book's W_query, W_key, W_value (v1)", () => {
    manualSeed(123);
    for (const name of ["W_query", "W_key", "W_value"]) {
      const r = ref[`v1.${name}`];
      assert.deepStrictEqual(r.shape, [3, 2]);
      assertClose(randValues([3, 2]), r.data, 1e-6, name);
    }
  });

  it("rand returns one tensor of the given shape, float32 in [0, 1)", () => {
    manualSeed(123);
    const t = noLeak(() => rand([3, 2]), 1);
    assert.deepStrictEqual(t.shape, [3, 2]);
    assert.strictEqual(t.dtype, "float32");
    assertClose(t.dataSync(), ref["v1.W_query"].data, 1e-6);
    t.dispose();
  });

  it("nn.Linear init after seed 789 matches the book's v2 weights, drawn in creation order", () => {
    manualSeed(789);
    for (const name of ["W_query", "W_key", "W_value"]) {
      const { weight, bias } = uniformLinear(3, 2, false);
      assert.strictEqual(bias, null);
      assertClose(weight, ref[`v2.${name}.weight`].data, 1e-6, name);
    }
  });

  it("a Linear bias is drawn after its weight, from the same bound", () => {
    const a = new Generator(7);
    const { weight, bias } = uniformLinear(4, 3, true, a);
    const b = new Generator(7);
    const all = uniformValues([15], -0.5, 0.5, b);
    assertClose(weight, all.slice(0, 12), 0);
    assertClose(bias!, all.slice(12), 0);
    assert.ok([...weight, ...bias!].every((v) => v >= -0.5 && v < 0.5));
  });

  it("dropout p=0.5 after seed 123 on a 6x6 matrix of ones matches the book's mask", () => {
    manualSeed(123);
    assertClose(dropoutScaleValues([6, 6], 0.5), ref["dropout.ones"].data, 0, "dropout.ones");
  });

  it("dropout keeps about 1 - p of a large tensor and scales survivors by 1 / (1 - p)", () => {
    const v = dropoutScaleValues([100000], 0.3, new Generator(1));
    const kept = v.filter((x) => x !== 0);
    assert.ok(Math.abs(kept.length / v.length - 0.7) < 0.01, `kept ${kept.length / v.length}`);
    assert.ok(kept.every((x) => Math.abs(x - 1 / 0.7) < 1e-6));
  });

  it("re-seeding repeats the stream; separate generators do not disturb each other", () => {
    manualSeed(42);
    const a = randValues([5]);
    const other = new Generator(42);
    other.nextUint32();
    manualSeed(42);
    assert.deepStrictEqual(Array.from(randValues([5])), Array.from(a));
    assert.strictEqual(defaultGenerator.seed, 42);
  });

  it("rejects bad seeds, shapes and probabilities with clear messages", () => {
    const before = tf.memory().numTensors;
    assertThrowsMessage(() => manualSeed(-1), /manualSeed: the seed must be an integer from 0 to 2\^53 - 1, got -1/);
    assertThrowsMessage(() => manualSeed(1.5), /manualSeed: the seed must be an integer from 0 to 2\^53 - 1, got 1.5/);
    assertThrowsMessage(() => randValues([2, -1]), /rand: a shape must be an array of non-negative integers, got \[2,-1\]/);
    assertThrowsMessage(() => dropoutScaleValues([2], 1), /p must be in \[0, 1\), got 1/);
    assertThrowsMessage(() => uniformLinear(0, 2, false), /d_in must be a positive integer, got 0/);
    assertThrowsMessage(() => uniformValues([2], 1, 0), /low <= high/);
    assert.strictEqual(tf.memory().numTensors, before, "the failed calls made no tensors");
  });

  it("manualSeed refuses seeds JavaScript cannot hold exactly", () => {
    refuses(
      () => manualSeed(2 ** 64),
      /manualSeed: the seed must be an integer from 0 to 2\^53 - 1, got 18446744073709552000 \(integers above 2\^53 - 1 lose digits/,
    );
    refuses(() => manualSeed(1.5), /manualSeed: the seed must be an integer from 0 to 2\^53 - 1, got 1.5$/);
  });
});

describe("a generator or bias option of the wrong kind is refused, not used", () => {
  before(() => setup({ backend: "wasm", verbose: false }));

  it("rand, Linear and SelfAttentionV1 name a generator that is not one; Linear a bias given as a string", () => {
    refuses(() => rand([2], 3 as never), /^rand: the generator must be a Generator \(new Generator\(seed\)\), got 3$/);
    refuses(
      () => new lib.Linear(3, 2, { generator: {} as never }),
      /^Linear: the generator must be a Generator \(new Generator\(seed\)\), got an object$/,
    );
    refuses(() => new lib.SelfAttentionV1(3, 2, { generator: 7 as never }), /^SelfAttentionV1: the generator must be a Generator/);
    refuses(() => new lib.Linear(3, 2, { bias: "false" as never }), /^Linear: the option bias must be true or false, got the string "false"$/);
    const lin = new lib.Linear(3, 2, { bias: false, generator: new Generator(1) });
    assert.strictEqual(lin.bias, null);
    lin.dispose();
  });
});
