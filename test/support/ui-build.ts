import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "vite";

/** A fresh build of ui/ in a temporary directory, so tests see the current source. */
export async function buildUi(): Promise<{ dir: string; cleanup(): void }> {
  const dir = mkdtempSync(join(tmpdir(), "sessiond-ui-"));
  await build({
    configFile: join(import.meta.dirname, "../../ui/vite.config.ts"),
    logLevel: "error",
    build: { outDir: dir, emptyOutDir: true, sourcemap: false },
  });
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
