// Notebook 08: what the Transformer's decoder reads of the source. translate returns the cross-attention of every
// decoder block and head; DecoderBlock.explain gives the weights beside the output.
import * as assert from "assert";
import * as tf from "@tensorflow/tfjs";
import { setup, TransformerTranslator, DecoderBlock, Generator, buildVocabularies, encodeAll, Trainer } from "attention-lib";
import { generatePairs, makeBatch, toTensors } from "attention-lib/internal";
import { assertClose, data, noLeak, refuses } from "../helpers";

describe("the Transformer's cross-attention (notebook 08)", function () {
  this.timeout(120000);
  before(() => setup({ backend: "wasm", verbose: false }));

  const pairs = generatePairs(200, 5);
  const vocabs = buildVocabularies(pairs);
  const encoded = encodeAll(pairs, vocabs);
  const model = (layers: number, heads: number, positions: "sinusoidal" | "rope" = "sinusoidal") =>
    new TransformerTranslator({
      kind: "transformer",
      srcVocab: vocabs.src.size,
      tgtVocab: vocabs.tgt.size,
      d: 12,
      heads,
      layers,
      positions,
      seed: 3,
    });

  it("DecoderBlock.explain: the same output as forward, and weights [b, heads, T, S] that sum to 1 and skip padding", () => {
    const block = new DecoderBlock({ d: 8, heads: 2, hidden: 16, dropout: 0, contextLength: 16, rope: false }, new Generator(4));
    const g = new Generator(5);
    const x = tf.tensor3d(
      Array.from({ length: 3 * 5 * 8 }, () => g.nextFloat64() - 0.5),
      [3, 5, 8],
    );
    const memory = tf.tensor3d(
      Array.from({ length: 3 * 7 * 8 }, () => g.nextFloat64() - 0.5),
      [3, 7, 8],
    );
    const mask = tf.tensor2d([
      [1, 1, 1, 1, 1, 1, 1],
      [1, 1, 1, 1, 0, 0, 0],
      [1, 1, 0, 0, 0, 0, 0],
    ]);
    const out = block.forward(x, memory, mask);
    const parts = noLeak(() => block.explain(x, memory, mask), 2);
    assertClose(data(parts.output), data(out), 1e-6, "output");
    assert.deepStrictEqual(parts.crossWeights.shape, [3, 2, 5, 7]);
    const w = parts.crossWeights.arraySync() as number[][][][];
    const visible = [7, 4, 2];
    w.forEach((heads, b) =>
      heads.forEach((rows) =>
        rows.forEach((row) => {
          assert.ok(Math.abs(row.reduce((a, v) => a + v, 0) - 1) < 1e-5, "a row sums to 1");
          assert.ok(
            row.slice(visible[b]).every((v) => v === 0),
            `sentence ${b}: no weight on padding`,
          );
        }),
      ),
    );
    tf.dispose([x, memory, mask, out, parts.output, parts.crossWeights]);
    block.dispose();
  });

  it("translate returns every block's and head's cross-attention, one row per word written plus <eos>; attention is the last block's mean over heads; the cache changes nothing", async () => {
    const m = model(2, 3);
    const trainer = new Trainer(m, encoded, { steps: 20, batchSize: 16 });
    await trainer.run(); // a little training, so that some sentences end with <eos>
    trainer.dispose();
    const b = toTensors(makeBatch(encoded.slice(0, 4)));
    const S = b.src.shape[1];
    const plain = noLeak(() => m.translate(b.src, b.srcMask, { maxLen: 9, attention: true }));
    const cached = m.translate(b.src, b.srcMask, { maxLen: 9, cache: true, attention: true });
    assert.deepStrictEqual(cached.ids, plain.ids);
    const without = m.translate(b.src, b.srcMask, { maxLen: 9 });
    assert.deepStrictEqual(without, { ids: plain.ids, attention: null, crossAttention: null }, "no attention unless asked");
    refuses(
      () => m.translate(b.src, b.srcMask, { attention: "yes" as never }),
      /TransformerTranslator.translate: the option attention must be true or false/,
    );
    const srcLens = Array.from(b.srcMask.sum(1).dataSync());
    plain.crossAttention!.forEach((blocks, i) => {
      const rows = plain.attention![i].length;
      assert.ok(rows === plain.ids[i].length || rows === plain.ids[i].length + 1, `sentence ${i}: ${rows} rows for ${plain.ids[i].length} words`);
      assert.strictEqual(blocks.length, 2, "two decoder blocks");
      for (const heads of blocks) {
        assert.strictEqual(heads.length, 3, "three heads");
        for (const h of heads) {
          assert.strictEqual(h.length, rows);
          for (const row of h) {
            assert.strictEqual(row.length, S);
            assert.ok(Math.abs(row.reduce((a, v) => a + v, 0) - 1) < 1e-5);
            assert.ok(
              row.slice(srcLens[i]).every((v) => v === 0),
              "padding gets no weight",
            );
          }
        }
      }
      const last = blocks[1];
      const mean = last[0].map((row, r) => row.map((_, c) => (last[0][r][c] + last[1][r][c] + last[2][r][c]) / 3));
      assertClose(plain.attention![i].flat(), mean.flat(), 1e-6, "attention = mean over the last block's heads");
      assertClose(cached.crossAttention![i].flat(3), blocks.flat(3), 1e-5, "cache");
    });
    // The same weights under teacher forcing on the words the decoder read (<bos> and its own words).
    const i = 0;
    const read = [1, ...plain.ids[i]].slice(0, plain.attention![i].length);
    const src0 = b.src.slice([0, 0], [1, S]) as tf.Tensor2D,
      mask0 = b.srcMask.slice([0, 0], [1, S]) as tf.Tensor2D;
    const tgt = tf.tensor2d([read], [1, read.length], "int32");
    const weights = noLeak(() => m.crossAttention(src0, mask0, tgt), 2);
    assert.deepStrictEqual(
      weights.map((w) => w.shape),
      [
        [1, 3, read.length, S],
        [1, 3, read.length, S],
      ],
    );
    assertClose(weights.map((w) => Array.from(w.dataSync())).flat(), plain.crossAttention![i].flat(3), 1e-5, "teacher forcing");
    refuses(() => m.crossAttention(b.src, b.srcMask, tgt), /TransformerTranslator.crossAttention: tgtIn has 1 sentences and src 4/);
    tf.dispose([...weights, src0, mask0, tgt, b]);
    m.dispose();
  });
});
