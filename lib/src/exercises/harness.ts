// The harness every exercise check shares: an unanswered placeholder says so (and Run All goes on), a right answer
// says "✓", a wrong one says "✗" and what is wrong (shape, which entries, a hint), never the answer itself. Also the
// skeleton machinery: build a learner's class, give it a library module's weights, run its forward pass.
import * as tf from "@tensorflow/tfjs";
import { shapeStr } from "../core/checks";
import { Generator, defaultGenerator, randValues } from "../core/random";
import { Linear } from "../core/linear";

/** What a check says for a placeholder that is still null/undefined. */
export const NOT_ANSWERED = "not answered yet: fill in the placeholder above, then run the cell again";

export function isUnanswered(answer: unknown): answer is null | undefined {
  return answer === null || answer === undefined;
}

/** "✓ <right>" when there is no problem, else "✗ Not yet:" and one line per problem. */
export function verdict(problems: string[], right: string): string {
  if (problems.length === 0) return `✓ ${right}`;
  if (problems.length === 1) return `✗ Not yet: ${problems[0]}`;
  return ["✗ Not yet:", ...problems.map((p) => `  - ${p}`)].join("\n");
}

/** A wrong answer that should be recognised, and the hint to give when it is. */
export interface Pitfall {
  value: tf.Tensor;
  hint: string;
}

/** Turn a learner's answer (tensor, nested array or number) into a float tensor, or say what is wrong with it. */
export function answerTensor(answer: unknown, name: string): tf.Tensor | string {
  if (answer instanceof tf.Tensor) {
    if (answer.isDisposed) return `${name} was disposed (its memory was freed); compute it again`;
    return answer.dtype === "float32" ? answer.clone() : answer.toFloat();
  }
  if (typeof answer === "number" || Array.isArray(answer)) {
    try {
      return tf.tensor(answer as number[]);
    } catch (e) {
      return `${name} is not a rectangular array of numbers (${(e as Error).message})`;
    }
  }
  return `${name} should be a tf.Tensor, got ${typeof answer}`;
}

function closeTo(a: tf.Tensor, b: tf.Tensor, tol: number): boolean {
  if (a.shape.join() !== b.shape.join()) return false;
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] <= tol);
}

/**
 * Compare an answer with the expected tensor. Returns [] when right; otherwise what is wrong: the shape
 * (and whether it is the transposed one), a recognised pitfall's hint, NaNs, or how many entries differ and
 * where the first one is. Frees everything it made (the caller owns `expected` and the pitfalls).
 */
export function compareAnswer(answer: unknown, expected: tf.Tensor, name: string, layout: string, pitfalls: Pitfall[] = [], tol = 1e-4): string[] {
  const got = tf.tidy(() => answerTensor(answer, name));
  if (typeof got === "string") return [got];
  try {
    if (got.shape.join() !== expected.shape.join()) {
      const transposed = got.rank === 2 && expected.rank === 2 && got.shape[0] === expected.shape[1] && got.shape[1] === expected.shape[0];
      const hint = pitfalls.find((p) => p.value.shape.join() === got.shape.join() && closeTo(got, p.value, tol))?.hint;
      return [
        `${name} has shape ${shapeStr(got.shape)}; expected ${shapeStr(expected.shape)} ${layout}${transposed ? " (yours looks transposed)" : ""}${hint ? `: ${hint}` : ""}`,
      ];
    }
    if (closeTo(got, expected, tol)) return [];
    const nan = tf.tidy(() => tf.any(tf.isNaN(got)).dataSync()[0]);
    if (nan) return [`${name} holds NaN values: look for a division by zero or an exponential that overflowed`];
    for (const p of pitfalls) if (closeTo(got, p.value, tol)) return [p.hint];
    const wrong = Array.from(
      tf.tidy(() =>
        tf
          .greater(tf.abs(tf.sub(got, expected)), tol)
          .reshape([-1])
          .dataSync(),
      ),
    );
    const count = wrong.reduce((n, w) => n + w, 0);
    const first = wrong.indexOf(1);
    const index: number[] = [];
    let rest = first;
    for (let d = got.rank - 1; d >= 0; d--) {
      index.unshift(rest % got.shape[d]);
      rest = Math.floor(rest / got.shape[d]);
    }
    return [`${count} of ${got.size} entries of ${name} differ from what they should be, the first at index [${index.join(", ")}]`];
  } finally {
    got.dispose();
  }
}

/**
 * A library function (or method) an exercise asks the learner to write instead of calling: `owner[name]`, where
 * owner is the module's exports (import * as m) or a class prototype; `label` is how the message names it.
 */
export interface SwitchedOff {
  owner: object;
  name: string;
  label: string;
}

/** The names of `owner` (a module or a prototype) to switch off, labelled by name or `Class.name`. */
export function libraryParts(owner: object, names: string[], prefix = ""): SwitchedOff[] {
  return names.map((name) => ({ owner, name, label: `${prefix}${name}` }));
}

let switchedOff: SwitchedOff[] = [];

/**
 * Run a check with these library parts switched off while the learner's code runs (in callAnswer): a call to one
 * of them fails and the check says which. The check's own expected values are computed with them on.
 */
export function withLibraryOff<T>(parts: SwitchedOff[], check: () => T): T {
  const saved = switchedOff;
  switchedOff = parts;
  try {
    return check();
  } finally {
    switchedOff = saved;
  }
}

/** The message for an answer that called a switched-off part of the library. */
function calledMessage(used: string[]): string {
  const names = [...new Set(used)].join(", ");
  return `your code called ${names} from the library, which does what this exercise asks you to write: write that part from tf operations (the exercise says what may be used)`;
}

/**
 * Call a learner's function, turning a throw into a message ("your function threw: ..."). Parts switched off by
 * withLibraryOff throw while it runs, and the message names the ones it called.
 */
export function callAnswer<T>(fn: () => T): { value: T } | { error: string } {
  const used: string[] = [];
  const owners = switchedOff.map((o) => o.owner as Record<string, unknown>);
  const saved = switchedOff.map((o, i) => owners[i][o.name]);
  switchedOff.forEach((o, i) => {
    owners[i][o.name] = function switchedOffPart() {
      used.push(o.label);
      throw new Error(`${o.label} is switched off in this check`);
    };
  });
  try {
    const value = fn();
    return used.length ? { error: calledMessage(used) } : { value };
  } catch (e) {
    return { error: used.length ? calledMessage(used) : `your function threw: ${(e as Error).message}` };
  } finally {
    switchedOff.forEach((o, i) => (owners[i][o.name] = saved[i]));
  }
}

/** The next tensor id: tensors made between two calls advance it (a count from sizes alone makes none). */
export function nextTensorId(): number {
  const t = tf.scalar(0);
  const id = t.id;
  t.dispose();
  return id;
}

/** One input a function exercise's check runs the learner's function on, and what it should return. */
export interface FunctionCase {
  /** How the message names this input, e.g. "a batch [3, 4, 5] with lengths 4, 2, 1". */
  what: string;
  args: unknown[];
  expected: tf.Tensor;
  /** Layout named in a shape message, e.g. "[B, T, d]". */
  layout: string;
  pitfalls?: Pitfall[];
  /** Compare only where this boolean tensor (the expected shape) is true, e.g. the real tokens of a padded batch. */
  compareWhere?: tf.Tensor;
}

/**
 * Run a learner's function on every case, one after another: "not answered yet" while it returns null, "✓ right"
 * when every output matches, else "✗" with what is wrong on the first case that fails. The cases (made by `cases`,
 * inside the check so it owns them) and the learner's outputs are freed afterwards.
 */
export function checkFunctionOnCases(fn: unknown, signature: string, cases: () => FunctionCase[], right: string, tol = 1e-4): string {
  if (isUnanswered(fn)) return NOT_ANSWERED;
  if (typeof fn !== "function") return verdict([`expected a function ${signature}, got ${typeof fn}`], right);
  // tf.tidy keeps every tensor reachable from what it returns (the cases' fields), and frees the intermediates.
  const made = tf.tidy(() => cases() as unknown as tf.TensorContainer) as unknown as FunctionCase[];
  const owned = made.flatMap((c) => [c.expected, ...(c.pitfalls ?? []).map((p) => p.value), ...(c.compareWhere ? [c.compareWhere] : [])]);
  const inputs = made.flatMap((c) => c.args.filter((a): a is tf.Tensor => a instanceof tf.Tensor));
  try {
    for (const c of made) {
      const call = callAnswer(() => tf.tidy(() => (fn as (...a: unknown[]) => tf.Tensor)(...c.args)));
      if ("error" in call) return verdict([`on ${c.what}, ${call.error}`], right);
      if (isUnanswered(call.value)) return NOT_ANSWERED;
      try {
        const problems = tf.tidy(() => {
          const keep = c.compareWhere;
          const only = (t: unknown) =>
            keep && t instanceof tf.Tensor && t.shape.join() === c.expected.shape.join() ? tf.where(keep, t.toFloat(), tf.zerosLike(t).toFloat()) : t;
          const pitfalls = (c.pitfalls ?? []).map((p) => ({ value: only(p.value) as tf.Tensor, hint: p.hint }));
          return compareAnswer(only(call.value), only(c.expected) as tf.Tensor, `your output on ${c.what}`, c.layout, pitfalls, tol);
        });
        if (problems.length) return verdict(problems, right);
      } finally {
        if (call.value instanceof tf.Tensor) call.value.dispose();
      }
    }
    return verdict([], right);
  } finally {
    tf.dispose([...owned, ...inputs]);
  }
}

/** One call of a learner's number-returning function: the arguments, the right number, and the typical wrong ones. */
export interface NumberCase {
  what: string;
  args: unknown[];
  expected: number;
  /** [a wrong number, the hint for it] */
  pitfalls: [number, string][];
}

/**
 * Run a learner's function that returns a number on every case: "not answered yet" while it returns null, "✓ right"
 * when every number is exact, else "✗" on the first case that is wrong, with the hint of the pitfall it matches (or
 * whether it is too large or too small), never the number expected.
 */
export function checkNumbersOnCases(fn: unknown, signature: string, cases: NumberCase[], right: string, unit = ""): string {
  if (isUnanswered(fn)) return NOT_ANSWERED;
  if (typeof fn !== "function") return verdict([`expected a function ${signature}, got ${typeof fn}`], right);
  for (const c of cases) {
    const call = callAnswer(() => (fn as (...a: unknown[]) => unknown)(...c.args));
    if ("error" in call) return verdict([`on ${c.what}, ${call.error}`], right);
    if (isUnanswered(call.value)) return NOT_ANSWERED;
    const got = call.value;
    if (typeof got !== "number" || !Number.isFinite(got))
      return verdict([`on ${c.what} it returned ${String(got)}; expected a number${unit ? ` of ${unit}` : ""}`], right);
    if (got === c.expected) continue;
    const hint = c.pitfalls.find(([v]) => v === got)?.[1] ?? `${got.toLocaleString("en-US")} is ${got > c.expected ? "too large" : "too small"}`;
    return verdict([`on ${c.what} it returned ${got.toLocaleString("en-US")}${unit ? ` ${unit}` : ""}: ${hint}`], right);
  }
  return verdict([], right);
}

// ---- Shared by the checks ----

/** The largest absolute difference between two tensors of one shape. */
export function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): number {
  return tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);
}

/** Entries uniform in [-1, 1), from its own seeded generator: inputs the learner's code has not seen. */
export function unseen(shape: number[], gen: Generator): tf.Tensor {
  return tf.tidy(() => tf.tensor(randValues(shape, gen), shape).mul(2).sub(1));
}

// ---- Skeleton classes: the constructor is given, forward is the learner's ----

/** What the exercise's skeleton classes hold: the constructor is given, forward is the learner's. */
export type Skeleton = Record<string, unknown> & { forward?: (x: tf.Tensor) => unknown; training?: boolean };

/** Build the learner's module, copy the library module's weights into it, or say what is missing. */
export function buildSkeleton(Module: unknown, args: number[], copyFrom: Record<string, Linear | unknown>, names: string[]): Skeleton | string {
  if (typeof Module !== "function") return `expected the class itself (e.g. MyCausalAttention), got ${typeof Module}`;
  let mine: Skeleton;
  try {
    mine = new (Module as new (...a: number[]) => Skeleton)(...args);
  } catch (e) {
    return `its constructor threw on (${args.join(", ")}): ${(e as Error).message}; keep the constructor as given`;
  }
  for (const name of names) {
    const target = mine[name];
    const source = copyFrom[name] as Linear;
    if (!(target instanceof Linear) || target.weight.shape.join() !== source.weight.shape.join()) {
      disposeSkeleton(mine);
      return `this.${name} is not the Linear the constructor makes (d_in -> d_out); keep the constructor as given`;
    }
    tf.tidy(() => {
      target.weight.assign(source.weight);
      if (target.bias && source.bias) target.bias.assign(source.bias);
    });
  }
  if (typeof mine.forward !== "function") {
    disposeSkeleton(mine);
    return "the class has no forward(x) method";
  }
  return mine;
}

export function disposeSkeleton(mine: Skeleton): void {
  for (const v of Object.values(mine)) {
    if (v instanceof Linear) v.dispose();
    else if (v instanceof tf.Tensor && !v.isDisposed) v.dispose();
  }
}

/** Call forward on the learner's module, turning a throw or a non-tensor into a message. */
export function runForward(mine: Skeleton, x: tf.Tensor, what: string): tf.Tensor | string | null {
  const call = callAnswer(() => tf.tidy(() => mine.forward!(x) as tf.Tensor));
  if ("error" in call) return `on ${what}, ${call.error.startsWith("your function threw: ") ? `forward threw: ${call.error.slice(21)}` : call.error}`;
  if (isUnanswered(call.value)) return null;
  if (!(call.value instanceof tf.Tensor)) return `on ${what}, forward returned ${typeof call.value}; expected a tensor`;
  return call.value;
}

/**
 * The causality property: replace the last two tokens of x [b, T, d_in] and see whether the outputs of the
 * earlier tokens move. Returns a problem, or null when the future stays hidden.
 */
export function futureLeaks(mine: Skeleton, x: tf.Tensor, gen: Generator): string | null {
  const [b, T, d] = x.shape;
  const keep = T - 2;
  const changed = tf.tidy(() => tf.concat([x.slice([0, 0, 0], [b, keep, d]), unseen([b, 2, d], gen)], 1));
  try {
    const a = runForward(mine, x, "the probe");
    const c = runForward(mine, changed, "the probe");
    if (!(a instanceof tf.Tensor) || !(c instanceof tf.Tensor)) return null; // the comparison below reports it
    const moved = tf.tidy(() => maxAbsDiff(a.slice([0, 0, 0], [b, keep, a.shape[2]!]), c.slice([0, 0, 0], [b, keep, c.shape[2]!])));
    tf.dispose([a, c]);
    return moved > 1e-5
      ? `the future leaks: changing the last two of ${T} tokens moved the outputs of tokens 0..${keep - 1} by up to ${moved.toExponential(1)}; hide the scores of later keys before the softmax`
      : null;
  } finally {
    changed.dispose();
  }
}

/** A mismatch that no known pitfall explains: say whether the future leaks, the most likely cause. */
export function whyDifferent(problems: string[], mine: Skeleton, x: tf.Tensor, gen: Generator): string[] {
  if (!/entries of .* differ/.test(problems.join(" "))) return problems;
  const leak = futureLeaks(mine, x, gen);
  return leak ? [leak] : problems;
}

/**
 * For each config: the library's module, the learner's skeleton holding the same weights (the Linear layers in
 * `names`) and an input it has not seen. `body` returns what to say and stop with, or null to go on to the next one.
 * Everything is freed, and the default generator (which the learner's constructor draws from) put back.
 */
export function trySkeletons<C, L extends { dispose(): void }>(
  Module: unknown,
  right: string,
  seed: number,
  configs: C[],
  make: (c: C, gen: Generator) => { lib: L; args: number[]; names: string[]; shape: number[]; what: string },
  body: (trial: { lib: L; mine: Skeleton; x: tf.Tensor; what: string; shape: number[] }, c: C, gen: Generator) => string | null,
): string {
  if (isUnanswered(Module)) return NOT_ANSWERED;
  const saved = defaultGenerator.getState();
  try {
    const gen = new Generator(seed);
    for (const c of configs) {
      const { lib, args, names, shape, what } = make(c, gen);
      const mine = buildSkeleton(Module, args, lib as unknown as Record<string, unknown>, names);
      const x = unseen(shape, gen);
      try {
        if (typeof mine === "string") return verdict([mine], right);
        const said = body({ lib, mine, x, what, shape }, c, gen);
        if (said !== null) return said;
      } finally {
        lib.dispose();
        if (typeof mine !== "string") disposeSkeleton(mine);
        x.dispose();
      }
    }
    return verdict([], right);
  } finally {
    defaultGenerator.setState(saved);
  }
}

// ---- Bug-finding exercises: the learner's test against a buggy module, the correct one and unseen bugs ----

/** One module the learner's test is run on: how to make it, and what to say when the test gets it wrong. */
export interface Suspect<F> {
  make: F;
  /** true: the test must pass it (the correct module); false: the test must fail it (a bug). */
  correct: boolean;
  /** What the message says when the test gets this one wrong. */
  hint: string;
}

/**
 * Run a learner's test `(make) => boolean` on every suspect, in order: "not answered yet" while it returns null,
 * "✓ right" when it passes the correct module and fails every buggy one, else "✗" and the hint of the first one it
 * got wrong. The test runs inside tf.tidy, and every module a `make` built is disposed afterwards (`track`).
 */
export function checkBugTest<F>(test: unknown, suspects: Suspect<F>[], track: (make: F, made: { dispose(): void }[]) => F, right: string): string {
  if (isUnanswered(test)) return NOT_ANSWERED;
  if (typeof test !== "function") return verdict([`expected a test function (make) => boolean, got ${typeof test}`], right);
  for (const s of suspects) {
    const made: { dispose(): void }[] = [];
    let said: boolean | null | undefined | unknown;
    const call = callAnswer(() =>
      tf.tidy(() => {
        said = (test as (make: F) => unknown)(track(s.make, made));
      }),
    );
    made.forEach((m) => m.dispose());
    if ("error" in call) return verdict([call.error], right);
    if (isUnanswered(said)) return NOT_ANSWERED;
    if (typeof said !== "boolean")
      return verdict([`your test returned ${typeof said}; it should return true (no bug found) or false (a bug found)`], right);
    if (said !== s.correct) return verdict([s.hint], right);
  }
  return verdict([], right);
}
