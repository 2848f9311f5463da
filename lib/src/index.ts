// attention-lib: the course's shared library. Notebooks, tests and benchmarks all import it by name.
export { setup, chosenBackend, BACKENDS, type BackendName, type SetupOptions } from "./backend";
export {
  Generator,
  defaultGenerator,
  manualSeed,
  rand,
  randValues,
  uniformValues,
  uniformLinear,
  dropoutScaleValues,
} from "./random";
export { print, formatTensor, formatValues, installTensorPrinting, type PrintOptions } from "./print";
export {
  heatmap,
  barChart,
  lineChart,
  vectorPlot,
  heatmapFrames,
  project3d,
  toMatrix,
  toVector,
  type Figure,
  type HeatmapOptions,
  type ChartOptions,
  type VectorPlotOptions,
  type Line,
  type Matrix,
  type Vector,
} from "./plots/figures";
export {
  show,
  LivePlot,
  inKernel,
  figureBundle,
  figureHtml,
  figureText,
  plotlyLibrary,
  plotlyScriptHtml,
  loadPlotLibrary,
  FIGURE_CLASS,
  PLOTLY_PACKAGE,
} from "./plots/show";
export { LiveLineChart } from "./plots/live";
export { checkInputs, checkTensor, checkRank, shapeStr } from "./checks";
export { normalizeBySum, softmaxNaive, softmax } from "./attention/softmax";
export { attentionScores, attentionWeights, contextVectors } from "./attention/scores";
export { simpleSelfAttention, type SimpleAttention } from "./attention/simple";
export { scaledDotProductAttention, scalingExperiment, type ScaledAttention, type ScalingExperiment } from "./attention/scaled";
export { type Module, countParameters } from "./attention/module";
export { Linear, variableFrom } from "./attention/linear";
export { SelfAttentionV1, SelfAttentionV2, type AttentionParts } from "./attention/selfattention";
export { checkWeightCopy, checkTwoDimensionalWrapper } from "./attention/exercises";
export { EXAMPLE_TOKENS, EXAMPLE_EMBEDDINGS, exampleInputs } from "./example";
export { lowerTriangle, causalMask, maskAndRenormalize, maskFuture, causalSoftmax } from "./attention/causal";
export { dropout, type DropoutOptions } from "./attention/dropout";
export { headDim, splitHeads, mergeHeads } from "./attention/heads";
export {
  CausalAttention,
  MultiHeadAttentionWrapper,
  MultiHeadAttention,
  multiHeadFromWrapper,
  type CausalOptions,
  type CausalParts,
} from "./attention/causalattention";
export { headHeatmaps, headView } from "./plots/attention";
export { sentencePair, generatePairs, generateCorpus, type SentencePair } from "./seq2seq/grammar";
export { Vocabulary, tokenize, PAD, BOS, EOS, UNK, SPECIALS } from "./seq2seq/vocab";
export { encodePair, makeBatch, makeBatches, toTensors, type Batch, type BatchTensors, type EncodedPair } from "./seq2seq/batch";
export { Embedding, GRU, uniformVariable } from "./seq2seq/layers";
export { Seq2Seq, maskedCrossEntropy, type Seq2SeqConfig, type DecoderKind, type DecoderOutput } from "./seq2seq/model";
export { corpusBleu, tokenAccuracy, type BleuDetail } from "./seq2seq/metrics";
export { clipByGlobalNorm, trainStep } from "./seq2seq/train";
export { SPLITS, writeTsv, readTsv, saveCorpus, loadCorpus, buildVocabularies, encodeAll, type Split } from "./seq2seq/data";
export { saveCheckpoint, loadCheckpoint, type Checkpoint } from "./seq2seq/checkpoint";
export {
  Trainer,
  translatePairs,
  translateSentence,
  teacherForcedAttention,
  scoreByLength,
  LENGTH_BUCKETS,
  type TrainOptions,
  type Translation,
  type LengthBucket,
} from "./seq2seq/experiment";
export { installWasmKernels } from "./wasm-kernels";
export { principalComponents } from "./plots/pca";
