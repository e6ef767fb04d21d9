import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportCommand } from "../../src/commands/export.js";
import { migrateCommand } from "../../src/commands/migrate.js";
import { purgeCommand } from "../../src/commands/purge.js";
import { captureIo } from "./fixtures.js";

/** Tools that read or delete open existing stores only: a mistyped URL fails and creates nothing. */
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "sessiond-read-tools-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("read tools never create a store", () => {
  it("export, purge and migrate --from fail on a missing SQLite file without creating it", async () => {
    const missing = join(dir, "typo", "sessions.db");
    const runs: [string, Promise<void>][] = [
      ["export", exportCommand(["--store", `sqlite:${missing}`], captureIo().io)],
      ["purge", purgeCommand(["--store", `sqlite:${missing}`, "--older-than", "30d"], captureIo().io)],
      ["migrate --from", migrateCommand(["--from", `sqlite:${missing}`, "--to", `sqlite:${join(dir, "to.db")}`], captureIo().io)],
    ];
    for (const [name, run] of runs) {
      await expect(run, name).rejects.toMatchObject({ kind: "not_found", message: expect.stringContaining("does not exist") });
    }
    expect(existsSync(join(dir, "typo"))).toBe(false);
  });
});
