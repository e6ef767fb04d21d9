import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "../..");
let fixture: string;
const children = new Set<ChildProcess>();

beforeAll(() => {
  fixture = mkdtempSync(join(tmpdir(), "sessiond-serve-ui-"));
  writeFileSync(join(fixture, "index.html"), "<!doctype html><title>fixture viewer</title>");
});
afterAll(() => {
  for (const child of children) child.kill("SIGKILL");
  rmSync(fixture, { recursive: true, force: true });
});

/** `sessiond serve` from source on a free port; resolves once it logged its URL. */
async function serve(args: string[]) {
  const child = spawn(join(root, "node_modules/.bin/vite-node"), ["test/support/cli-entry.ts", "--", "serve", "--store", "memory:", "--port", "0", ...args], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.add(child);
  const lines: Record<string, unknown>[] = [];
  let stderr = "";
  child.stderr!.on("data", (c) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let buffered = "";
    child.stdout!.on("data", (chunk) => {
      buffered += chunk;
      for (let i = buffered.indexOf("\n"); i >= 0; i = buffered.indexOf("\n")) {
        const line = JSON.parse(buffered.slice(0, i)) as Record<string, unknown>;
        buffered = buffered.slice(i + 1);
        lines.push(line);
        if (line.msg === "serving") resolve(String(line.url));
      }
    });
    void exited.then((code) => reject(new Error(`serve exited with ${code}: ${stderr}`)));
  });
  const stop = async () => {
    child.kill("SIGTERM");
    const code = await exited;
    children.delete(child);
    return code;
  };
  return { url, lines, stop };
}

describe("sessiond serve", () => {
  it("serves the viewer at /ui next to the API, and drains on SIGTERM", async () => {
    const s = await serve(["--ui-dir", fixture]);
    await expect.poll(() => s.lines.find((l) => l.msg === "session viewer")).toMatchObject({ url: `${s.url}/ui/` });
    const page = await fetch(`${s.url}/ui/`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await page.text()).toContain("fixture viewer");
    const api = await fetch(`${s.url}/sessiond.v1.SessionService/ListSessions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ appName: "serve-test" }),
    });
    expect(api.status).toBe(200);
    expect(await s.stop()).toBe(0);
  });

  it("with --no-ui leaves /ui to the API router", async () => {
    const s = await serve(["--no-ui", "--ui-dir", fixture]);
    const res = await fetch(`${s.url}/ui/`);
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain("fixture viewer");
    expect(await s.stop()).toBe(0);
    expect(s.lines.map((l) => l.msg)).not.toContain("session viewer");
  });
});
