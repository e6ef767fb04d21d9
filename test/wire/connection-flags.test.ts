import net from "node:net";
import { describe, expect, it } from "vitest";
import { parseServeArgs } from "../../src/commands/serve.js";
import { serveConfig, startCaptured } from "../ops/sessiond.js";

describe("connection flags of sessiond serve", () => {
  it("read every limit from a flag or its environment variable, and refuse zero or garbage", () => {
    const config = parseServeArgs(
      ["--handshake-timeout-ms", "1", "--headers-timeout-ms", "2", "--keep-alive-timeout-ms", "3", "--idle-timeout-ms", "4", "--max-concurrent-streams", "5"],
      { SESSIOND_MAX_CONNECTIONS: "6", SESSIOND_MAX_RESETS_PER_10S: "7" },
    );
    expect(config.connectionLimits).toEqual({
      handshakeTimeoutMs: 1,
      headersTimeoutMs: 2,
      keepAliveTimeoutMs: 3,
      idleTimeoutMs: 4,
      maxConcurrentStreams: 5,
      maxConnections: 6,
      maxResetsPer10s: 7,
    });
    expect(parseServeArgs([], {}).connectionLimits).toEqual({});
    expect(() => parseServeArgs(["--max-concurrent-streams", "0"], {})).toThrow("--max-concurrent-streams must be at least 1");
    expect(() => parseServeArgs(["--idle-timeout-ms", "5s"], {})).toThrow("--idle-timeout-ms must be a non-negative integer");
  });

  it("reach the listener: a silent connection is closed after --handshake-timeout-ms", async () => {
    const { sessiond } = await startCaptured(serveConfig(["--handshake-timeout-ms", "200"]));
    try {
      const socket = net.connect(sessiond.server.port, "127.0.0.1");
      socket.on("error", () => {});
      const started = Date.now();
      await new Promise((resolve) => socket.once("close", resolve));
      // Closed by the server (the default would be 10 s), well before the test's own timeout.
      expect(Date.now() - started).toBeLessThan(9_000);
    } finally {
      await sessiond.close(1000);
    }
  });
});
