import type { HttpRequest, HttpResponse, HttpRoute } from "../server.js";
import type { HealthMonitor } from "./health.js";

/**
 * HTTP probes for platforms that probe over plain HTTP (Kubernetes httpGet,
 * Cloud Run, load balancers), served on the API's port without a key:
 * `/healthz` answers 200 while the process serves at all (liveness);
 * `/readyz` answers 200 only while the store answers and the server is not
 * draining, 503 otherwise (readiness, start-up).
 */
export function probeRoutes(health: HealthMonitor): HttpRoute[] {
  return [
    { path: "/healthz", handle: (req, res) => answer(req, res, 200, "ok") },
    {
      path: "/readyz",
      // A fresh ping (shared with a concurrent one), so a probe sees an outage at once.
      handle: async (req, res) => ((await health.probe()) ? answer(req, res, 200, "ready") : answer(req, res, 503, "not ready")),
    },
  ];
}

function answer(req: HttpRequest, res: HttpResponse, status: number, text: string): void {
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.statusCode = 405;
    res.setHeader("allow", "GET, HEAD");
    res.end();
    return;
  }
  res.statusCode = status;
  res.setHeader("content-type", "text/plain; charset=utf-8");
  res.setHeader("cache-control", "no-store");
  if (req.method === "HEAD") res.end();
  else res.end(`${text}\n`);
}
