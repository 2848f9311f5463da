// The page side of the course's kernel: a JupyterLite kernel that relays cells to its Web Worker (worker.ts), so
// that training never blocks the page. Restart ends the worker; Interrupt reaches the running cell by a message and,
// where the page is cross-origin isolated, by a shared flag that even a loop that never yields reads.
import { BaseKernel, type IKernel } from "@jupyterlite/services";
import type { KernelMessage } from "@jupyterlab/services";
import type { FromWorker, ToWorker } from "./protocol";

/** Settings for the library (ATTENTION_TRAIN_SECONDS, ...) kept in the browser's localStorage under this key. */
export const ENV_KEY = "attention-course:env";

function storedEnv(): Record<string, string> {
  try {
    const v = JSON.parse(localStorage.getItem(ENV_KEY) ?? "{}") as unknown;
    return v && typeof v === "object" ? (v as Record<string, string>) : {};
  } catch {
    return {};
  }
}

export class CourseKernel extends BaseKernel {
  private readonly worker: Worker;
  private readonly flag: Int32Array | null;
  private readonly started: Promise<void>;
  private nextId = 0;
  private running: { id: number; resolve: (m: Extract<FromWorker, { type: "done" }>) => void } | null = null;

  constructor(options: IKernel.IOptions, workerUrl: string, baseUrl: string) {
    super(options);
    this.worker = new Worker(workerUrl);
    const shared = typeof SharedArrayBuffer !== "undefined" && self.crossOriginIsolated ? new SharedArrayBuffer(4) : null;
    this.flag = shared ? new Int32Array(shared) : null;
    this.started = new Promise((resolve, reject) => {
      this.worker.onerror = (e) => reject(new Error(`the kernel's worker failed to start: ${e.message}`));
      this.worker.onmessage = (ev: MessageEvent<FromWorker>) => {
        if (ev.data.type === "ready") resolve();
        else this.fromWorker(ev.data);
      };
    });
    this.send({ type: "init", baseUrl, location: options.location, env: storedEnv(), interruptBuffer: shared });
  }

  override get ready(): Promise<void> {
    return this.started;
  }

  override dispose(): void {
    if (this.isDisposed) return;
    this.worker.terminate();
    super.dispose();
  }

  private send(m: ToWorker) {
    this.worker.postMessage(m);
  }

  private fromWorker(m: FromWorker) {
    if (m.type === "stream") this.stream({ name: m.name, text: m.text });
    else if (m.type === "display") {
      const content = {
        data: m.content.data,
        metadata: m.content.metadata,
        transient: m.content.transient,
      } as KernelMessage.IDisplayDataMsg["content"];
      if (m.update) this.updateDisplayData(content as KernelMessage.IUpdateDisplayDataMsg["content"]);
      else this.displayData(content);
    } else if (m.type === "done" && this.running?.id === m.id) this.running.resolve(m);
  }

  /** Stop the running cell: at its next loop turn or await (and the library's Trainer after its step). */
  interrupt(): void {
    if (!this.running) return;
    if (this.flag) Atomics.store(this.flag, 0, 1);
    const { id } = this.running;
    this.send({ type: "interrupt", id });
    // A cell stuck in a long await ends now as far as the notebook is concerned (as under tslab); its work goes on.
    setTimeout(() => {
      if (this.running?.id !== id) return;
      const evalue = "the cell was interrupted (it was still waiting; what it awaited may still finish in the background)";
      this.running.resolve({ type: "done", id, status: "error", ename: "KeyboardInterrupt", evalue, traceback: [`KeyboardInterrupt: ${evalue}`] });
    }, 3000);
  }

  async kernelInfoRequest(): Promise<KernelMessage.IInfoReplyMsg["content"]> {
    return {
      implementation: "attention-course-lite",
      implementation_version: "0.1.0",
      language_info: {
        name: "typescript",
        version: "5",
        mimetype: "text/typescript",
        file_extension: ".ts",
        codemirror_mode: { name: "javascript", typescript: true },
      },
      protocol_version: "5.3",
      status: "ok",
      banner: "TypeScript (attention course) in the browser: @tensorflow/tfjs and attention-lib, types stripped (not checked)",
      help_links: [],
    };
  }

  async executeRequest(content: KernelMessage.IExecuteRequestMsg["content"]): Promise<KernelMessage.IExecuteReplyMsg["content"]> {
    const id = ++this.nextId;
    const done = await new Promise<Extract<FromWorker, { type: "done" }>>((resolve) => {
      this.running = { id, resolve };
      this.send({ type: "execute", id, code: content.code, count: this.executionCount });
    });
    this.running = null;
    if (done.status === "ok") return { status: "ok", execution_count: this.executionCount, user_expressions: {}, payload: [] };
    const error = { ename: done.ename, evalue: done.evalue, traceback: done.traceback };
    this.publishExecuteError(error);
    return { status: "error", execution_count: this.executionCount, ...error } as KernelMessage.IExecuteReplyMsg["content"];
  }

  async completeRequest(content: KernelMessage.ICompleteRequestMsg["content"]): Promise<KernelMessage.ICompleteReplyMsg["content"]> {
    return { status: "ok", matches: [], cursor_start: content.cursor_pos, cursor_end: content.cursor_pos, metadata: {} };
  }

  async inspectRequest(): Promise<KernelMessage.IInspectReplyMsg["content"]> {
    return { status: "ok", found: false, data: {}, metadata: {} };
  }

  async isCompleteRequest(): Promise<KernelMessage.IIsCompleteReplyMsg["content"]> {
    return { status: "complete" };
  }

  async commInfoRequest(): Promise<KernelMessage.ICommInfoReplyMsg["content"]> {
    return { status: "ok", comms: {} };
  }

  inputReply(): void {}
  async commOpen(): Promise<void> {}
  async commMsg(): Promise<void> {}
  async commClose(): Promise<void> {}
}
