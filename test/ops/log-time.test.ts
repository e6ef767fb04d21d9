import { describe, expect, it } from "vitest";
import { createLogger } from "../../src/ops/logger.js";

describe("log line time", () => {
  it("is the ISO 8601 time of the line to the millisecond, as lines follow each other within and across seconds", async () => {
    const lines: string[] = [];
    const logger = createLogger({ destination: { write: (line: string) => void lines.push(line) } });
    const stamps: [number, number][] = [];
    const until = Date.now() + 1100;
    while (Date.now() < until) {
      const before = Date.now();
      logger.info("tick");
      stamps.push([before, Date.now()]);
      await new Promise((resolve) => setTimeout(resolve, stamps.length % 3));
    }
    expect(lines.length).toBeGreaterThan(50);
    lines.forEach((line, i) => {
      const { time } = JSON.parse(line) as { time: string };
      expect(time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      const ms = Date.parse(time);
      expect(ms).toBeGreaterThanOrEqual(stamps[i]![0]);
      expect(ms).toBeLessThanOrEqual(stamps[i]![1]);
      expect(time).toBe(new Date(ms).toISOString());
    });
  });
});
