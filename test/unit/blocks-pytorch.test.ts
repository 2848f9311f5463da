// Notebook 08's blocks against PyTorch's own layers: nn.TransformerEncoderLayer and nn.TransformerDecoderLayer
// (pre-norm, ReLU, no dropout) with the same weights give the same numbers (test/fixtures/blocks-reference.json).
import * as assert from "assert";
import * as tf from "@tensorflow/tfjs";
import { readFileSync } from "fs";
import { join } from "path";
import { setup, LayerNorm, FeedForward, EncoderBlock, DecoderBlock, Generator } from "attention-lib";
import { assertClose, data, ROOT } from "../helpers";

type Ref = { shape: number[]; data: number[] };
type Weights = Record<string, Ref>;
const REF = JSON.parse(readFileSync(join(ROOT, "test", "fixtures", "blocks-reference.json"), "utf8")) as {
  torch: string;
  sizes: { d: number; heads: number; hidden: number; batch: number; source: number; target: number };
  layer_norm_eps: number;
  encoder: { weights: Weights; src: Ref; src_key_padding_mask: Ref; output: Ref };
  decoder: { weights: Weights; tgt: Ref; memory: Ref; tgt_mask: Ref; memory_key_padding_mask: Ref; output: Ref };
  layer_norm: { output: Ref };
  feed_forward: { output: Ref };
};
const t = (r: Ref) => tf.tensor(r.data, r.shape);
const TOL = 1e-5;

// The weight copy: PyTorch's names -> the blocks' public fields. Linear keeps PyTorch's layout ([d_out, d_in]), so
// no transpose; in_proj_weight [3d, d] holds the query, key and value projections stacked by rows, in that order.
type Attention = EncoderBlock["selfAttention"];
function put(v: tf.Variable | null, r: Ref, name: string): void {
  assert.ok(v, `${name}: the block has no such parameter`);
  assert.deepStrictEqual(v.shape, r.shape, `${name}: shape`);
  v.assign(t(r));
}
function copyNorm(norm: LayerNorm, w: Weights, name: string): void {
  put(norm.scale, w[`${name}.weight`], `${name}.weight`);
  put(norm.shift, w[`${name}.bias`], `${name}.bias`);
}
function copyFeedForward(ff: FeedForward, w: Weights): void {
  put(ff.up.weight, w["linear1.weight"], "linear1.weight");
  put(ff.up.bias, w["linear1.bias"], "linear1.bias");
  put(ff.down.weight, w["linear2.weight"], "linear2.weight");
  put(ff.down.bias, w["linear2.bias"], "linear2.bias");
}
function copyAttention(att: Attention, w: Weights, name: string): void {
  const [W, bias] = [t(w[`${name}.in_proj_weight`]), t(w[`${name}.in_proj_bias`])]; // [3d, d], [3d]
  const Ws = tf.split(W, 3, 0);
  const bs = tf.split(bias, 3, 0);
  [att.W_query, att.W_key, att.W_value].forEach((lin, i) => {
    lin.weight.assign(Ws[i]);
    assert.ok(lin.bias, `${name}: the query/key/value projections need biases`);
    lin.bias.assign(bs[i]);
  });
  put(att.out_proj.weight, w[`${name}.out_proj.weight`], `${name}.out_proj.weight`);
  put(att.out_proj.bias, w[`${name}.out_proj.bias`], `${name}.out_proj.bias`);
}

// The blocks' sizes, no dropout. contextLength and rope are for the blocks built on MultiHeadAttention (which need
// them); a variable rather than a literal, so the blocks that take only d, heads, hidden and dropout accept it too.
const SIZES = { d: REF.sizes.d, heads: REF.sizes.heads, hidden: REF.sizes.hidden, dropout: 0, contextLength: 16, rope: false };

function encoderFromPyTorch(): EncoderBlock {
  const block = new EncoderBlock(SIZES, new Generator(1)).eval();
  const w = REF.encoder.weights;
  copyAttention(block.selfAttention, w, "self_attn");
  copyNorm(block.norm1, w, "norm1");
  copyNorm(block.norm2, w, "norm2");
  copyFeedForward(block.feedForward, w);
  return block;
}

function decoderFromPyTorch(): DecoderBlock {
  const block = new DecoderBlock(SIZES, new Generator(1)).eval();
  const w = REF.decoder.weights;
  copyAttention(block.selfAttention, w, "self_attn");
  copyAttention(block.crossAttention, w, "multihead_attn");
  copyNorm(block.norm1, w, "norm1");
  copyNorm(block.norm2, w, "norm2");
  copyNorm(block.norm3, w, "norm3");
  copyFeedForward(block.feedForward, w);
  return block;
}

// PyTorch's padding mask says 1 = padding; the course's keyMask says 1 = token.
const keyMask = (pad: Ref) => tf.sub(1, t(pad));

describe(`the blocks against PyTorch ${REF.torch} (notebook 08)`, function () {
  this.timeout(60000);
  before(() => setup({ backend: "wasm", verbose: false }));

  it("every PyTorch weight has a place in the blocks, and the blocks have no other", () => {
    const enc = encoderFromPyTorch();
    const dec = decoderFromPyTorch();
    const count = (w: Weights) => Object.values(w).reduce((n, r) => n + r.data.length, 0);
    const size = (ps: tf.Variable[]) => ps.reduce((n, p) => n + p.size, 0);
    assert.strictEqual(size(enc.parameters()), count(REF.encoder.weights));
    assert.strictEqual(size(dec.parameters()), count(REF.decoder.weights));
    enc.dispose();
    dec.dispose();
  });

  it("LayerNorm: PyTorch's eps and PyTorch's numbers (the encoder's norm1 on the source)", () => {
    const norm = new LayerNorm(REF.sizes.d);
    assert.strictEqual(norm.eps, REF.layer_norm_eps);
    copyNorm(norm, REF.encoder.weights, "norm1");
    assertClose(data(norm.forward(t(REF.encoder.src))), REF.layer_norm.output.data, TOL, "layer norm");
    norm.dispose();
  });

  it("FeedForward: linear2(relu(linear1(x))), PyTorch's numbers", () => {
    const ff = new FeedForward(REF.sizes.d, REF.sizes.hidden, new Generator(1));
    copyFeedForward(ff, REF.encoder.weights);
    assertClose(data(ff.forward(t(REF.encoder.src))), REF.feed_forward.output.data, TOL, "feed-forward");
    ff.dispose();
  });

  it("EncoderBlock = nn.TransformerEncoderLayer(norm_first) with src_key_padding_mask, padded positions included", () => {
    const { batch, source, d } = REF.sizes;
    const block = encoderFromPyTorch();
    const mask = keyMask(REF.encoder.src_key_padding_mask);
    assert.deepStrictEqual(data(mask), [1, 1, 1, 1, 1, 1, 1, 1, 0, 0], "the fixture pads the last two tokens of sequence 2");
    const y = block.forward(t(REF.encoder.src), mask);
    assert.deepStrictEqual(y.shape, [batch, source, d]);
    // The padded tokens' own rows are compared too: as queries they attend to the real tokens in both libraries.
    assertClose(data(y), REF.encoder.output.data, TOL, "encoder output");
    block.dispose();
  });

  it("DecoderBlock = nn.TransformerDecoderLayer(norm_first) with a causal tgt_mask and memory_key_padding_mask", () => {
    const { batch, target, d } = REF.sizes;
    // The fixture's tgt_mask hides exactly the keys after each query: the course's `causal`.
    const causal = Array.from({ length: target * target }, (_, k) => (k % target > Math.floor(k / target) ? 1 : 0));
    assert.deepStrictEqual(REF.decoder.tgt_mask.data, causal);
    const block = decoderFromPyTorch();
    const y = block.forward(t(REF.decoder.tgt), t(REF.decoder.memory), keyMask(REF.decoder.memory_key_padding_mask));
    assert.deepStrictEqual(y.shape, [batch, target, d]);
    assertClose(data(y), REF.decoder.output.data, TOL, "decoder output");
    block.dispose();
  });

  it("the copy matters: the blocks' own initial weights give other numbers", () => {
    const block = new EncoderBlock(SIZES, new Generator(1)).eval();
    const y = data(block.forward(t(REF.encoder.src), keyMask(REF.encoder.src_key_padding_mask)));
    const worst = Math.max(...y.map((v, i) => Math.abs(v - REF.encoder.output.data[i])));
    assert.ok(worst > 0.1, `the uncopied block is off by only ${worst}`);
    block.dispose();
  });
});
