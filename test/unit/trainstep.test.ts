// trainStep checks a batch where it comes in, as loss() does, also when a speed wing computes the loss (the wings
// compute on tensors they trust: a batch they are not given checked would train on garbage or trap the backend).
import * as tf from "@tensorflow/tfjs";
import { setup, Seq2Seq, TransformerTranslator, GPT, type Translator } from "attention-lib";
import { makeBatch, toTensors, trainStep, type BatchTensors } from "attention-lib/internal";
import { refuses } from "../helpers";

describe("trainStep: the batch checked on the fast path as loss() checks it", function () {
  this.timeout(60000);
  before(() => setup({ backend: "wasm", verbose: false }));

  const batchOf = (src: number[][], tgt: number[][]) => toTensors(makeBatch(src.map((s, i) => ({ src: s, tgt: tgt[i] }))));
  const models: [string, () => Translator][] = [
    ["Seq2Seq", () => new Seq2Seq({ kind: "bahdanau", srcVocab: 12, tgtVocab: 12, embedding: 4, hidden: 8, seed: 1 })],
    [
      "TransformerTranslator",
      () =>
        new TransformerTranslator({
          kind: "transformer",
          srcVocab: 12,
          tgtVocab: 12,
          d: 8,
          heads: 2,
          layers: 1,
          dropout: 0,
          contextLength: 6,
          seed: 1,
        }),
    ],
    ["GPT", () => new GPT({ kind: "gpt", srcVocab: 12, tgtVocab: 12, d: 8, heads: 2, layers: 1, dropout: 0, contextLength: 6, seed: 1 })],
  ];

  for (const [name, make] of models) {
    it(`${name}: ids outside the vocabulary are refused before the step, leaking nothing, with the model left as it was`, () => {
      const m = make();
      const before = m.parameters().map((p) => Array.from(p.dataSync()));
      const bad = batchOf([[4, 5, 40, 2]], [[4, 30, 2]]);
      const optimizer = tf.train.adam(1e-3);
      refuses(() => trainStep(m, optimizer, bad), /(40|30)/);
      m.parameters().forEach((p, i) => {
        if (Array.from(p.dataSync()).some((v, j) => v !== before[i][j])) throw new Error(`${name}: a parameter changed`);
      });
      tf.dispose(bad as unknown as tf.Tensor[]);
      optimizer.dispose();
      m.dispose();
    });
  }

  it("TransformerTranslator and GPT: a sequence longer than the attention's context length is refused by trainStep too", () => {
    const long = Array.from({ length: 9 }, () => 4);
    for (const [name, make] of models.slice(1)) {
      const m = make();
      const b: BatchTensors = batchOf([[...long, 2]], [[...long, 2]]);
      const optimizer = tf.train.adam(1e-3);
      refuses(() => trainStep(m, optimizer, b), new RegExp(`${name === "GPT" ? "GPT" : "TransformerTranslator"}.loss: .*(contextLength)`));
      tf.dispose(b as unknown as tf.Tensor[]);
      optimizer.dispose();
      m.dispose();
    }
  });
});
