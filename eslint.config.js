// Lint: ESLint's and typescript-eslint's recommended rules, type-aware.
import js from "@eslint/js";
import globals from "globals";
import reactHooks from "eslint-plugin-react-hooks";
import tseslint from "typescript-eslint";

const vitestOnlyInTests = { group: ["vitest", "vitest/*"], message: "Test code lives in *.test.ts files or under test/." };
const noEngine = (who) => ({
  group: ["@pulumi/*", "**/components/targets/**", "**/components/template-system*"],
  message: `${who} loads no engine SDK: Pulumi belongs in components/targets, components/template-system.ts and automation/.`,
});

/** What each layer may not import. */
const layers = {
  core: [
    { group: ["**/api/**", "**/automation/**"], message: "core is shared by the API and the automation: it imports neither." },
    noEngine("core"),
  ],
  automation: [{ group: ["**/api/**"], message: "the automation does not depend on the API: shared code lives in core/." }],
  api: [
    { group: ["**/automation/**", "!**/automation/index.js"], message: "the API reaches the automation through automation/index.js only." },
    noEngine("the API process"),
  ],
  "components/templates": [
    {
      group: ["@pulumi/*", "**/targets/**", "**/template-system*"],
      message: "Templates are pure (the API loads them): Pulumi belongs in components/targets or components/template-system.ts.",
    },
    { group: ["**/api/**", "**/automation/**", "**/core/**"], message: "components depend on nothing above them." },
  ],
};

export default tseslint.config(
  { ignores: ["node_modules/", "prisma/generated/", ".data/", ".cache/", ".build/", "console/dist/"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ["*.js", "tools/bootstrap/*.mjs"] }, tsconfigRootDir: import.meta.dirname },
    },
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
      // Fakes implement async interfaces without awaiting anything.
      "@typescript-eslint/require-await": "off",
    },
  },
  { files: ["**/*.js", "**/*.mjs"], ...tseslint.configs.disableTypeChecked, languageOptions: { globals: globals.node } },
  // no-restricted-imports, one configuration per folder (a later one replaces
  // an earlier one's patterns for the files both match, so each lists all of its own).
  {
    // Test helpers live in test/ or in test files, never beside production code.
    files: ["**/*.ts"],
    ignores: ["test/**", "**/*.test.ts", "bench/**", "vitest.config.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: [vitestOnlyInTests] }] },
  },
  // Layers depend one way: components/templates (pure) <- core (config, database,
  // logger, cipher, status, events, scheduler) <- automation (the engine) and api
  // (HTTP). The API reaches the automation through automation/index.ts only, and
  // loads no engine SDK (@pulumi/*) and no component that builds Pulumi resources.
  // Tests may cross layers (a team made through the API to test the queue).
  ...Object.entries(layers).map(([folder, patterns]) => ({
    files:
      folder === "components/templates"
        ? ["components/templates/**/*.ts", "components/prices/**/*.ts", "components/images.ts", "components/versions.ts"]
        : [`${folder}/**/*.ts`],
    ignores: ["**/*.test.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: [vitestOnlyInTests, ...patterns] }] },
  })),
  // The web console (issue 14) runs in the browser and talks to the service over HTTP only: it imports
  // none of the server's code (nor node:*), and its hooks follow React's rules.
  {
    files: ["console/**/*.{ts,tsx}"],
    languageOptions: { globals: globals.browser },
    plugins: { "react-hooks": reactHooks },
    rules: {
      // The rules of hooks; the React Compiler's advisory rules (set-state-in-effect flags every fetch-then-set) are not used.
      "react-hooks/rules-of-hooks": "error",
      "react-hooks/exhaustive-deps": "error",
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            vitestOnlyInTests,
            {
              group: [
                "**/api/**",
                "**/core/**",
                "**/automation/**",
                "**/components/**",
                "**/prisma/**",
                "**/tools/**",
                "@pulumi/*",
                "node:*",
              ],
              message: "The console reaches the service through its HTTP API only (console/src/api.ts).",
            },
          ],
        },
      ],
    },
  },
);
