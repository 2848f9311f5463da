// Under Stryker the tests run in a sandbox copy of the project whose node_modules is a link to the real one,
// and node_modules/attention-lib points at the real lib/. This sends "attention-lib" to the sandbox's own,
// mutated, build instead.
const Module = require("module");
const path = require("path");
const lib = path.join(__dirname, "..", "..", "lib");
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === "attention-lib") return path.join(lib, "dist", "index.js");
  if (request === "attention-lib/internal") return path.join(lib, "dist", "internal.js");
  return resolve.call(this, request, ...rest);
};
