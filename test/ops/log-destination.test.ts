import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { DestinationStream } from "pino";
import { describe, expect, it } from "vitest";
import { BatchedDestination } from "../../src/ops/log-destination.js";
import { createLogger } from "../../src/ops/logger.js";

/** A sink that records each write it gets. */
function recordingSink(): DestinationStream & { writes: string[] } {
  const writes: string[] = [];
  return { writes, write: (text: string) => void writes.push(text) };
}

const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
const lines = (writes: string[]) => writes.join("").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as { msg: string });

describe("batched log destination", () => {
  it("writes the lines of one event-loop turn with one write, after the turn, in order", async () => {
    const sink = recordingSink();
    const logger = createLogger({ destination: new BatchedDestination(sink) });
    for (let i = 0; i < 5; i++) logger.info(`line ${i}`);
    expect(sink.writes).toEqual([]);
    await nextTurn();
    expect(sink.writes).toHaveLength(1);
    logger.info("line 5");
    await nextTurn();
    expect(sink.writes).toHaveLength(2);
    expect(lines(sink.writes).map((l) => l.msg)).toEqual(["line 0", "line 1", "line 2", "line 3", "line 4", "line 5"]);
  });

  it("writes an error at once, behind the lines waiting before it", async () => {
    const sink = recordingSink();
    const logger = createLogger({ destination: new BatchedDestination(sink) });
    logger.info("first");
    logger.warn("second");
    logger.error("broken");
    expect(lines(sink.writes).map((l) => l.msg)).toEqual(["first", "second", "broken"]);
    logger.fatal("worse");
    expect(lines(sink.writes).map((l) => l.msg)).toEqual(["first", "second", "broken", "worse"]);
    logger.info("after");
    await nextTurn();
    expect(lines(sink.writes).map((l) => l.msg)).toEqual(["first", "second", "broken", "worse", "after"]);
  });

  it("writes the waiting lines to stdout when the process exits before the turn ends", () => {
    // The built module, as `sessiond serve` runs it (npm test builds first).
    const module = fileURLToPath(new URL("../../dist/src/ops/logger.js", import.meta.url));
    const script = `
      const { createLogger } = await import(${JSON.stringify(module)});
      const logger = createLogger();
      for (let i = 0; i < 3; i++) logger.info("line " + i);
      process.exit(0);
    `;
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 30_000 });
    expect(child.status, child.stderr).toBe(0);
    expect(lines([child.stdout]).map((l) => l.msg)).toEqual(["line 0", "line 1", "line 2"]);
  });
});
