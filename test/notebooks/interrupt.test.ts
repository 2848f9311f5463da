// Kernel > Interrupt during training, through a real kernel (jupyter_client): the loop stops within a
// step, says how many steps ran in its own cell, the CPU goes quiet, and the model keeps what it learned.
import * as assert from "assert";
import { spawnSync } from "child_process";
import { readFileSync, mkdtempSync } from "fs";
import { tmpdir } from "os";
import { join, delimiter } from "path";
import { ROOT, findPython } from "../helpers";

describe("Interrupt stops a training loop (real kernel)", function () {
  this.timeout(180000);

  it("ends the loop within one step, reports in its cell, leaves the kernel idle and the model usable", () => {
    const out = join(mkdtempSync(join(tmpdir(), "interrupt-")), "seen.json");
    const env = { ...process.env, JUPYTER_PATH: [join(ROOT, ".jupyter"), process.env.JUPYTER_PATH].filter(Boolean).join(delimiter) };
    const r = spawnSync(findPython(), [join(ROOT, "test", "notebooks", "interrupt.py"), out], { env, encoding: "utf8" });
    assert.strictEqual(r.status, 0, `interrupt.py failed: ${r.stderr}`);
    const seen = JSON.parse(readFileSync(out, "utf8"));
    assert.deepStrictEqual(seen.problems, []);
    assert.ok(seen.steps_before_interrupt >= 3, "training had started");
    assert.strictEqual(seen.cell_ended, true, "the interrupted cell ended");
    assert.strictEqual(seen.reported_in_cell, true, `the trainer's line is in the interrupted cell: ${JSON.stringify(seen.report)}`);
    const [, steps] = /Interrupted after (\d+) steps/.exec(seen.report.join("\n")) ?? [];
    assert.ok(Number(steps) <= seen.steps_before_interrupt + 2, `stopped within a step or two of the interrupt: ${steps} vs ${seen.steps_before_interrupt}`);
    assert.ok(seen.cpu_seconds_in_2s_after < 0.3, `kernel CPU in 2 s after the interrupt: ${seen.cpu_seconds_in_2s_after} s`);
    assert.strictEqual(seen.step_counts[0], `steps ${steps}`);
    assert.strictEqual(seen.step_counts[1], seen.step_counts[0], "the step count no longer moves");
    assert.strictEqual(seen.translates_after, "string", "the model still translates");
  });
});
