// Messages between the page's kernel (kernel.ts) and its worker (worker.ts).
export type ToWorker =
  | { type: "init"; baseUrl: string; location: string; env: Record<string, string>; interruptBuffer: SharedArrayBuffer | null }
  | { type: "execute"; id: number; code: string; count: number }
  | { type: "interrupt"; id: number };

export type FromWorker =
  | { type: "ready" }
  | { type: "stream"; name: "stdout" | "stderr"; text: string }
  | { type: "display"; content: { data: Record<string, unknown>; metadata: object; transient: object }; update: boolean }
  | { type: "done"; id: number; status: "ok" }
  | { type: "done"; id: number; status: "error"; ename: string; evalue: string; traceback: string[] };
