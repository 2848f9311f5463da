// attention-lib/internal: what the course's own tests, scripts and benchmarks use beyond the public API
// ("attention-lib"). Notebooks import only the public API.

// Backend and generator details
export { chosenBackend, BACKENDS } from "./setup";
export { defaultGenerator, randValues, uniformValues, uniformLinear, dropoutScaleValues } from "./core/random";
export { formatValues, installTensorPrinting } from "./core/print";
export { checkInputs, checkTensor, checkRank, shapeStr } from "./core/checks";
export { variableFrom } from "./core/linear";

// Where the library runs: Node's files, hashes and SIGINT, or what the browser course's kernel installs
export { platform, setPlatform, nodePlatform, type Platform, type PlotlySource } from "./core/platform";

// How figures reach each Jupyter front end
export {
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
export { project3d, toMatrix, toVector } from "./plots/figures";

// The translators' parts, data pipeline and training step
export { sentencePair, generatePairs, generateCorpus } from "./seq2seq/grammar";
export { PAD_ID, BOS_ID, EOS_ID, UNK_ID } from "./seq2seq/vocab";
export { encodePair, makeBatch, makeBatches, toTensors, type Batch, type BatchTensors } from "./seq2seq/batch";
export { writeTsv, readTsv, saveCorpus } from "./seq2seq/data";
export { Embedding, GRU, uniformVariable } from "./seq2seq/layers";
export { additiveAttention, paddingBias, maskedCrossEntropy, type EncoderMemory } from "./seq2seq/model";
export { tokenAccuracy } from "./seq2seq/metrics";
export { teacherForcedAttention } from "./seq2seq/experiment"; // the length experiment's alignment snapshots
export { clipByGlobalNorm, trainStep, type StepOptions } from "./seq2seq/train";
export { saveCheckpoint } from "./seq2seq/checkpoint";

// The speed wings (fast/, seq2seq/fast/, transformer/fast/), tested equal to the readable models
export { fastForward, fastLoss, fastPathAvailable, withFastKernels, TESTED_TFJS } from "./seq2seq/fast";
export { FAST_LOSSES, clipAndAdam } from "./fast/training";
export * as transformerWing from "./transformer/fast";
export * as gptWing from "./gpt/fast";
export { gruCellFused, gruCellGradFused, registerGruKernels } from "./seq2seq/fast/grukernels";
