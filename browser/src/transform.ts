// A notebook cell (TypeScript) made runnable in the browser kernel, keeping its line numbers:
//  - types stripped by sucrase (no type check: errors show at run time only);
//  - imports become lookups in the kernel's table of bundled modules;
//  - top-level const/let/var/class/function become globals, so later cells see them and a cell can run again;
//  - the cell becomes the body of an async function (top-level await); its last expression is returned;
//  - every loop body and every await checks the kernel's Interrupt flag.
import { transform } from "sucrase";
import { parse } from "acorn";

/** The names the rewritten code calls; the kernel defines them. */
export const HOOKS = { importModule: "__cell$import", check: "__cell$check", awaited: "__cell$await" } as const;

type Node = { type: string; start: number; end: number; [key: string]: any };

interface Insert {
  pos: number;
  text: string;
  depth: number;
  open: boolean;
}

/** Names bound by a declaration pattern (`{ a, b: [c, ...d] }` binds a, c, d). */
function boundNames(p: Node | null, out: string[]): string[] {
  if (!p) return out;
  if (p.type === "Identifier") out.push(p.name);
  else if (p.type === "ObjectPattern") for (const prop of p.properties) boundNames(prop.type === "RestElement" ? prop.argument : prop.value, out);
  else if (p.type === "ArrayPattern") for (const el of p.elements) boundNames(el, out);
  else if (p.type === "RestElement") boundNames(p.argument, out);
  else if (p.type === "AssignmentPattern") boundNames(p.left, out);
  return out;
}

const LOOPS = new Set(["ForStatement", "ForInStatement", "ForOfStatement", "WhileStatement", "DoWhileStatement"]);

/** The JavaScript of a TypeScript cell, stripped of types (line numbers kept). */
export function stripTypes(source: string): string {
  return transform(source, { transforms: ["typescript"], keepUnusedImports: true, disableESTransforms: true }).code;
}

export interface Rewritten {
  /** The body of an async function taking the three hooks; `return`s the cell's last expression. */
  body: string;
  /** Top-level names the cell declares (they become globals). */
  declared: string[];
}

/** Rewrite a cell's JavaScript (see the file's comment). Throws acorn's SyntaxError, with its line, on bad syntax. */
export function rewrite(js: string): Rewritten {
  const ast = parse(js, { ecmaVersion: "latest", sourceType: "module", allowAwaitOutsideFunction: true }) as unknown as Node;
  const inserts: Insert[] = [];
  const deletes: [number, number][] = [];
  const declared: string[] = [];
  const hoisted: string[] = [];
  const open = (pos: number, text: string, depth: number) => inserts.push({ pos, text, depth, open: true });
  const close = (pos: number, text: string, depth: number) => inserts.push({ pos, text, depth, open: false });

  // Interrupt checks in loops and after awaits, anywhere (awaits inside nested async functions included).
  const walk = (node: Node, depth: number) => {
    if (LOOPS.has(node.type)) {
      const body = node.body as Node;
      if (body.type === "BlockStatement") open(body.start + 1, `${HOOKS.check}();`, depth + 2);
      else {
        open(body.start, `{${HOOKS.check}();`, depth + 1);
        close(body.end, "}", depth + 1);
      }
    } else if (node.type === "AwaitExpression") {
      open(node.start, `${HOOKS.awaited}(`, depth);
      close(node.end, ")", depth);
    }
    for (const key of Object.keys(node)) {
      const v = node[key];
      if (Array.isArray(v)) {
        for (const c of v) if (c && typeof c.type === "string") walk(c, depth + 1);
      } else if (v && typeof v === "object" && typeof v.type === "string") walk(v, depth + 1);
    }
  };
  walk(ast, 0);

  const statements = ast.body as Node[];
  statements.forEach((st, i) => {
    const last = i === statements.length - 1;
    if (st.type === "ImportDeclaration") {
      const src = JSON.stringify(st.source.value);
      const mod = `${HOOKS.importModule}(${src})`;
      const parts = (st.specifiers as Node[]).map((s) => {
        declared.push(s.local.name);
        if (s.type === "ImportNamespaceSpecifier") return `${s.local.name} = ${mod};`;
        if (s.type === "ImportDefaultSpecifier") return `${s.local.name} = ${mod}.default ?? ${mod};`;
        const imported = s.imported.type === "Identifier" ? s.imported.name : s.imported.value;
        return `${s.local.name} = ${mod}[${JSON.stringify(imported)}];`;
      });
      // Keep the statement's line breaks so that later lines keep their numbers.
      const breaks = js.slice(st.start, st.end).split("\n").length - 1;
      deletes.push([st.start, st.end]);
      open(st.start, (parts.length ? parts.join(" ") : `${mod};`) + "\n".repeat(breaks), 0);
    } else if (st.type === "VariableDeclaration") {
      const decls = st.declarations as Node[];
      for (const d of decls) boundNames(d.id, declared);
      deletes.push([st.start, decls[0].start]);
      open(st.start, ";(", 0);
      for (const d of decls) if (!d.init) close(d.id.end, " = undefined", 1);
      const semi = js[st.end - 1] === ";";
      close(semi ? st.end - 1 : st.end, ")", 0);
    } else if (st.type === "FunctionDeclaration") {
      declared.push(st.id.name);
      hoisted.push(st.id.name);
    } else if (st.type === "ClassDeclaration") {
      declared.push(st.id.name);
      open(st.start, `${st.id.name} = `, 0);
      close(st.end, ";", 0);
    } else if (st.type === "ExpressionStatement" && last) {
      open(st.expression.start, "return (", 0);
      close(st.expression.end, ")", 0);
    }
  });

  inserts.sort((a, b) => a.pos - b.pos || (a.open === b.open ? (a.open ? a.depth - b.depth : b.depth - a.depth) : a.open ? 1 : -1));
  deletes.sort((a, b) => a[0] - b[0]);
  let out = "";
  let cursor = 0;
  let d = 0;
  for (const ins of inserts) {
    while (d < deletes.length && deletes[d][0] < ins.pos) {
      out += js.slice(cursor, deletes[d][0]);
      cursor = Math.max(cursor, deletes[d][1]);
      d++;
    }
    if (ins.pos > cursor) {
      out += js.slice(cursor, ins.pos);
      cursor = ins.pos;
    }
    out += ins.text;
  }
  for (; d < deletes.length; d++) {
    out += js.slice(cursor, deletes[d][0]);
    cursor = Math.max(cursor, deletes[d][1]);
  }
  out += js.slice(cursor);
  // Function declarations are hoisted inside the cell's function; publish them before anything runs.
  const prefix = hoisted.map((n) => `globalThis.${n} = ${n};`).join(" ");
  return { body: prefix + out, declared };
}
