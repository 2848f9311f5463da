// A seeded random generator that draws the same numbers as PyTorch's CPU generator.
//
// PyTorch draws every random number of a CPU tensor from one Mersenne Twister (MT19937).
// Reproducing the draws, and the order in which the course's code makes them, lets a learner
// see exactly the numbers printed in the book's companion notebooks:
//   manualSeed(s)          torch.manual_seed(s)
//   rand([r, c])           torch.rand(r, c)                 one 32-bit draw per element
//   uniformLinear(...)     nn.Linear's default init         uniform in [-1/sqrt(d_in), 1/sqrt(d_in)]
//   dropoutScaleValues(...) nn.Dropout in training mode     one 53-bit double per element
import * as tf from "@tensorflow/tfjs";
import { checkBoolean, checkDropout, checkShape, describeValue } from "./checks";

const N = 624;
const M = 397;

/** A 32-bit Mersenne Twister (MT19937), seeded like `torch.manual_seed`. */
export class Generator {
  private readonly mt = new Uint32Array(N);
  private index = N;
  private seedValue = 0;

  constructor(seed = 67280421310721) {
    this.manualSeed(seed);
  }

  /** The seed this generator was last reset with. */
  get seed(): number {
    return this.seedValue;
  }

  /** Reset the stream, as `torch.manual_seed(seed)` does. */
  manualSeed(seed: number): this {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      const why =
        Number.isInteger(seed) && seed > 0
          ? " (integers above 2^53 - 1 lose digits in JavaScript, so two different seeds could give the same stream)"
          : "";
      throw new Error(`manualSeed: the seed must be an integer from 0 to 2^53 - 1, got ${seed}${why}`);
    }
    this.seedValue = seed;
    // PyTorch keeps the low 32 bits of its 64-bit seed for MT19937.
    const s = Number(BigInt(seed) & 0xffffffffn);
    this.mt[0] = s >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = this.mt[i - 1] ^ (this.mt[i - 1] >>> 30);
      this.mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
    this.index = N;
    return this;
  }

  /** A copy of where the stream is, to come back to with setState (like torch.get_rng_state). */
  getState(): { mt: Uint32Array; index: number; seed: number } {
    return { mt: this.mt.slice(), index: this.index, seed: this.seedValue };
  }

  /** Go back to a state taken with getState (like torch.set_rng_state). */
  setState(state: { mt: Uint32Array; index: number; seed: number }): this {
    this.mt.set(state.mt);
    this.index = state.index;
    this.seedValue = state.seed;
    return this;
  }

  /** The next raw 32-bit draw (an integer in [0, 2**32)). */
  nextUint32(): number {
    if (this.index >= N) this.twist();
    let y = this.mt[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** A float32 uniform in [0, 1) from one draw: (draw & 0xFFFFFF) / 2**24, like torch.rand. */
  nextFloat32(): number {
    return (this.nextUint32() & 0xffffff) / 16777216;
  }

  /** A double uniform in [0, 1) from two draws (hi, then lo), 53 bits, like PyTorch's bernoulli_. */
  nextFloat64(): number {
    const hi = this.nextUint32();
    const lo = this.nextUint32();
    return ((hi & 0x1fffff) * 4294967296 + lo) / 9007199254740992;
  }

  private twist(): void {
    const mt = this.mt;
    for (let i = 0; i < N; i++) {
      const y = (mt[i] & 0x80000000) | (mt[(i + 1) % N] & 0x7fffffff);
      let v = mt[(i + M) % N] ^ (y >>> 1);
      if (y & 1) v ^= 0x9908b0df;
      mt[i] = v >>> 0;
    }
    this.index = 0;
  }
}

/** The course's default generator: the one `manualSeed`, `rand`, layer init and dropout use. */
export const defaultGenerator = new Generator();

/** Reset the default generator, like `torch.manual_seed(seed)`. */
export function manualSeed(seed: number): Generator {
  return defaultGenerator.manualSeed(seed);
}

/** A generator passed in by the learner must be one of the course's (new Generator(seed)), not a seed or a plain object. */
export function checkGenerator(gen: unknown, fn: string): asserts gen is Generator {
  if (!(gen instanceof Generator))
    throw new Error(
      `${fn}: the generator must be a Generator (new Generator(seed)), got ${gen === null || typeof gen !== "object" ? describeValue(gen) : "an object"}`,
    );
}

function sizeOf(shape: number[], fn: string): number {
  checkShape(shape, fn);
  return shape.reduce((a, b) => a * b, 1);
}

/** Uniform numbers in [0, 1), row-major, like `torch.rand(...shape)`. Returns float32 values. */
export function randValues(shape: number[], gen: Generator = defaultGenerator): Float32Array {
  checkGenerator(gen, "rand");
  const out = new Float32Array(sizeOf(shape, "rand"));
  for (let i = 0; i < out.length; i++) out[i] = gen.nextFloat32();
  return out;
}

/** `torch.rand(...shape)`: a tensor of uniform numbers in [0, 1). */
export function rand(shape: number[], gen: Generator = defaultGenerator): tf.Tensor {
  return tf.tensor(randValues(shape, gen), shape, "float32");
}

/** Uniform numbers in [low, high), row-major, like `tensor.uniform_(low, high)` (float32 arithmetic). */
export function uniformValues(shape: number[], low: number, high: number, gen: Generator = defaultGenerator): Float32Array {
  if (!(Number.isFinite(low) && Number.isFinite(high) && low <= high)) {
    throw new Error(`uniform: expected finite bounds with low <= high, got [${low}, ${high})`);
  }
  const out = new Float32Array(sizeOf(shape, "uniform"));
  const span = Math.fround(high - low);
  for (let i = 0; i < out.length; i++) {
    out[i] = Math.fround(Math.fround(gen.nextFloat32() * span) + low);
  }
  return out;
}

/**
 * The initial weight and bias of `nn.Linear(dIn, dOut, bias)`, drawn in PyTorch's order:
 * the weight [dOut, dIn] first, then the bias [dOut], both uniform in [-1/sqrt(dIn), 1/sqrt(dIn)].
 */
export function uniformLinear(
  dIn: number,
  dOut: number,
  bias: boolean,
  gen: Generator = defaultGenerator,
): { weight: Float32Array; bias: Float32Array | null } {
  for (const [name, v] of [
    ["d_in", dIn],
    ["d_out", dOut],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) {
      throw new Error(`Linear: ${name} must be a positive integer, got ${v}`);
    }
  }
  checkBoolean(bias, "Linear", "bias");
  checkGenerator(gen, "Linear");
  const bound = 1 / Math.sqrt(dIn);
  const weight = uniformValues([dOut, dIn], -bound, bound, gen);
  const b = bias ? uniformValues([dOut], -bound, bound, gen) : null;
  return { weight, bias: b };
}

/**
 * The keep/drop decision of `nn.Dropout(p)` in training mode, one element at a time in row-major
 * order: 1 / (1 - p) where the element is kept, 0 where it is dropped.
 */
export function dropoutScaleValues(shape: number[], p: number, gen: Generator = defaultGenerator): Float32Array {
  checkDropout(p, "dropout", "the drop probability p");
  const out = new Float32Array(sizeOf(shape, "dropout"));
  const keep = 1 - p;
  const scale = 1 / keep;
  for (let i = 0; i < out.length; i++) out[i] = gen.nextFloat64() < keep ? scale : 0;
  return out;
}
