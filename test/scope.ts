// Mocha root hooks (loaded by .mocharc.json and `npm run test:unit`): every test runs in its own tfjs scope, so
// whatever it made and did not keep is freed when it ends, passed or failed. A failing test's tensors cannot pile
// up into a later test's leak check; the leak checks themselves (noLeak in helpers.ts) count inside the test.
import * as tf from "@tensorflow/tfjs";

let scope: unknown = null;

export const mochaHooks = {
  beforeEach(): void {
    tf.engine().startScope();
    scope = tf.engine().state.activeScope;
  },
  afterEach(): void {
    // A test that resets the engine (the backend tests) took its scopes with it: nothing left to end.
    if (tf.engine().state.activeScope === scope) tf.engine().endScope();
    scope = null;
  },
};
