// Runs in the browser (bundled by esbuild in jupyterlab.test.ts): JupyterLab 4's own output rendering,
// @jupyterlab/rendermime + @jupyterlab/outputarea, as a notebook's code cells use it, optionally with
// jupyterlab-plotly's MIME renderer (what the plotly extension adds to JupyterLab).
import { RenderMimeRegistry, standardRendererFactories } from "@jupyterlab/rendermime";
import { OutputArea, OutputAreaModel } from "@jupyterlab/outputarea";
import { Widget } from "@lumino/widgets";
import { rendererFactory as plotlyFactory } from "jupyterlab-plotly/lib/plotly-renderer.js";

type Output = Record<string, unknown>;

const areas: OutputArea[] = [];

function registry(plotly: boolean): RenderMimeRegistry {
  const rm = new RenderMimeRegistry({ initialFactories: standardRendererFactories });
  if (plotly) rm.addFactory(plotlyFactory as never, 0); // the extension's rank
  return rm;
}

/** What JupyterLab would save of the outputs rendered so far: their JSON, in bytes. */
const savedBytes = (): number => areas.reduce((n, a) => n + JSON.stringify(a.model.toJSON()).length, 0);
(window as any).savedBytes = savedBytes;

/**
 * Render each cell's outputs in its own OutputArea, as JupyterLab does. Returns the MIME type chosen per
 * output, and the size of the outputs as loaded (compare with savedBytes() once everything has drawn).
 */
(window as any).renderCells = (cells: Output[][], options: { plotly: boolean; trusted: boolean }): { mimes: string[][]; loadedBytes: number } => {
  const rm = registry(options.plotly);
  const mimes = cells.map((outputs) => {
    const model = new OutputAreaModel({ values: outputs as never, trusted: options.trusted });
    const area = new OutputArea({ model, rendermime: rm });
    area.addClass("cell-outputs");
    Widget.attach(area, document.body);
    areas.push(area);
    return outputs.map((o) => (o.data ? rm.preferredMimeType(o.data as never, options.trusted ? "any" : "ensure") ?? "none" : String(o.output_type)));
  });
  return { mimes, loadedBytes: savedBytes() };
};

/** What an update_display_data does in JupyterLab: the output with that display id is replaced in its model. */
(window as any).updateOutput = (area: number, index: number, output: Output): void => {
  areas[area].model.set(index, output as never);
};
