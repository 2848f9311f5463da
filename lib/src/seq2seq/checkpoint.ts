// Save and load trained translators: NAME.json (format, config, vocabularies, parameter shapes, the .bin's
// size and SHA-256, notes) + NAME.bin (the parameters as little-endian float32, in the order of the manifest).
// Loading checks everything before it builds a model, and names the file that is wrong.
import * as tf from "@tensorflow/tfjs";
import { Seq2Seq, type Seq2SeqConfig } from "./model";
import type { Translator, TranslatorConfig } from "./translator";
import { Vocabulary } from "./vocab";
import { platform } from "../core/platform";

/** A loaded translator, typed as the RNN Seq2Seq of notebooks 01-02 unless told: loadCheckpoint<TransformerTranslator>(...). */
export interface Checkpoint<M extends Translator = Seq2Seq> {
  model: M;
  vocabs: { src: Vocabulary; tgt: Vocabulary };
  notes: Record<string, unknown>;
}

export const CHECKPOINT_FORMAT = "attention-course-seq2seq/2";

interface Manifest {
  format: typeof CHECKPOINT_FORMAT;
  config: TranslatorConfig;
  vocabs: { src: string[]; tgt: string[] };
  parameters: { name: string; shape: number[] }[];
  /** Size in bytes and SHA-256 (hex) of NAME.bin. */
  bin: { bytes: number; sha256: string };
  notes: Record<string, unknown>;
}

/**
 * How to build each kind of translator from its config. The RNNs are here; the Transformer (../transformer/model.ts)
 * adds itself when it is loaded, so this layer never imports the one above it.
 */
export const TRANSLATORS: Record<string, (config: TranslatorConfig) => Translator> = {
  plain: (c) => new Seq2Seq(c as Seq2SeqConfig),
  bahdanau: (c) => new Seq2Seq(c as Seq2SeqConfig),
};

const sha256 = (bytes: Uint8Array) => platform().sha256(bytes);

/** Write `base`.json and `base`.bin. */
export function saveCheckpoint(
  base: string,
  model: Translator,
  vocabs: { src: Vocabulary; tgt: Vocabulary },
  notes: Record<string, unknown> = {},
): void {
  const named = Object.entries(model.namedParameters());
  const data = new Float32Array(named.reduce((n, [, v]) => n + v.size, 0));
  let o = 0;
  for (const [, v] of named) {
    data.set(v.dataSync() as Float32Array, o);
    o += v.size;
  }
  const bin = new Uint8Array(data.buffer);
  const manifest: Manifest = {
    format: CHECKPOINT_FORMAT,
    config: model.config,
    vocabs: { src: vocabs.src.tokens, tgt: vocabs.tgt.tokens },
    parameters: named.map(([name, v]) => ({ name, shape: v.shape })),
    bin: { bytes: bin.byteLength, sha256: sha256(bin) },
    notes,
  };
  platform().writeFile(`${base}.json`, JSON.stringify(manifest, null, 1) + "\n");
  platform().writeFile(`${base}.bin`, bin);
}

const RESTORE =
  "Restore the committed checkpoints with `git checkout -- data/checkpoints`, or retrain them with `npm run length-experiment` (see data/README.md).";

/** Throw loadCheckpoint's error: which file, what is wrong with it, and how to get a good one back. */
function fail(file: string, what: string): never {
  throw new Error(`loadCheckpoint: ${file} ${what}. ${RESTORE}`);
}

/** Read a checkpoint written by saveCheckpoint. Nothing is built (or leaked) unless every check passes. */
export function loadCheckpoint<M extends Translator = Seq2Seq>(base: string): Checkpoint<M> {
  if (typeof base !== "string" || base === "")
    throw new Error(`loadCheckpoint: expected a path such as "../data/checkpoints/rnn", got ${String(base)}`);
  const [json, binFile] = [`${base}.json`, `${base}.bin`];
  for (const f of [json, binFile]) if (!platform().exists(f)) fail(f, "is missing");
  const { manifest, src, tgt } = readManifest(json);
  const weights = readWeights(binFile, manifest.bin);
  let model: Translator;
  try {
    const build = TRANSLATORS[manifest.config.kind];
    if (!build) throw new Error(`kind '${manifest.config.kind}' is none of ${Object.keys(TRANSLATORS).join(", ")}`);
    model = build(manifest.config);
  } catch (e) {
    return fail(json, `has a config this course cannot build (${(e as Error).message})`);
  }
  try {
    fillParameters(model, manifest, weights, json, binFile);
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { model: model as M, vocabs: { src, tgt }, notes: manifest.notes ?? {} };
}

/** NAME.json: its format, its four parts, and vocabularies whose sizes agree with the config. */
function readManifest(json: string): { manifest: Manifest; src: Vocabulary; tgt: Vocabulary } {
  let manifest: Manifest;
  try {
    manifest = JSON.parse(platform().readText(json)) as Manifest;
  } catch (e) {
    return fail(json, `is not valid JSON (${(e as Error).message})`);
  }
  if (manifest === null || typeof manifest !== "object") fail(json, "does not hold a checkpoint manifest");
  if (manifest.format !== CHECKPOINT_FORMAT) fail(json, `has format ${JSON.stringify(manifest.format)}; this course reads ${CHECKPOINT_FORMAT}`);
  const { config, vocabs, parameters, bin } = manifest;
  if (!config || !vocabs || !Array.isArray(vocabs.src) || !Array.isArray(vocabs.tgt) || !Array.isArray(parameters) || !bin) {
    fail(json, "lacks one of config, vocabs, parameters, bin");
  }
  let src: Vocabulary;
  let tgt: Vocabulary;
  try {
    src = new Vocabulary(vocabs.src);
    tgt = new Vocabulary(vocabs.tgt);
  } catch (e) {
    return fail(json, `holds a broken vocabulary (${(e as Error).message})`);
  }
  if (src.size !== config.srcVocab || tgt.size !== config.tgtVocab) {
    fail(json, `has vocabularies of ${src.size} and ${tgt.size} words, but its config says ${config.srcVocab} and ${config.tgtVocab}`);
  }
  return { manifest, src, tgt };
}

/** NAME.bin: the size and SHA-256 its manifest promises, and only finite numbers. */
function readWeights(binFile: string, bin: Manifest["bin"]): Float32Array {
  const bytes = platform().readBytes(binFile);
  if (bytes.byteLength !== bin.bytes) fail(binFile, `has ${bytes.byteLength} bytes; its manifest says ${bin.bytes} (a truncated or replaced file)`);
  if (sha256(bytes) !== bin.sha256) fail(binFile, "does not match the SHA-256 in its manifest (the file was changed or damaged)");
  const weights = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  if (!weights.every(Number.isFinite)) fail(binFile, "holds NaN or Infinity among its weights");
  return weights;
}

/**
 * Parameter names in checkpoints written before the modules found their parameters from their fields (the RNNs of
 * notebooks 01-02): read as today's field names, so the committed files load unchanged.
 */
const RENAMED: Record<string, string> = { Wq: "W_query", Wk: "W_key", Wo: "W_out", bo: "b_out" };

/** Check that the manifest lists exactly the model's parameters, with its shapes, then copy the weights in, in that order. */
function fillParameters(model: Translator, manifest: Manifest, weights: Float32Array, json: string, binFile: string): void {
  const named = model.namedParameters();
  manifest = { ...manifest, parameters: manifest.parameters.map((p) => (p && p.name in RENAMED ? { ...p, name: RENAMED[p.name] } : p)) };
  const expected = Object.keys(named).sort().join(", ");
  const listed = manifest.parameters
    .map((p) => p?.name)
    .sort()
    .join(", ");
  if (listed !== expected) fail(json, `lists the parameters [${listed}]; a '${manifest.config.kind}' model has [${expected}]`);
  let total = 0;
  for (const { name, shape } of manifest.parameters) {
    const v = named[name];
    if (!Array.isArray(shape) || v.shape.join() !== shape.join())
      fail(json, `gives ${name} the shape ${JSON.stringify(shape)}; the model's is ${JSON.stringify(v.shape)}`);
    total += v.size;
  }
  if (total !== weights.length) fail(binFile, `holds ${weights.length} numbers; the manifest describes ${total}`);
  let o = 0;
  for (const { name } of manifest.parameters) {
    const v = named[name];
    tf.tidy(() => v.assign(tf.tensor(weights.subarray(o, o + v.size), v.shape)));
    o += v.size;
  }
}
