"""Execute one notebook headless through real Jupyter (nbclient) with the course's tslab kernel.

    python3 run_notebook.py NOTEBOOK OUT_DIR [--kernel attention-course] [--runs 2]

Runs every cell, then (with --runs 2) every cell again in the same kernel, as a learner re-running
the notebook would. After each run it asks the kernel for tf.memory().numTensors. Writes to OUT_DIR:
  NAME.ipynb   the executed notebook (outputs of the last run)
  NAME.html    that notebook exported by nbconvert (for the browser check)
  NAME.json    a summary: errors, stderr outputs, tensor counts, figures emitted, timings
Exit code 0 when it ran (the summary says whether it passed), 2 when it could not start.
"""
import argparse
import json
import os
import sys
import time

try:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from nbconvert import HTMLExporter
except ImportError as e:  # pragma: no cover - told to the user by the mocha test
    print(f"missing Python package: {e.name}. `npm install` sets it up in .venv/ (npm run jupyter:venv retries)", file=sys.stderr)
    sys.exit(2)

FIGURE_CLASS = "attention-course-figure"
PROBE = 'import * as tfProbe from "@tensorflow/tfjs";\ntfProbe.memory().numTensors'


def output_text(output):
    if output.get("output_type") == "stream":
        return output.get("text", "")
    data = output.get("data", {})
    return data.get("text/plain", "")


def figures_in(cells):
    count = 0
    for cell in cells:
        for output in cell.get("outputs", []):
            html = output.get("data", {}).get("text/html", "")
            count += html.count(f'class="{FIGURE_CLASS}"')
    return count


def problems_in(cells, run):
    found = []
    for index, cell in enumerate(cells):
        for output in cell.get("outputs", []):
            kind = output.get("output_type")
            if kind == "error":
                found.append({"run": run, "cell": index, "kind": "error",
                              "text": f"{output.get('ename')}: {output.get('evalue')}"})
            elif kind == "stream" and output.get("name") == "stderr":
                found.append({"run": run, "cell": index, "kind": "stderr", "text": output.get("text", "")})
    return found


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("notebook")
    ap.add_argument("out_dir")
    ap.add_argument("--kernel", default="attention-course")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    args = ap.parse_args()

    name = os.path.splitext(os.path.basename(args.notebook))[0]
    os.makedirs(args.out_dir, exist_ok=True)
    nb = nbformat.read(args.notebook, as_version=4)
    summary = {"notebook": args.notebook, "runs": [], "problems": [], "figures": 0}
    client = NotebookClient(nb, kernel_name=args.kernel, timeout=args.timeout, allow_errors=False,
                            resources={"metadata": {"path": os.path.dirname(os.path.abspath(args.notebook))}})
    started = time.time()
    with client.setup_kernel():
        summary["kernel_start_s"] = round(time.time() - started, 2)
        for run in range(1, args.runs + 1):
            t0 = time.time()
            failed = False
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                cell.outputs = []
                try:
                    client.execute_cell(cell, index)
                except CellExecutionError as e:
                    summary["problems"].append({"run": run, "cell": index, "kind": "failed",
                                                "text": str(e)[-2000:]})
                    failed = True
                    break  # like "Run All", stop at the first error
            seconds = round(time.time() - t0, 2)
            summary["problems"] += problems_in(nb.cells, run)
            probe = nbformat.v4.new_code_cell(PROBE)
            nb.cells.append(probe)  # nbclient stores the cell at its index
            client.execute_cell(probe, len(nb.cells) - 1)
            nb.cells.pop()
            text = "".join(output_text(o) for o in probe.outputs).strip()
            try:
                tensors = int(text.split()[-1])
            except (ValueError, IndexError):
                tensors = None
                summary["problems"].append({"run": run, "cell": "probe", "kind": "probe", "text": text})
            summary["runs"].append({"run": run, "seconds": seconds, "tensors": tensors, "figures": figures_in(nb.cells)})
            if failed:
                break
    summary["figures"] = summary["runs"][-1]["figures"]
    nbformat.write(nb, os.path.join(args.out_dir, f"{name}.ipynb"))
    body, _ = HTMLExporter().from_notebook_node(nb)
    with open(os.path.join(args.out_dir, f"{name}.html"), "w", encoding="utf-8") as f:
        f.write(body)
    with open(os.path.join(args.out_dir, f"{name}.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=2)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
