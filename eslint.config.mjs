// npm run lint: ESLint (typescript-eslint's recommended rules) on the lib, the tests, the scripts and the bench,
// then Prettier's check of their formatting (npm run format rewrites it). Formatting rules are Prettier's alone.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import prettier from "eslint-config-prettier";
import globals from "globals";

export default tseslint.config(
  { ignores: ["node_modules/", "lib/dist/", "build/", "test-artifacts/", "site/", "slides/", ".venv/", ".stryker-tmp/", "notebooks/", "lite/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // Tests and the browser side of the UI tests reach into JupyterLab's app object, which has no types here.
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
    },
  },
  { files: ["**/*.cjs"], rules: { "@typescript-eslint/no-require-imports": "off" } },
  prettier,
);
