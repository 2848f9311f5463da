// Translation quality: corpus BLEU-4 and token accuracy.
//
// Corpus BLEU (Papineni et al., 2002), as computed by the standard tools (sacreBLEU without smoothing):
//   p_n = (sum over sentences of clipped n-gram matches) / (sum over sentences of candidate n-grams), n = 1..4
//   BP  = 1 if c > r, else exp(1 - r / c), with c and r the total candidate and reference lengths
//   BLEU = BP * exp((log p_1 + log p_2 + log p_3 + log p_4) / 4), and 0 if some p_n is 0.
// Clipped: a candidate n-gram counts at most as often as it occurs in the reference. One reference per sentence.

import { checkPositiveInt, describeValue } from "../core/checks";

/** Sentences as lists of tokens: an array of arrays of strings (a sentence as one string would be scored letter by letter, or fail). */
function checkTokenLists(lists: unknown, fn: string, name: string): asserts lists is string[][] {
  if (!Array.isArray(lists)) throw new Error(`${fn}: ${name} must be an array of token lists like [["the", "cat"]], got ${describeValue(lists)}`);
  const i = lists.findIndex((l) => !Array.isArray(l) || !l.every((t) => typeof t === "string"));
  if (i >= 0) {
    const got = typeof lists[i] === "string" ? "a string (split it into tokens first: tokenize(sentence))" : describeValue(lists[i]);
    throw new Error(`${fn}: ${name.replace(/s$/, "")} ${i} must be a list of tokens (strings), got ${got}`);
  }
}

function ngrams(tokens: string[], n: number): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i + n <= tokens.length; i++) {
    const key = tokens.slice(i, i + n).join("\u0001");
    m.set(key, (m.get(key) ?? 0) + 1);
  }
  return m;
}

export interface BleuDetail {
  bleu: number;
  precisions: number[]; // p_1..p_4
  brevityPenalty: number;
  candidateLength: number;
  referenceLength: number;
}

export function corpusBleu(candidates: string[][], references: string[][], maxN = 4): BleuDetail {
  checkTokenLists(candidates, "corpusBleu", "candidates");
  checkTokenLists(references, "corpusBleu", "references");
  checkPositiveInt(maxN, "corpusBleu", "maxN (the longest n-gram counted)");
  if (candidates.length === 0) throw new Error("corpusBleu: no sentences to score; expected at least one candidate and its reference");
  if (candidates.length !== references.length) {
    throw new Error(`corpusBleu: ${candidates.length} candidates for ${references.length} references; expected one candidate per reference`);
  }
  const matches = new Array<number>(maxN).fill(0);
  const totals = new Array<number>(maxN).fill(0);
  let c = 0;
  let r = 0;
  candidates.forEach((cand, i) => {
    const ref = references[i];
    c += cand.length;
    r += ref.length;
    for (let n = 1; n <= maxN; n++) {
      const cg = ngrams(cand, n);
      const rg = ngrams(ref, n);
      for (const [g, k] of cg) matches[n - 1] += Math.min(k, rg.get(g) ?? 0);
      totals[n - 1] += Math.max(0, cand.length - n + 1);
    }
  });
  const precisions = matches.map((m, i) => (totals[i] > 0 ? m / totals[i] : 0));
  const brevityPenalty = c === 0 ? 0 : c > r ? 1 : Math.exp(1 - r / c);
  const bleu = precisions.some((p) => p === 0) ? 0 : brevityPenalty * Math.exp(precisions.reduce((s, p) => s + Math.log(p), 0) / maxN);
  return { bleu, precisions, brevityPenalty, candidateLength: c, referenceLength: r };
}

/** Share of reference positions where the candidate has the same token (position by position). */
export function tokenAccuracy(candidates: string[][], references: string[][]): number {
  let hit = 0;
  let total = 0;
  references.forEach((ref, i) => {
    ref.forEach((t, j) => {
      total++;
      if (candidates[i][j] === t) hit++;
    });
  });
  return total === 0 ? 0 : hit / total;
}
