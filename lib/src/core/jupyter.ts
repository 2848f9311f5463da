// The Jupyter kernel this process may be (tslab, or the browser course's kernel): where figures and live updates
// go, and whether there is one. ("kernel" alone means a tfjs op elsewhere in the lib: fast/wasmkernels.ts.)
import { platform, type WriteDisplayData } from "./platform";

export type { Bundle, WriteDisplayData } from "./platform";

/** The kernel's display channel, if this process is a notebook kernel that is running a cell. */
export function jupyterDisplayChannel(): WriteDisplayData | null {
  return platform().displayChannel();
}

/** True inside a notebook kernel (figures can be shown), false under mocha or plain node. */
export function inKernel(): boolean {
  return jupyterDisplayChannel() !== null;
}
