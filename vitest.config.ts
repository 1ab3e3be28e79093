import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["**/*.test.ts"],
    exclude: ["node_modules/**", ".data/**", "prisma/generated/**"],
    // End-to-end tests drive real engines (Docker, Pulumi); they set their own, longer timeouts.
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Docker-heavy tests compete for 2 cores; files run one at a time.
    fileParallelism: false,
    // Operations queued before this moment are an earlier run's leftovers (test/service-client.ts).
    env: { PROVISIONER_TEST_RUN_STARTED: new Date().toISOString() },
  },
});
