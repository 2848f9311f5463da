// A test written inside another test's body never runs: mocha registers it only while collecting, so it is
// silently skipped (nine such tests went unnoticed for a round). Every it() must sit in a describe(), never in an it().
import * as assert from "assert";
import * as ts from "typescript";
import { readdirSync, readFileSync, statSync } from "fs";
import { join, relative } from "path";
import { ROOT } from "../helpers";

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? testFiles(p) : p.endsWith(".test.ts") ? [p] : [];
  });
}

/** Where an it() or describe() call sits inside the callback of an it(): "file:line". */
export function nestedTests(file: string, source: string): string[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node, insideIt: boolean) => {
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && ["it", "describe"].includes(node.expression.text)) {
      if (insideIt) found.push(`${relative(ROOT, file)}:${sf.getLineAndCharacterOfPosition(node.getStart()).line + 1}`);
      const isIt = node.expression.text === "it";
      node.arguments.forEach((a) => visit(a, insideIt || isIt));
      return;
    }
    ts.forEachChild(node, (c) => visit(c, insideIt));
  };
  visit(sf, false);
  return found;
}

describe("the tests themselves", () => {
  it("finds a test written inside another test (the check can fail)", () => {
    const nested = `describe("a", () => { it("b", () => { it("c", () => {}); }); it("d", () => {}); });`;
    assert.deepStrictEqual(nestedTests(join(ROOT, "x.test.ts"), nested), ["x.test.ts:1"]);
  });

  it("no it() or describe() sits inside an it(), where mocha would never run it", () => {
    const nested = testFiles(join(ROOT, "test")).flatMap((f) => nestedTests(f, readFileSync(f, "utf8")));
    assert.deepStrictEqual(nested, [], "tests written inside another test's body");
  });
});
