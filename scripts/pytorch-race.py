"""PyTorch's side of notebook 08's race: bench/pytorch_step.py's train-step/* and seq-scaling/* cases (the same
models and sizes as the bench), timed in CPU time of this process (time.process_time) instead of wall time, on one
thread: the step's time on an idle core even when other work shares the machine (wall time is kept beside it).
    python3 scripts/pytorch-race.py --json data/results/pytorch-race.json   (needs torch; see bench/pytorch_step.py)
"""
import argparse
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
import pytorch_step as ps  # noqa: E402

torch = ps.torch


def timed(name, fn, runs):
    """Minimum and median CPU milliseconds of `runs` calls of fn after two warm-up calls, and the minimum wall time."""
    fn()
    fn()
    cpu, wall = [], []
    for _ in range(runs):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        cpu.append((time.process_time() - c0) * 1000)
        wall.append((time.perf_counter() - t0) * 1000)
    return {
        "name": name,
        "backend": "pytorch-cpu-1thread",
        "ms_min": round(min(cpu), 2),
        "ms_median": round(statistics.median(cpu), 2),
        "wall_ms_min": round(min(wall), 2),
        "runs": runs,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--json")
    args = ap.parse_args()
    torch.set_num_threads(1)
    ps.timed = timed  # the bench's cases, timed here
    cases = [
        ps.case("train-step/gru-encdec", False, args.runs),
        ps.case("train-step/bahdanau", True, args.runs),
        ps.case("train-step/transformer", False, args.runs, model=ps.TransformerTranslator(32, 2, 64, 1)),
    ]
    for t in [16, 32, 64, 128, 256, 512]:
        runs = max(5, args.runs // 2) if t >= 128 else args.runs
        cases.append(ps.case(f"seq-scaling/gru-encdec/T={t}", False, runs, batch=8, src_len=t, tgt_len=t))
        cases.append(ps.case(f"seq-scaling/transformer/T={t}", False, runs, model=ps.TransformerTranslator(64, 4, 256, 2), batch=8, src_len=t, tgt_len=t))
    for c in cases:
        print(f"{c['name']:<40} torch {torch.__version__}  CPU min {c['ms_min']:8.2f} ms  median {c['ms_median']:8.2f} ms  wall min {c['wall_ms_min']:8.2f} ms")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {
                    "about": "PyTorch (CPU, one thread) training steps of bench/pytorch_step.py's train-step/* and seq-scaling/* cases, "
                    "in CPU time of the process (ms_min, ms_median) and wall time (wall_ms_min, longer when other work shares the machine).",
                    "command": "python3 scripts/pytorch-race.py --json data/results/pytorch-race.json",
                    "torch": torch.__version__,
                    "cases": cases,
                },
                f,
                indent=2,
            )
            f.write("\n")


if __name__ == "__main__":
    main()
