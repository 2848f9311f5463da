// jupyterlab-plotly ships JavaScript only; the harness uses its renderer factory as JupyterLab does.
declare module "jupyterlab-plotly/lib/plotly-renderer.js" {
  export const rendererFactory: unknown;
}
