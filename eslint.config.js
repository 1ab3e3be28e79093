// Lint: ESLint's and typescript-eslint's recommended rules, type-aware.
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

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
  // Layers depend one way: components (templates, pure) <- core (config, database,
  // logger, cipher, status, events) <- automation (the engine) and api (HTTP).
  // The API reaches the automation through automation/index.ts only, and loads
  // no engine SDK (@pulumi/*) and no component that builds Pulumi resources.
  {
    files: ["core/**/*.ts"],
    // Tests set up across layers (a team through the API to test the queue); the rule is for what runs.
    ignores: ["**/*.test.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [
        { group: ["**/api/**", "**/automation/**"], message: "core is shared by the API and the automation: it imports neither." },
        { group: ["@pulumi/*", "**/components/targets/**", "**/components/template-system*"], message: "core loads no engine SDK." },
      ] }],
    },
  },
  {
    files: ["automation/**/*.ts"],
    ignores: ["**/*.test.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: ["**/api/**"], message: "the automation does not depend on the API: shared code lives in core/." }] }],
    },
  },
  {
    files: ["api/**/*.ts"],
    ignores: ["**/*.test.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [
        { group: ["**/automation/**", "!**/automation/index.js"], message: "the API reaches the automation through automation/index.js only." },
        { group: ["@pulumi/*", "**/components/targets/**", "**/components/template-system*"], message: "the API process loads no engine SDK: template metadata only (components/templates)." },
      ] }],
    },
  },
  {
    files: ["components/templates/**/*.ts", "components/images.ts"],
    ignores: ["**/*.test.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [
        { group: ["@pulumi/*", "**/targets/**", "**/template-system*"], message: "templates are pure metadata the API loads: no engine SDK." },
        { group: ["**/api/**", "**/automation/**", "**/core/**"], message: "components depend on nothing above them." },
      ] }],
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
      // Fakes implement async interfaces without awaiting anything.
      "@typescript-eslint/require-await": "off",
    },
  },
  { files: ["**/*.js", "**/*.mjs"], ...tseslint.configs.disableTypeChecked, languageOptions: { globals: globals.node } },
);
