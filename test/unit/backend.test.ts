import * as assert from "assert";
import * as tf from "@tensorflow/tfjs";
import { setup } from "attention-lib";
import { chosenBackend } from "attention-lib/internal";

describe("backend setup", () => {
  after(() => setup({ backend: "wasm", verbose: false }));

  it("uses wasm with SIMD by default", async () => {
    await setup({ verbose: false });
    assert.strictEqual(tf.getBackend(), "wasm");
    assert.strictEqual(tf.env().getBool("WASM_HAS_SIMD_SUPPORT"), true);
  });

  it("frees the tensors of an earlier run", async () => {
    await setup({ verbose: false });
    tf.ones([3]);
    tf.variable(tf.zeros([2]));
    assert.ok(tf.memory().numTensors >= 2);
    await setup({ verbose: false });
    assert.strictEqual(tf.memory().numTensors, 0);
  });

  it("runs on cpu on request, without tfjs's Node.js banner", async () => {
    const warned: unknown[] = [];
    const orig = console.warn;
    console.warn = (...a: unknown[]) => warned.push(a);
    try {
      await setup({ backend: "cpu", verbose: false });
      const t = tf.ones([2]).add(1);
      assert.deepStrictEqual(Array.from(t.dataSync()), [2, 2]);
      t.dispose();
    } finally {
      console.warn = orig;
    }
    assert.strictEqual(tf.getBackend(), "cpu");
    assert.deepStrictEqual(warned, []);
  });

  it("explains how to get tfjs-node when the 'tensorflow' backend is asked for without it", async () => {
    await assert.rejects(
      setup({ backend: "tensorflow", verbose: false }),
      /needs @tensorflow\/tfjs-node, which is not installed.*npm install @tensorflow\/tfjs-node/s,
    );
  });

  it("rejects options that are not an object and a verbose that is not true or false, before touching the backend", async () => {
    await assert.rejects(setup(3 as never), /^Error: setup: options must be an object like \{ backend: "wasm", verbose: false \}, got 3$/);
    await assert.rejects(setup({ verbose: "no" as never }), /^Error: setup: the option verbose must be true or false, got the string "no"$/);
  });

  it("rejects unknown backend names, naming the choices", () => {
    assert.throws(() => chosenBackend("gpu"), /unknown backend 'gpu'; expected one of wasm, cpu, tensorflow/);
    const saved = process.env.ATTENTION_BACKEND;
    process.env.ATTENTION_BACKEND = "webgl";
    try {
      assert.throws(() => chosenBackend(), /unknown backend 'webgl' \(from \$ATTENTION_BACKEND\)/);
    } finally {
      if (saved === undefined) delete process.env.ATTENTION_BACKEND;
      else process.env.ATTENTION_BACKEND = saved;
    }
  });
});
