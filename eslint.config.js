// Lint: ESLint's and typescript-eslint's recommended rules, type-aware.
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

const vitestOnlyInTests = { group: ["vitest", "vitest/*"], message: "Test code lives in *.test.ts files or under test/." };

export default tseslint.config(
  { ignores: ["node_modules/", "prisma/generated/", ".data/", ".cache/"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: { allowDefaultProject: ["*.js", "tools/bootstrap/*.mjs"] }, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", ignoreRestSiblings: true }],
    },
  },
  {
    // Tests and benchmarks read JSON replies as they come: typing every body would only restate the assertions.
    files: ["test/**/*.ts", "**/*.test.ts", "bench/**/*.ts"],
    rules: {
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "@typescript-eslint/no-explicit-any": "off",
    },
  },
  { files: ["**/*.js", "**/*.mjs"], ...tseslint.configs.disableTypeChecked, languageOptions: { globals: globals.node } },
  {
    // Test helpers live in test/ or in test files, never beside production code.
    files: ["**/*.ts"],
    ignores: ["test/**", "**/*.test.ts", "bench/**", "vitest.config.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: [vitestOnlyInTests] }] },
  },
  {
    // The API loads the templates: they stay pure data and functions, without the Pulumi SDKs.
    files: ["components/templates/**/*.ts"],
    ignores: ["**/*.test.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [vitestOnlyInTests, { group: ["@pulumi/*"], message: "Templates are pure (the API loads them): Pulumi belongs in components/targets or components/template-system.ts." }] },
      ],
    },
  },
);
