// The library's I/O goes through one platform layer: Node's by default, another (the browser course's) when
// installed. These tests install a stand-in that serves files from memory and records what the library asks for.
import * as assert from "assert";
import { readFileSync } from "fs";
import { join } from "path";
import * as tf from "@tensorflow/tfjs";
import { setup, loadCheckpoint, loadCorpus, loadLengthExperiment, show, heatmap } from "attention-lib";
import { chosenBackend, nodePlatform, platform, setPlatform, figureHtml, type Platform } from "attention-lib/internal";
import { ROOT } from "../helpers";

type Msg = { data: Record<string, unknown>; metadata: object; transient: object };

/** A platform that serves `files` (path -> bytes) and records reads, outputs and interrupt listeners. */
function memoryPlatform(files: Record<string, Uint8Array>, env: Record<string, string> = {}) {
  const reads: string[] = [];
  const sent: Msg[] = [];
  const listeners = new Set<() => void>();
  const get = (path: string) => {
    reads.push(path);
    const bytes = files[path];
    if (!bytes) throw new Error(`no file ${path}`);
    return bytes;
  };
  const p: Platform = {
    name: "memory",
    readText: (path) => new TextDecoder().decode(get(path)),
    readBytes: get,
    exists: (path) => path in files,
    writeFile: () => {
      throw new Error("read-only");
    },
    sha256: nodePlatform.sha256,
    randomHex: (n) => "ab".repeat(n),
    env: (name) => env[name],
    onInterrupt(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    yieldToEventLoop: () => new Promise((r) => setTimeout(r, 0)),
    displayChannel: () => (msg) => void sent.push(msg),
    plotly: () => ({ version: "9.9.9", url: "https://course.example/plotly.js" }),
  };
  return { p, reads, sent, listeners };
}

const file = (rel: string) => new Uint8Array(readFileSync(join(ROOT, rel)));

describe("platform: the library's I/O through one layer", () => {
  before(() => setup({ backend: "wasm", verbose: false }));
  afterEach(() => setPlatform(nodePlatform));

  it("is Node's by default, and setPlatform refuses an object that lacks a method", () => {
    assert.strictEqual(platform().name, "node");
    assert.strictEqual(platform().sha256(new TextEncoder().encode("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert.throws(
      () => setPlatform({ name: "half", readText: () => "" } as unknown as Platform),
      /setPlatform: expected a Platform object, got one without readBytes, exists/,
    );
    assert.strictEqual(platform().name, "node");
  });

  it("loadCheckpoint and loadCorpus read through it (checksum checked), and settings come from it", () => {
    const files: Record<string, Uint8Array> = {
      "data/checkpoints/rnn.json": file("data/checkpoints/rnn.json"),
      "data/checkpoints/rnn.bin": file("data/checkpoints/rnn.bin"),
      "data/corpus/train.tsv": new TextEncoder().encode("a cat\tun chat\n"),
      "data/corpus/valid.tsv": new TextEncoder().encode("a dog\tun chien\r\n"),
      "data/corpus/test.tsv": new TextEncoder().encode(""),
    };
    const { p, reads } = memoryPlatform(files, { ATTENTION_BACKEND: "cpu" });
    setPlatform(p);
    const before = tf.memory().numTensors;
    const { model } = loadCheckpoint("data/checkpoints/rnn");
    model.dispose();
    assert.strictEqual(tf.memory().numTensors, before);
    assert.deepStrictEqual(reads, ["data/checkpoints/rnn.json", "data/checkpoints/rnn.bin"]);
    const corpus = loadCorpus("data/corpus");
    assert.deepStrictEqual(corpus.train, [{ en: "a cat", fr: "un chat" }]);
    assert.deepStrictEqual(corpus.valid, [{ en: "a dog", fr: "un chien" }]);
    assert.strictEqual(chosenBackend(), "cpu");
    // One flipped byte: the checksum the platform computes no longer matches.
    const bad = files["data/checkpoints/rnn.bin"].slice();
    bad[100] ^= 1;
    files["data/checkpoints/rnn.bin"] = bad;
    assert.throws(() => loadCheckpoint("data/checkpoints/rnn"), /rnn\.bin does not match the SHA-256/);
    assert.strictEqual(tf.memory().numTensors, before);
  });

  it("figures go to its display channel, with plotly.js loaded from the address it gives", () => {
    const { p, sent } = memoryPlatform({});
    setPlatform(p);
    show(
      heatmap(
        [
          [1, 2],
          [3, 4],
        ],
        { title: "t" },
      ),
    );
    assert.strictEqual(sent.length, 1);
    const html = String(sent[0].data["text/html"]);
    assert.match(html, /s\.src = "https:\/\/course\.example\/plotly\.js"/);
    assert.ok(html.length < 5000, `plotly.js inlined (${html.length} characters)`);
    assert.match(figureHtml(heatmap([[1]]) as never), /id="fig-abababababab"/);
  });

  it("loadLengthExperiment reads the committed results, and names what is wrong with a bad file", () => {
    const rel = "data/results/length-experiment.json";
    const expected = JSON.parse(readFileSync(join(ROOT, rel), "utf8"));
    const r = loadLengthExperiment(join(ROOT, rel));
    assert.deepStrictEqual(r, expected);
    assert.ok(r.buckets.length > 0 && r.long.buckets.length > 0);
    assert.strictEqual(typeof r.buckets[0].rnn_bleu, "number");
    const { p } = memoryPlatform({ "x.json": new TextEncoder().encode("{oops"), "y.json": new TextEncoder().encode('{"buckets": []}') });
    setPlatform(p);
    assert.throws(() => loadLengthExperiment("none.json"), /loadLengthExperiment: none\.json not found; `npm run length-experiment` writes it/);
    assert.throws(() => loadLengthExperiment("x.json"), /loadLengthExperiment: x\.json is not valid JSON/);
    assert.throws(() => loadLengthExperiment("y.json"), /loadLengthExperiment: y\.json does not hold the length experiment's results/);
    assert.throws(() => loadLengthExperiment("" as string), /loadLengthExperiment: expected a path/);
  });
});
