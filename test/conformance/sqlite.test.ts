import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteStore } from "../../src/stores/sqlite.js";
import { conformance } from "./suite.js";

const dir = mkdtempSync(join(tmpdir(), "sessiond-sqlite-"));
conformance("sqlite", {
  open: () => SqliteStore.open(join(dir, "conformance.db")),
  cleanup: async () => rmSync(dir, { recursive: true, force: true }),
});
