import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { spawnServe } from "../support/cli-process.js";

let fixture: string;
beforeAll(() => {
  fixture = mkdtempSync(join(tmpdir(), "sessiond-serve-ui-"));
  writeFileSync(join(fixture, "index.html"), "<!doctype html><title>fixture viewer</title>");
});
afterAll(() => rmSync(fixture, { recursive: true, force: true }));

describe("sessiond serve", () => {
  it("serves the viewer at /ui next to the API, and drains on SIGTERM", async () => {
    const s = await spawnServe(["--store", "memory:", "--ui-dir", fixture]);
    await expect.poll(() => s.logs.find((l) => l.msg === "session viewer")).toMatchObject({ url: `${s.url}/ui/` });
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
    const s = await spawnServe(["--store", "memory:", "--no-ui", "--ui-dir", fixture]);
    const res = await fetch(`${s.url}/ui/`);
    expect(res.status).toBe(404);
    expect(await res.text()).not.toContain("fixture viewer");
    expect(await s.stop()).toBe(0);
    expect(s.logs.map((l) => l.msg)).not.toContain("session viewer");
  });
});
