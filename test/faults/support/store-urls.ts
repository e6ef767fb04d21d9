import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { testStores } from "../../support/stores.js";

/**
 * Store URLs that outlive the sessiond processes a test starts on them: a
 * file, schema, database or key prefix of its own each, removed by
 * `cleanup()` after the file's tests (in reverse order of creation).
 */
export function storeUrls(label: string) {
  const cleanups: (() => Promise<void>)[] = [];
  const isolated = (open: () => Promise<{ url: string; cleanup: () => Promise<void> }>) => async () => {
    const store = await open();
    cleanups.push(store.cleanup);
    return store.url;
  };
  return {
    urls: {
      memory: async () => "memory:",
      sqlite: async () => {
        const dir = mkdtempSync(join(tmpdir(), `sessiond-faults-${label}-`));
        cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
        return `sqlite:${join(dir, `${label}.db`)}`;
      },
      postgres: isolated(testStores.postgres!),
      mariadb: isolated(testStores.mysql!),
      redis: isolated(testStores.redis!),
    },
    /** Runs `cleanup` with the others. */
    track(cleanup: () => Promise<void>) {
      cleanups.push(cleanup);
    },
    async cleanup() {
      for (const cleanup of cleanups.reverse()) await cleanup();
    },
  };
}
