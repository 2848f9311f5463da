// Word-level vocabularies: each token an id; 0..3 are the special tokens.
export const PAD = "<pad>";
export const BOS = "<bos>";
export const EOS = "<eos>";
export const UNK = "<unk>";
export const SPECIALS = [PAD, BOS, EOS, UNK];
/** The specials' ids: their places in SPECIALS, the same in every vocabulary. */
export const PAD_ID = 0;
export const BOS_ID = 1;
export const EOS_ID = 2;
export const UNK_ID = 3;

export class Vocabulary {
  readonly tokens: string[];
  private readonly index: Map<string, number>;

  /** `tokens` must start with the four specials; use Vocabulary.fromSentences to build one. */
  constructor(tokens: string[]) {
    SPECIALS.forEach((s, i) => {
      if (tokens[i] !== s) throw new Error(`Vocabulary: token ${i} must be ${s}, got ${tokens[i]}`);
    });
    this.tokens = [...tokens];
    this.index = new Map(tokens.map((t, i) => [t, i]));
    if (this.index.size !== tokens.length) throw new Error("Vocabulary: tokens must be distinct");
  }

  /** Every token of the (space-separated) sentences, specials first, then by first appearance. */
  static fromSentences(sentences: string[]): Vocabulary {
    if (!Array.isArray(sentences))
      throw new Error(
        `Vocabulary.fromSentences: expected an array of sentences, got ${typeof sentences === "string" ? "one string (wrap it: [sentence])" : typeof sentences}`,
      );
    const seen = new Set<string>(SPECIALS);
    const tokens = [...SPECIALS];
    for (const s of sentences)
      for (const t of tokenize(s))
        if (!seen.has(t)) {
          seen.add(t);
          tokens.push(t);
        }
    return new Vocabulary(tokens);
  }

  get size(): number {
    return this.tokens.length;
  }
  get pad(): number {
    return PAD_ID;
  }
  get bos(): number {
    return BOS_ID;
  }
  get eos(): number {
    return EOS_ID;
  }
  get unk(): number {
    return UNK_ID;
  }

  /** Token ids of a sentence; unknown words become <unk>. Empty input is an error. */
  encode(sentence: string): number[] {
    const toks = tokenize(sentence);
    if (toks.length === 0) throw new Error("Vocabulary.encode: the sentence is empty; expected at least one word");
    return toks.map((t) => this.index.get(t) ?? this.unk);
  }

  /** Words of token ids, stopping at <eos> and leaving out <pad> and <bos>. */
  decode(ids: ArrayLike<number>): string[] {
    const out: string[] = [];
    for (const id of Array.from(ids)) {
      if (id === this.eos) break;
      if (id === this.pad || id === this.bos) continue;
      out.push(this.tokens[id] ?? UNK);
    }
    return out;
  }

  /** Words that `encode` would map to <unk>. */
  unknownWords(sentence: string): string[] {
    return tokenize(sentence).filter((t) => !this.index.has(t));
  }
}

/** Lower-case, split on spaces, and split a final full stop or comma from its word. */
export function tokenize(sentence: string): string[] {
  if (typeof sentence !== "string") throw new Error(`tokenize: expected a string, got ${typeof sentence}`);
  return sentence
    .toLowerCase()
    .replace(/([.,!?])/g, " $1 ")
    .split(/\s+/)
    .filter((t) => t.length > 0);
}
