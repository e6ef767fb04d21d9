import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SessiondServer, startServer } from "../../src/server.js";
import { MemoryStore } from "../../src/stores/memory.js";
import { staticRoutes } from "../../src/ui/static-route.js";

let server: SessiondServer;
let base: string;

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), "sessiond-static-"));
  const root = join(base, "ui");
  mkdirSync(join(root, "assets"), { recursive: true });
  writeFileSync(join(root, "index.html"), "<!doctype html><title>viewer</title>");
  writeFileSync(join(root, "assets", "app-1a2b.js"), "console.log(1)");
  writeFileSync(join(root, "assets", "app-1a2b.css"), "body{}");
  writeFileSync(join(root, "logo.svg"), "<svg/>");
  writeFileSync(join(root, ".env"), "SECRET=1");
  writeFileSync(join(base, "secret.txt"), "outside the root");
  server = await startServer({ store: new MemoryStore(), port: 0, httpRoutes: staticRoutes({ root }) });
});
afterAll(async () => {
  await server?.close(1000);
  rmSync(base, { recursive: true, force: true });
});

/** A raw request, so the path reaches the server exactly as written (fetch would normalize "..") */
function get(path: string, headers: Record<string, string> = {}, method = "GET") {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port: server.port, path, method, headers, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("static route for /ui", () => {
  it("redirects /ui to /ui/ and serves index.html there, revalidated on each load", async () => {
    const redirect = await get("/ui?x=1");
    expect(redirect.status).toBe(308);
    expect(redirect.headers.location).toBe("/ui/?x=1");
    const index = await get("/ui/");
    expect(index.status).toBe(200);
    expect(index.body).toContain("<title>viewer</title>");
    expect(index.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(index.headers["cache-control"]).toBe("no-cache");
    expect(index.headers["content-security-policy"]).toContain("default-src 'self'");
    expect(index.headers["x-content-type-options"]).toBe("nosniff");
    const again = await get("/ui/index.html", { "if-none-match": String(index.headers.etag) });
    expect(again.status).toBe(304);
    expect(again.body).toBe("");
  });

  it("serves hashed assets with their content type, cached for a year", async () => {
    const js = await get("/ui/assets/app-1a2b.js");
    expect(js.status).toBe(200);
    expect(js.body).toBe("console.log(1)");
    expect(js.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(js.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect((await get("/ui/assets/app-1a2b.css")).headers["content-type"]).toBe("text/css; charset=utf-8");
    const svg = await get("/ui/logo.svg");
    expect(svg.headers["content-type"]).toBe("image/svg+xml");
    expect(svg.headers["cache-control"]).toBe("no-cache");
    const head = await get("/ui/assets/app-1a2b.js", {}, "HEAD");
    expect(head.status).toBe(200);
    expect(head.headers["content-length"]).toBe("14");
  });

  it("never serves files outside the root, dotfiles or other methods", async () => {
    for (const path of ["/ui/../secret.txt", "/ui/%2e%2e/secret.txt", "/ui/assets/%2e%2e%2f%2e%2e%2fsecret.txt", "/ui/..%5csecret.txt", "/ui/.env", "/ui/%00", "/ui/%zz"]) {
      const res = await get(path);
      expect(res.status, path).toBe(404);
      expect(res.body, path).not.toContain("outside the root");
      expect(res.body, path).not.toContain("SECRET");
    }
    expect((await get("/ui/missing.js")).status).toBe(404);
    const post = await get("/ui/index.html", {}, "POST");
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe("GET, HEAD");
  });

  it("says how to build the viewer when the directory is empty", async () => {
    const empty = mkdtempSync(join(tmpdir(), "sessiond-static-empty-"));
    const bare = await startServer({ store: new MemoryStore(), port: 0, httpRoutes: staticRoutes({ root: empty }) });
    try {
      const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        http.get(`${bare.url}/ui/`, { agent: false }, (r) => {
          let body = "";
          r.on("data", (c) => (body += c));
          r.on("end", () => resolve({ status: r.statusCode!, body }));
        }).on("error", reject);
      });
      expect(res.status).toBe(404);
      expect(res.body).toContain("npm run build:ui");
    } finally {
      await bare.close(1000);
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it("leaves the API on the same port alone", async () => {
    const res = await fetch(`${server.url}/sessiond.v1.SessionService/ListSessions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ appName: "none" }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
  });
});
