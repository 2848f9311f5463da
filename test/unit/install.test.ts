// `npm install` on a newcomer's machine: no warnings about unreviewed install scripts, no funding banner.
import * as assert from "assert";
import { spawnSync } from "child_process";
import { ROOT } from "../helpers";

describe("npm install is quiet", () => {
  it("every dependency's install script is declared in allowScripts (npm 11), and no funding banner", function () {
    this.timeout(30000);
    const ls = spawnSync("npm", ["install-scripts", "ls"], { cwd: ROOT, encoding: "utf8" });
    if (ls.status !== 0 && /Unknown command|not a valid command/i.test(ls.stderr + ls.stdout)) this.skip(); // npm 10 runs them all anyway
    assert.strictEqual(ls.status, 0, ls.stderr);
    assert.match(ls.stdout, /No packages with unreviewed install scripts/);
    const fund = spawnSync("npm", ["config", "get", "fund"], { cwd: ROOT, encoding: "utf8" });
    assert.strictEqual(fund.stdout.trim(), "false", "the project's .npmrc turns the funding banner off");
  });
});
