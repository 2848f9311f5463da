// Loads the speed wings, which register their fast losses for the Trainer (./training.ts): imported once by ../index.ts.
import "../seq2seq/fast";
import "../transformer/fast";
