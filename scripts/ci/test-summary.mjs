// Prints the test run's totals from vitest's JSON report as one plain line.
import { readFileSync } from "node:fs";

const report = JSON.parse(readFileSync(new URL("../../test-results/vitest.json", import.meta.url), "utf8"));
const skipped = report.numPendingTests + report.numTodoTests;
console.log(`tests: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped`);
process.exit(report.numFailedTests === 0 && report.success ? 0 : 1);
