import { existsSync, statSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { dirname, extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { HttpRequest, HttpResponse, HttpRoute } from "../server.js";

/** Where and what to serve. */
export interface StaticRouteOptions {
  /** Directory of the built files (index.html and assets/). */
  root: string;
  /** URL prefix, without trailing slash; default "/ui". */
  prefix?: string;
}

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

// The page only talks to its own origin; no inline code, no third parties.
const CONTENT_SECURITY_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/**
 * Serves a built single-page app below `prefix`: `/ui` redirects to `/ui/`,
 * which serves index.html. Bundler output under assets/ has content hashes
 * in its names and is cached for a year; everything else is revalidated.
 * Paths that leave the root, dotfiles and unknown files answer 404.
 */
export function staticRoutes(options: StaticRouteOptions): HttpRoute[] {
  const root = resolve(options.root);
  const prefix = options.prefix ?? "/ui";
  return [
    {
      path: prefix,
      handle(req, res) {
        const query = (req.url ?? "").slice(prefix.length);
        res.statusCode = 308;
        res.setHeader("Location", `${prefix}/${query}`);
        res.end();
      },
    },
    { path: `${prefix}/`, handle: (req, res) => serveFile(root, prefix, req, res) },
  ];
}

/** The built viewer of this package: dist/ui next to package.json. */
export function defaultUiRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("package.json not found above the UI route module");
    dir = parent;
  }
  return join(dir, "dist", "ui");
}

/** True when `root` holds a built viewer. */
export function isBuilt(root: string): boolean {
  return existsSync(join(root, "index.html")) && statSync(join(root, "index.html")).isFile();
}

async function serveFile(root: string, prefix: string, req: HttpRequest, res: HttpResponse): Promise<void> {
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("Allow", "GET, HEAD");
    return plain(res, 405, "method not allowed");
  }
  const file = resolveFile(root, (req.url ?? "/").split("?")[0]!.slice(prefix.length + 1));
  if (file === undefined) return plain(res, 404, "not found");
  const info = await stat(file).catch(() => undefined);
  if (!info?.isFile()) {
    const hint = isBuilt(root) ? "not found" : "the viewer is not built: run `npm run build:ui`";
    return plain(res, 404, hint);
  }
  const etag = `"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
  const hashed = file.startsWith(join(root, "assets") + sep);
  res.setHeader("Content-Type", CONTENT_TYPES[extname(file)] ?? "application/octet-stream");
  res.setHeader("Cache-Control", hashed ? "public, max-age=31536000, immutable" : "no-cache");
  res.setHeader("ETag", etag);
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.setHeader("Referrer-Policy", "no-referrer");
  if (extname(file) === ".html") res.setHeader("Content-Security-Policy", CONTENT_SECURITY_POLICY);
  if (req.headers["if-none-match"] === etag) {
    res.statusCode = 304;
    res.end();
    return;
  }
  const body = await readFile(file);
  res.statusCode = 200;
  res.setHeader("Content-Length", body.length);
  if (req.method === "HEAD") res.end();
  else res.end(body);
}

/** The file a URL path names inside `root`, or undefined when it may not be served. */
function resolveFile(root: string, urlPath: string): string | undefined {
  let relative: string;
  try {
    relative = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (relative.includes("\0") || relative.includes("\\")) return undefined;
  const segments = relative.split("/");
  // No "..", and no dotfiles such as .DS_Store or .vite/ manifests.
  if (segments.some((s) => s.startsWith("."))) return undefined;
  if (relative === "" || relative.endsWith("/")) relative += "index.html";
  const file = resolve(root, relative);
  return file.startsWith(root + sep) ? file : undefined;
}

function plain(res: HttpResponse, status: number, text: string): void {
  res.statusCode = status;
  res.setHeader("Content-Type", "text/plain; charset=utf-8");
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.end(`${text}\n`);
}
