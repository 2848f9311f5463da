// The little of Node's `process` that JupyterLab's bundled dependencies read in the page (path-browserify's cwd()).
export const process = { env: { NODE_ENV: "production" }, cwd: () => "/", platform: "browser", browser: true, argv: [], versions: {} };
