import { defineConfig } from "vitest/config";

/**
 * The fault suite (`npm run test:faults`): kill -9 of the server, outages of
 * private database instances and a fuzzer, against the built `sessiond`.
 * Files run one at a time: they start servers and databases of their own.
 */
export default defineConfig({
  test: {
    include: ["test/faults/**/*.test.ts"],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    pool: "forks",
    fileParallelism: false,
    globalSetup: ["test/faults/support/summary.ts"],
  },
});
