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
