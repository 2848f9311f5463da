// Save and load trained translators: NAME.json (config, vocabularies, parameter shapes, notes) + NAME.bin
// (the parameters as little-endian float32, in the order of the manifest).
import * as tf from "@tensorflow/tfjs";
import { existsSync, readFileSync, writeFileSync, mkdirSync } from "fs";
import { dirname } from "path";
import { Seq2Seq, type Seq2SeqConfig } from "./model";
import { Vocabulary } from "./vocab";

export interface Checkpoint {
  model: Seq2Seq;
  vocabs: { src: Vocabulary; tgt: Vocabulary };
  notes: Record<string, unknown>;
}

interface Manifest {
  format: "attention-course-seq2seq/1";
  config: Seq2SeqConfig;
  vocabs: { src: string[]; tgt: string[] };
  parameters: { name: string; shape: number[] }[];
  notes: Record<string, unknown>;
}

/** Write `base`.json and `base`.bin. */
export function saveCheckpoint(base: string, model: Seq2Seq, vocabs: { src: Vocabulary; tgt: Vocabulary }, notes: Record<string, unknown> = {}): void {
  mkdirSync(dirname(base), { recursive: true });
  const named = Object.entries(model.namedParameters());
  const manifest: Manifest = {
    format: "attention-course-seq2seq/1",
    config: model.config,
    vocabs: { src: vocabs.src.tokens, tgt: vocabs.tgt.tokens },
    parameters: named.map(([name, v]) => ({ name, shape: v.shape })),
    notes,
  };
  const total = named.reduce((n, [, v]) => n + v.size, 0);
  const data = new Float32Array(total);
  let o = 0;
  for (const [, v] of named) {
    data.set(v.dataSync() as Float32Array, o);
    o += v.size;
  }
  writeFileSync(`${base}.json`, JSON.stringify(manifest, null, 1) + "\n");
  writeFileSync(`${base}.bin`, Buffer.from(data.buffer));
}

/** Read a checkpoint written by saveCheckpoint. */
export function loadCheckpoint(base: string): Checkpoint {
  for (const f of [`${base}.json`, `${base}.bin`]) {
    if (!existsSync(f)) throw new Error(`checkpoint file not found: ${f}. Train it with \`npm run length-experiment\` (see data/README.md).`);
  }
  const manifest = JSON.parse(readFileSync(`${base}.json`, "utf8")) as Manifest;
  if (manifest.format !== "attention-course-seq2seq/1") throw new Error(`${base}.json: unknown checkpoint format ${manifest.format}`);
  const buf = readFileSync(`${base}.bin`);
  const data = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const model = new Seq2Seq(manifest.config);
  const named = model.namedParameters();
  let o = 0;
  for (const { name, shape } of manifest.parameters) {
    const v = named[name];
    const size = shape.reduce((a, b) => a * b, 1);
    if (!v || v.shape.join() !== shape.join()) {
      model.dispose();
      throw new Error(`${base}: parameter ${name} ${JSON.stringify(shape)} does not fit the model (${v ? JSON.stringify(v.shape) : "missing"})`);
    }
    if (o + size > data.length) {
      model.dispose();
      throw new Error(`${base}.bin is too short: ${data.length} numbers, the manifest needs more`);
    }
    tf.tidy(() => v.assign(tf.tensor(data.subarray(o, o + size), shape)));
    o += size;
  }
  if (o !== data.length) {
    model.dispose();
    throw new Error(`${base}.bin holds ${data.length} numbers, the manifest describes ${o}`);
  }
  return { model, vocabs: { src: new Vocabulary(manifest.vocabs.src), tgt: new Vocabulary(manifest.vocabs.tgt) }, notes: manifest.notes };
}
