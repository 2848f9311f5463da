// Loads the speed wings (the recurrent translators, the Transformer, the GPT), which register their fast losses for the Trainer (./training.ts): imported once by ../index.ts.
import "../seq2seq/fast";
import "../transformer/fast";
import "../gpt/fast";
