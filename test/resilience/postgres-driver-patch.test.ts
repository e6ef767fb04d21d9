import { execFile } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
// @ts-expect-error: a plain ES module without type declarations
import * as patch from "../../scripts/patch-postgres.mjs";
import { serviceUrls } from "../support/stores.js";

const run = promisify(execFile);
const fixture = join(import.meta.dirname, "fixtures", "postgres-close-race.mjs");
const { COPIES, driverRoot, isPatched, patchDriver, patchText, revertText } = patch as {
  COPIES: string[];
  driverRoot(): string;
  isPatched(text: string): boolean;
  patchDriver(root?: string): string[];
  patchText(text: string, file: string): string;
  revertText(text: string, file: string): string;
};

/** A folder with its own copy of the installed driver, patched or as published. */
function driverCopy(patched: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), "sessiond-pgpatch-"));
  cpSync(driverRoot(), join(dir, "node_modules", "postgres"), { recursive: true });
  const root = join(dir, "node_modules", "postgres");
  for (const copy of COPIES) {
    const file = join(root, copy);
    writeFileSync(file, revertText(readFileSync(file, "utf8"), file));
  }
  if (patched) patchDriver(root);
  cpSync(fixture, join(dir, "race.mjs"));
  dirs.push(dir);
  return dir;
}

async function race(dir: string, flavour: "esm" | "cjs") {
  try {
    const { stdout } = await run(process.execPath, [join(dir, "race.mjs"), serviceUrls.postgres, flavour], { timeout: 20_000 });
    return { exitCode: 0, stdout, stderr: "" };
  } catch (error) {
    const failed = error as { code?: number; stdout: string; stderr: string };
    return { exitCode: failed.code ?? -1, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe("postgres.js close-safety patch", () => {
  it("is installed in every build of the driver", () => {
    for (const copy of COPIES) expect(isPatched(readFileSync(join(driverRoot(), copy), "utf8")), copy).toBe(true);
  });

  it("the published driver dies (or hangs) when a reserved connection's backend is terminated", async () => {
    const outcome = await race(driverCopy(false), "esm");
    expect(outcome.exitCode).not.toBe(0);
    // Usually the crash; when the close arrives before the write, the query never settles instead.
    if (!outcome.stderr.includes("Cannot read properties of null (reading 'write')")) expect(outcome.exitCode).toBe(-1);
  });

  it.each(["esm", "cjs"] as const)("the patched driver (%s) rejects the query and serves the next one", async (flavour) => {
    const outcome = await race(driverCopy(true), flavour);
    expect(outcome.stderr).toBe("");
    expect(outcome.exitCode).toBe(0);
    const result = JSON.parse(outcome.stdout) as { outcomes: string[]; next: number };
    expect(result.outcomes.every((code) => code !== "ok")).toBe(true);
    expect(result.next).toBe(1);
  });

  it("is idempotent and refuses driver code it does not know", () => {
    const file = join(driverRoot(), "src", "connection.js");
    const patched = readFileSync(file, "utf8");
    expect(patchText(patched, file)).toBe(patched);
    expect(patchText(revertText(patched, file), file)).toBe(patched);
    expect(() => patchText("export default 1\n", file)).toThrow(/porsager\/postgres#1208/);
  });
});
