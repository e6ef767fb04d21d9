import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { npm, ROOT } from "./packed.js";

// `npm ci` refuses a lock file that lacks a platform's optional packages, so
// the lock must record those of every platform contributors use.

const work = mkdtempSync(join(tmpdir(), "sessiond-lock-"));
mkdirSync(join(work, "clients/typescript"), { recursive: true });
for (const file of ["package.json", "package-lock.json", "clients/typescript/package.json"]) {
  copyFileSync(join(ROOT, file), join(work, file));
}

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("the lock file", () => {
  it.each([
    ["linux", "x64", ["@bufbuild/buf-linux-x64", "@rollup/rollup-linux-x64-gnu", "@esbuild/linux-x64"]],
    ["darwin", "arm64", ["@bufbuild/buf-darwin-arm64", "@rollup/rollup-darwin-arm64", "@esbuild/darwin-arm64", "fsevents"]],
    ["win32", "x64", ["@bufbuild/buf-win32-x64", "@rollup/rollup-win32-x64-msvc", "@esbuild/win32-x64"]],
  ])("is accepted by npm ci on %s %s, with that platform's binaries", async (os, cpu, binaries) => {
    const plan = await npm(["ci", "--dry-run", "--ignore-scripts", "--no-audit", "--no-fund", `--os=${os}`, `--cpu=${cpu}`], work);
    const added = new Set([...plan.matchAll(/^add (\S+) /gm)].map((m) => m[1]));
    for (const name of binaries) expect(added, `${name} on ${os}`).toContain(name);
    expect(added).not.toContain(os === "linux" ? "@bufbuild/buf-darwin-arm64" : "@bufbuild/buf-linux-x64");
  }, 120_000);
});
