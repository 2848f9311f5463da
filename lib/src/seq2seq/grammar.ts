// A seeded English -> French grammar: real words of both languages, French gender and number agreement,
// adjectives after the noun in French, and clauses joined by "and", "but", "because", "then", so that
// sentences run from 4 to 50 tokens. Same seed, same sentences, on every machine.
import { Generator } from "../core/random";

type Gender = "m" | "f";
interface Noun {
  en: string;
  enPl: string;
  fr: string;
  frPl: string;
  g: Gender;
  vowel: boolean;
}
interface Adj {
  en: string;
  fr: [string, string, string, string];
} // m sg, f sg, m pl, f pl
interface Verb {
  en: [string, string];
  fr: [string, string];
  transitive: boolean;
} // [singular, plural]
interface Place {
  en: string;
  fr: string;
  noun: Noun;
}

const n = (en: string, enPl: string, fr: string, frPl: string, g: Gender, vowel = false): Noun => ({ en, enPl, fr, frPl, g, vowel });

export const NOUNS: Noun[] = [
  n("cat", "cats", "chat", "chats", "m"),
  n("dog", "dogs", "chien", "chiens", "m"),
  n("bird", "birds", "oiseau", "oiseaux", "m", true),
  n("horse", "horses", "cheval", "chevaux", "m"),
  n("house", "houses", "maison", "maisons", "f"),
  n("car", "cars", "voiture", "voitures", "f"),
  n("tree", "trees", "arbre", "arbres", "m", true),
  n("flower", "flowers", "fleur", "fleurs", "f"),
  n("book", "books", "livre", "livres", "m"),
  n("table", "tables", "table", "tables", "f"),
  n("child", "children", "enfant", "enfants", "m", true),
  n("woman", "women", "femme", "femmes", "f"),
  n("man", "men", "homme", "hommes", "m", true),
  n("girl", "girls", "fille", "filles", "f"),
  n("boy", "boys", "garçon", "garçons", "m"),
  n("door", "doors", "porte", "portes", "f"),
  n("window", "windows", "fenêtre", "fenêtres", "f"),
  n("letter", "letters", "lettre", "lettres", "f"),
  n("apple", "apples", "pomme", "pommes", "f"),
  n("song", "songs", "chanson", "chansons", "f"),
  n("friend", "friends", "ami", "amis", "m", true),
  n("teacher", "teachers", "professeur", "professeurs", "m"),
  n("key", "keys", "clé", "clés", "f"),
  n("boat", "boats", "bateau", "bateaux", "m"),
];

const a = (en: string, ms: string, fs: string, mp: string, fp: string): Adj => ({ en, fr: [ms, fs, mp, fp] });

export const ADJECTIVES: Adj[] = [
  a("red", "rouge", "rouge", "rouges", "rouges"),
  a("green", "vert", "verte", "verts", "vertes"),
  a("black", "noir", "noire", "noirs", "noires"),
  a("white", "blanc", "blanche", "blancs", "blanches"),
  a("blue", "bleu", "bleue", "bleus", "bleues"),
  a("happy", "content", "contente", "contents", "contentes"),
  a("tired", "fatigué", "fatiguée", "fatigués", "fatiguées"),
  a("strong", "fort", "forte", "forts", "fortes"),
  a("heavy", "lourd", "lourde", "lourds", "lourdes"),
  a("round", "rond", "ronde", "ronds", "rondes"),
  a("quiet", "calme", "calme", "calmes", "calmes"),
  a("famous", "célèbre", "célèbre", "célèbres", "célèbres"),
];

const v = (en: [string, string], fr: [string, string], transitive: boolean): Verb => ({ en, fr, transitive });

export const VERBS: Verb[] = [
  v(["sees", "see"], ["voit", "voient"], true),
  v(["likes", "like"], ["aime", "aiment"], true),
  v(["takes", "take"], ["prend", "prennent"], true),
  v(["finds", "find"], ["trouve", "trouvent"], true),
  v(["watches", "watch"], ["regarde", "regardent"], true),
  v(["follows", "follow"], ["suit", "suivent"], true),
  v(["opens", "open"], ["ouvre", "ouvrent"], true),
  v(["paints", "paint"], ["peint", "peignent"], true),
  v(["sleeps", "sleep"], ["dort", "dorment"], false),
  v(["sings", "sing"], ["chante", "chantent"], false),
  v(["runs", "run"], ["court", "courent"], false),
  v(["waits", "wait"], ["attend", "attendent"], false),
];

const placeNoun = (en: string, fr: string, g: Gender, vowel = false): Noun => n(en, en + "s", fr, fr + "s", g, vowel);
const PLACES: Place[] = [
  { en: "in", fr: "dans", noun: placeNoun("garden", "jardin", "m") },
  { en: "in", fr: "dans", noun: placeNoun("kitchen", "cuisine", "f") },
  { en: "near", fr: "près de", noun: placeNoun("river", "rivière", "f") },
  { en: "near", fr: "près de", noun: placeNoun("station", "gare", "f") },
  { en: "behind", fr: "derrière", noun: placeNoun("church", "église", "f", true) },
  { en: "in front of", fr: "devant", noun: placeNoun("school", "école", "f", true) },
  { en: "under", fr: "sous", noun: placeNoun("bridge", "pont", "m") },
  { en: "near", fr: "près de", noun: placeNoun("market", "marché", "m") },
];

const CONNECTORS: [string, string][] = [
  ["and", "et"],
  ["but", "mais"],
  ["because", "parce que"],
  ["then", "puis"],
];

const ADVERBS: [string, string][] = [
  ["today", "aujourd'hui"],
  ["again", "encore"],
  ["slowly", "lentement"],
];

/** A sentence pair, tokenised: lower-case words and punctuation separated by spaces. */
export interface SentencePair {
  en: string;
  fr: string;
}

function pick<T>(gen: Generator, items: T[]): T {
  return items[Math.floor(gen.nextFloat64() * items.length)];
}

function chance(gen: Generator, p: number): boolean {
  return gen.nextFloat64() < p;
}

/** French definite article, with elision (l') and the contraction de + le = du, de + les = des. */
function frDefinite(noun: Noun, plural: boolean, afterDe = false): string[] {
  if (plural) return afterDe ? ["des"] : ["les"];
  if (noun.vowel) return afterDe ? ["de", "l'"] : ["l'"];
  if (noun.g === "m") return afterDe ? ["du"] : ["le"];
  return afterDe ? ["de", "la"] : ["la"];
}

interface NounPhrase {
  en: string[];
  fr: string[];
  plural: boolean;
}

function nounPhrase(gen: Generator): NounPhrase {
  const noun = pick(gen, NOUNS);
  const plural = chance(gen, 0.3);
  const definite = plural || chance(gen, 0.6);
  const adj = chance(gen, 0.5) ? pick(gen, ADJECTIVES) : null;
  const en: string[] = [];
  const fr: string[] = [];
  if (plural) en.push("the");
  else en.push(definite ? "the" : "a");
  if (adj) en.push(adj.en);
  en.push(plural ? noun.enPl : noun.en);
  if (definite) fr.push(...frDefinite(noun, plural));
  else fr.push(noun.g === "m" ? "un" : "une");
  fr.push(plural ? noun.frPl : noun.fr);
  if (adj) fr.push(adj.fr[(plural ? 2 : 0) + (noun.g === "f" ? 1 : 0)]);
  return { en, fr, plural };
}

function clause(gen: Generator): { en: string[]; fr: string[] } {
  const subject = nounPhrase(gen);
  const verb = pick(gen, VERBS);
  const en = [...subject.en, verb.en[subject.plural ? 1 : 0]];
  const fr = [...subject.fr, verb.fr[subject.plural ? 1 : 0]];
  if (verb.transitive) {
    const object = nounPhrase(gen);
    en.push(...object.en);
    fr.push(...object.fr);
  }
  if (chance(gen, 0.4)) {
    const place = pick(gen, PLACES);
    en.push(...place.en.split(" "), "the", place.noun.en);
    const afterDe = place.fr === "près de";
    fr.push(...(afterDe ? ["près"] : place.fr.split(" ")), ...frDefinite(place.noun, false, afterDe), place.noun.fr);
  }
  if (chance(gen, 0.15)) {
    const [e, f] = pick(gen, ADVERBS);
    en.push(e);
    fr.push(f);
  }
  return { en, fr };
}

/** One sentence of 1 to `maxClauses` clauses. */
export function sentencePair(gen: Generator, maxClauses = 5): SentencePair {
  const clauses = 1 + Math.floor(gen.nextFloat64() * maxClauses);
  const en: string[] = [];
  const fr: string[] = [];
  for (let i = 0; i < clauses; i++) {
    if (i > 0) {
      const [ce, cf] = pick(gen, CONNECTORS);
      en.push(ce);
      fr.push(...cf.split(" "));
    }
    const c = clause(gen);
    // French elides "que" before a vowel: "parce qu' un", "parce qu' une" (tokens, like "l' ").
    if (fr[fr.length - 1] === "que" && /^[aeiouéèh]/.test(c.fr[0]) && !c.fr[0].endsWith("'")) fr[fr.length - 1] = "qu'";
    en.push(...c.en);
    fr.push(...c.fr);
  }
  en.push(".");
  fr.push(".");
  return { en: en.join(" "), fr: fr.join(" ") };
}

/** `count` distinct sentence pairs from seed `seed`, none of which is in `exclude` (by English side). */
export function generatePairs(count: number, seed: number, exclude: Set<string> = new Set(), maxClauses = 5): SentencePair[] {
  const gen = new Generator(seed);
  const seen = new Set(exclude);
  const out: SentencePair[] = [];
  let attempts = 0;
  while (out.length < count) {
    if (++attempts > count * 50) throw new Error(`generatePairs: could not find ${count} distinct sentences`);
    const p = sentencePair(gen, maxClauses);
    if (seen.has(p.en)) continue;
    seen.add(p.en);
    out.push(p);
  }
  return out;
}

/** The course's corpus: train, valid and test splits with no sentence in two splits. */
export function generateCorpus(sizes = { train: 20000, valid: 1000, test: 2000 }, seed = 2014): Record<"train" | "valid" | "test", SentencePair[]> {
  const test = generatePairs(sizes.test, seed + 2);
  const valid = generatePairs(sizes.valid, seed + 1, new Set(test.map((p) => p.en)));
  const train = generatePairs(sizes.train, seed, new Set([...test, ...valid].map((p) => p.en)));
  return { train, valid, test };
}
