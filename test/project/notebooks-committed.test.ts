import * as assert from "assert";
import { readdirSync, readFileSync } from "fs";
import { join } from "path";
import { ROOT } from "../helpers";

const dir = join(ROOT, "notebooks");

describe("committed notebooks", () => {
  const files = readdirSync(dir).filter((f) => f.endsWith(".ipynb"));
  const solutions = readdirSync(join(dir, "solutions"))
    .filter((f) => f.endsWith(".ipynb"))
    .map((f) => join("solutions", f));

  it("are numbered NN-name.ipynb", () => {
    assert.ok(files.length > 0);
    for (const f of files) assert.match(f, /^\d\d-[a-z0-9-]+\.ipynb$/);
  });

  it("solutions are named like the notebook they solve", () => {
    for (const f of solutions) assert.ok(files.includes(f.replace(/^solutions[\\/]/, "")), `${f} solves no notebook`);
  });

  for (const f of [...files, ...solutions]) {
    it(`${f} carries no outputs and uses the course kernel`, () => {
      const nb = JSON.parse(readFileSync(join(dir, f), "utf8"));
      assert.strictEqual(nb.metadata.kernelspec.name, "attention-course");
      nb.cells.forEach((c: any, i: number) => {
        if (c.cell_type !== "code") return;
        assert.deepStrictEqual(c.outputs, [], `cell ${i} has outputs: clear them before committing`);
        assert.strictEqual(c.execution_count, null, `cell ${i} has an execution count`);
      });
    });
  }
});
