import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    // The fault suite runs on its own: npm run test:faults.
    exclude: ["test/faults/**", "**/node_modules/**", "**/dist/**"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // The JSON report lets CI print one plain "N passed, N failed" line at the very end.
    reporters: ["default", ["json", { outputFile: "test-results/vitest.json" }]],
  },
});
