// The spec reporter, then one table of where `npm test`'s time went: the seconds of each part (unit, project, and
// each notebooks/*.test.js by its name), hooks included (a before that starts a server counts for its part).
import * as Mocha from "mocha";
import { basename, dirname, relative } from "path";

const { EVENT_SUITE_BEGIN, EVENT_SUITE_END, EVENT_RUN_END } = Mocha.Runner.constants;

/** A spec file's part: its folder under build/test (unit, project), or for test/notebooks/ the file's own name. */
function partOf(file: string): string {
  const dir = basename(dirname(file));
  return dir === "notebooks" ? basename(file).replace(/\.test\.[cm]?js$/, "") : dir;
}

class PartsReporter extends Mocha.reporters.Spec {
  constructor(runner: Mocha.Runner, options?: Mocha.MochaOptions) {
    super(runner, options);
    const seconds = new Map<string, number>();
    const started = new Map<Mocha.Suite, number>();
    const runStarted = Date.now();
    // A file's top-level suites, begin to end (their before/after hooks inside).
    runner.on(EVENT_SUITE_BEGIN, (suite: Mocha.Suite) => {
      if (suite.parent?.root && suite.file) started.set(suite, Date.now());
    });
    runner.on(EVENT_SUITE_END, (suite: Mocha.Suite) => {
      const t = started.get(suite);
      if (t === undefined || !suite.file) return;
      const part = partOf(relative(process.cwd(), suite.file));
      seconds.set(part, (seconds.get(part) ?? 0) + (Date.now() - t) / 1000);
    });
    runner.once(EVENT_RUN_END, () => {
      const rows = [...seconds, ["total", (Date.now() - runStarted) / 1000] as const];
      const width = Math.max(...rows.map(([p]) => p.length));
      console.log("\n  Time by part (part: seconds)");
      for (const [part, s] of rows) console.log(`    ${`${part}:`.padEnd(width + 1)} ${s.toFixed(0).padStart(5)}`);
    });
  }
}

export = PartsReporter;
