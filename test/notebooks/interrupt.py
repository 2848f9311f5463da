"""Interrupt a training run through a real kernel, the way Jupyter's Interrupt button does.

    python3 interrupt.py OUT.json [--kernel attention-course]

Starts the course kernel (jupyter_client), builds a small translator and a Trainer in one cell, awaits
trainer.run() in a second, waits for a few steps, sends the kernel's interrupt (SIGINT), then checks:
the cell ends, the trainer prints how many steps ran, the kernel's CPU goes quiet, the step count stops,
the model still translates, and the printed line lands in the interrupted cell. Writes what it saw as JSON.
"""
import argparse
import json
import os
import time

from jupyter_client.manager import KernelManager

SETUP = """
import * as tf from "@tensorflow/tfjs";
import { setup, loadCorpus, buildVocabularies, encodeAll, Seq2Seq, Trainer, translateSentence } from "attention-lib";
await setup({ verbose: false });
const corpus = loadCorpus("../data/corpus");
const vocabs = buildVocabularies(corpus.train);
const model = new Seq2Seq({ kind: "bahdanau", srcVocab: vocabs.src.size, tgtVocab: vocabs.tgt.size, embedding: 32, hidden: 64, seed: 1 });
const trainer = new Trainer(model, encodeAll(corpus.train.slice(0, 2000), vocabs), {
  steps: 100000, maxSeconds: 300, batchSize: 32, reportEvery: 1,
  onReport: (step) => console.log(`step ${step}`),
});
"""
RUN = "const result = await trainer.run();"


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime + stime
    return ticks / os.sysconf("SC_CLK_TCK")


def main(args):
    here = os.path.dirname(os.path.abspath(__file__))
    notebooks = os.path.join(here, "..", "..", "notebooks")
    seen = {"problems": []}
    km = KernelManager(kernel_name=args.kernel)
    km.start_kernel(cwd=notebooks)
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)

        def execute(code, timeout=120):
            """Run a cell to the end; its text outputs and reply status."""
            msg_id = kc.execute(code)
            text = []
            while True:
                msg = kc.get_iopub_msg(timeout=timeout)
                if msg["parent_header"].get("msg_id") != msg_id:
                    continue
                if msg["msg_type"] == "stream":
                    text.append(msg["content"]["text"])
                elif msg["msg_type"] == "error":
                    text.append("ERROR " + msg["content"]["ename"] + ": " + msg["content"]["evalue"])
                elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                    break
            return "".join(text)

        out = execute(SETUP, timeout=180)
        if "ERROR" in out:
            seen["problems"].append(f"setup cell failed: {out}")
            return seen
        pid = km.provisioner.process.pid if getattr(km, "provisioner", None) else km.kernel.pid
        run_id = kc.execute(RUN)
        steps_seen = 0
        run_text = []
        deadline = time.time() + 120
        while steps_seen < 3 and time.time() < deadline:
            msg = kc.get_iopub_msg(timeout=120)
            if msg["parent_header"].get("msg_id") == run_id and msg["msg_type"] == "stream":
                run_text.append(msg["content"]["text"])
                steps_seen = "".join(run_text).count("step ")
        seen["steps_before_interrupt"] = steps_seen
        t_interrupt = time.time()
        km.interrupt_kernel()
        # The cell ends, and the trainer reports, in the interrupted cell.
        ended = False
        reported_in_cell = False
        while time.time() < t_interrupt + 30 and not (ended and reported_in_cell):
            try:
                msg = kc.get_iopub_msg(timeout=5)
            except Exception:
                continue
            if msg["parent_header"].get("msg_id") != run_id:
                continue
            if msg["msg_type"] == "stream":
                run_text.append(msg["content"]["text"])
                if "Interrupted after" in msg["content"]["text"]:
                    reported_in_cell = True
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                ended = True
        seen["cell_ended"] = ended
        seen["reported_in_cell"] = reported_in_cell
        seen["report"] = [line for line in "".join(run_text).splitlines() if "Interrupted" in line]
        seen["seconds_to_stop"] = round(time.time() - t_interrupt, 2)
        # Quiet: the kernel uses (almost) no CPU once the loop has stopped.
        time.sleep(1.0)
        c0 = cpu_seconds(pid)
        time.sleep(2.0)
        seen["cpu_seconds_in_2s_after"] = round(cpu_seconds(pid) - c0, 3)
        a = execute("console.log(`steps ${trainer.step}`)")
        time.sleep(1.5)
        b = execute("console.log(`steps ${trainer.step}`)")
        seen["step_counts"] = [a.strip(), b.strip()]
        seen["translates_after"] = execute('console.log(typeof translateSentence(model, vocabs, "the cat sleeps .").output)').strip()
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return seen


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--kernel", default="attention-course")
    args = ap.parse_args()
    result = main(args)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
