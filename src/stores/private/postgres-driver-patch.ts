import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { SessiondError } from "../../core/errors.js";

const SCRIPT = join("scripts", "patch-postgres.mjs");

/**
 * Makes sure the installed postgres.js carries sessiond's close-safety patch
 * (see scripts/patch-postgres.mjs) before the driver is loaded. The root
 * `postinstall` applies it; when npm skipped that (a dependency's install
 * scripts run only when allowed), it is applied here. A driver that cannot
 * be patched (read-only install, changed driver code) is refused: unpatched,
 * a PostgreSQL outage kills the process.
 */
export async function ensurePostgresDriverPatched(): Promise<void> {
  const script = findScript(dirname(fileURLToPath(import.meta.url)));
  const patcher = (await import(pathToFileURL(script).href)) as { patchDriver(): string[] };
  try {
    patcher.patchDriver();
  } catch (error) {
    throw new SessiondError(
      "unavailable",
      `store: the postgres driver lacks sessiond's patch and cannot be patched (${(error as Error).message}); ` +
        `run "node ${script}" with write access to node_modules, or allow sessiond's install script`,
      { cause: error },
    );
  }
}

function findScript(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, SCRIPT);
    if (existsSync(candidate) && existsSync(join(dir, "package.json"))) return candidate;
    if (dirname(dir) === dir) throw new Error(`${SCRIPT} not found above ${from}`);
  }
}
