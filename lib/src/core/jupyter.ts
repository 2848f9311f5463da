// The Jupyter kernel (tslab) this process may be: where figures and live updates go, and whether there is one.
// ("kernel" alone means a tfjs op elsewhere in the lib: core/wasmkernels.ts.)
export type Bundle = Record<string, unknown>;
export type WriteDisplayData = (msg: { data: Bundle; metadata: object; transient: object }, update: boolean) => void;

/** tslab's display channel, if this process is a tslab kernel that is running a cell. */
export function jupyterDisplayChannel(): WriteDisplayData | null {
  // Look the module up in require's cache instead of requiring it: loading tslab outside a
  // kernel (mocha, node scripts) would pull in its TypeScript compiler for nothing.
  for (const [key, mod] of Object.entries(require.cache)) {
    if (mod && /[\\/]tslab[\\/]dist[\\/]jupyter\.js$/.test(key)) {
      const fn = (mod.exports as { lastWriteDisplayData?: WriteDisplayData }).lastWriteDisplayData;
      if (typeof fn === "function") return fn;
    }
  }
  return null;
}

/** True inside a tslab notebook kernel (figures can be shown), false under mocha or plain node. */
export function inKernel(): boolean {
  return jupyterDisplayChannel() !== null;
}
