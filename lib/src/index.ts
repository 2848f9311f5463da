// attention-lib: the course's shared library. Notebooks, tests and benchmarks all import it by name.
// The public API, grouped by the notebook that introduces each name. (What only the course's own tests,
// scripts and benchmarks need is in "attention-lib/internal".)

// 00 How to use this course: set up tfjs, print tensors, draw figures, the running example.
export { setup, type BackendName, type SetupOptions } from "./setup";
export { print, type PrintOptions } from "./core/print";
export { show } from "./plots/show";
export { LiveLineChart } from "./plots/live";
export {
  heatmap,
  barChart,
  type Figure,
  type HeatmapOptions,
  type ChartOptions,
  type VectorPlotOptions,
  type Line,
  type Matrix,
  type Vector,
} from "./plots/figures";
export { EXAMPLE_TOKENS, EXAMPLE_EMBEDDINGS, exampleInputs } from "./core/example";

// 01 The limits of RNN encoder-decoders: the corpus, a translator, training, checkpoints, BLEU by length.
export { type SentencePair } from "./seq2seq/grammar";
export { lineChart } from "./plots/figures";
export { loadCorpus, buildVocabularies, encodeAll, type Split } from "./seq2seq/data";
export { type EncodedPair } from "./seq2seq/batch";
export { Seq2Seq, type Seq2SeqConfig, type DecoderKind, type DecoderOutput } from "./seq2seq/model";
export { Trainer, type TrainOptions } from "./seq2seq/train";
export { loadCheckpoint, type Checkpoint } from "./seq2seq/checkpoint";
export { translatePairs, scoreByLength, LENGTH_BUCKETS, type Translation, type LengthBucket } from "./seq2seq/experiment";
export { principalComponents } from "./plots/pca";
export { checkEncoderLoop, checkUnigramPrecision } from "./exercises/01-rnn-limits";

// 02 Bahdanau attention: the decoder looks back; alignments as heatmaps.
export { translateSentence } from "./seq2seq/experiment";
export { heatmapFrames } from "./plots/figures";
export { checkDotProductWeights, checkAdditiveStep } from "./exercises/02-bahdanau";

// 03 Self-attention without weights: scores, softmax, context vectors.
export { normalizeBySum, softmaxNaive, softmax } from "./attention/softmax";
export { attentionScores, attentionWeights, contextVectors } from "./attention/scores";
export { simpleSelfAttention, type SimpleAttention } from "./attention/simple";
export { vectorPlot } from "./plots/figures";
export { checkTemperatureContext, checkPaddedSelfAttention } from "./exercises/03-self-attention";

// 04 Self-attention with trainable weights: the seeded generator, queries/keys/values, scaling.
export { manualSeed, rand } from "./core/random";
export { ModuleBase, type Module } from "./core/module";
export { Linear } from "./core/linear";
export { scaledDotProductAttention, scalingExperiment, type ScaledAttention, type ScalingExperiment } from "./attention/scaled";
export { SelfAttentionV1, SelfAttentionV2, type AttentionParts } from "./attention/selfattention";
export { checkWeightCopy, checkScaledAttentionFunction } from "./exercises/04-trainable-weights";

// 05 Causal attention: masking the future, dropout on the weights.
export { lowerTriangle, causalMask, maskAndRenormalize, maskFuture, causalSoftmax } from "./attention/causal";
export { dropout, type DropoutOptions } from "./attention/dropout";
export { CausalAttention, type CausalOptions, type CausalParts } from "./attention/causalattention";
export { checkCausalMask, checkCausalModule, checkFutureTest, checkDropoutTest, suspectCausalAttention, suspectDropout } from "./exercises/05-causal";

// 06 Multi-head attention: stacked heads, then the weight-split module.
export { MultiHeadAttentionWrapper } from "./attention/causalattention";
export { MultiHeadAttention, multiHeadFromWrapper, type MultiHeadOptions, type AttendOptions } from "./attention/multihead";
export { Generator } from "./core/random";
export { countParameters } from "./core/module";
export { headDimOf, splitHeads, mergeHeads } from "./attention/heads";
export { headHeatmaps, headView } from "./plots/attention";
export {
  checkTwoDimensionalWrapper,
  checkSplitHeads,
  checkAttentionParameterCount,
  checkMultiHeadModule,
  checkHeadLayoutTest,
  suspectMultiHeadAttention,
} from "./exercises/06-multi-head";

// 07 Efficient attention (bonus): the same multi-head attention, fused, and without the T x T matrix.
export { FusedMultiHeadAttention, type AttentionImplementation } from "./attention/fast/fused";
export { MemoryEfficientAttention, onlineSoftmaxSteps, type MemoryEfficientOptions } from "./attention/fast/memoryefficient";

// 08 Self-attention takes over: positions, the Transformer translator, raced against 01-02's.
export { sinusoidalPositions, LearnedPositions, applyRope, ropeAngles, POSITION_SCHEMES, type PositionScheme } from "./attention/positions";
export { LayerNorm, FeedForward, EncoderBlock, DecoderBlock } from "./transformer/blocks";
export { TransformerTranslator, type TransformerConfig } from "./transformer/model";
import "./fast/wings"; // the speed wings register their fast losses for the Trainer
export { longSentences, loadLengthExperiment, type LengthExperimentResults, type LengthResultBucket } from "./seq2seq/data";
export { LONG_BUCKETS } from "./seq2seq/experiment";
export { type Translator } from "./seq2seq/translator";
export { loadLengthSeeds, loadRace, loadBench, type LengthSeedsResults, type RaceResults, type BenchCase } from "./transformer/results";
export { checkSinusoidalEncoding, checkRotaryEmbedding, checkDecoderBlock } from "./exercises/08-positions";

// 09 Attention in today's LLMs (bonus): the KV cache, grouped-query attention, sliding windows.
export { kvCacheBytesPerToken } from "./attention/kvcache";
export { slidingWindowMask } from "./attention/causal";
export { GPT, type GPTConfig } from "./gpt/model";
export { GPTBlock, type GPTBlockSizes } from "./gpt/block";
export { generate, sampleNext, nextWordProbabilities, type GenerateOptions, type SampleOptions } from "./gpt/generate";
export { languageModelPairs, languageModelLoss } from "./gpt/data";
export { loadGptVariants, type GPTVariantsResults, type GPTVariantResult } from "./gpt/results";
export {
  checkKvCacheBytes,
  checkKvHeadOf,
  checkWindowMask,
  checkCacheBytes,
  checkRepeatKvHeads,
  checkDilatedWindowMask,
  checkKvCacheTest,
  suspectKvCache,
  type CacheShape,
  type CachedAttention,
} from "./exercises/09-todays-llms";

// For your own code: what the lib is built from and no notebook calls by name (the notebooks use it through
// the names above).
export { formatTensor } from "./core/print";
export { LivePlot } from "./plots/show";
export { Vocabulary, tokenize, PAD, BOS, EOS, UNK, SPECIALS } from "./seq2seq/vocab";
export { SPLITS } from "./seq2seq/data";
export { corpusBleu, type BleuDetail } from "./seq2seq/metrics";
