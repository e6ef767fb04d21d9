import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../../gen/grpc/health/v1/health_pb.js";
import { SessionService } from "../../../gen/sessiond/v1/session_service_pb.js";

/** Clients of a running sessiond. */
export function clientsOf(url: string): { api: Client<typeof SessionService>; health: Client<typeof Health> } {
  const transport = createGrpcTransport({ baseUrl: url });
  return { api: createClient(SessionService, transport), health: createClient(Health, transport) };
}

/** The gRPC code name of a call's failure ("OK" for none). */
export function codeOf(error: unknown): string {
  if (error === undefined) return "OK";
  const name = Code[ConnectError.from(error).code] ?? "Unknown";
  return name.replace(/(?<=[a-z])(?=[A-Z])/g, "_").toUpperCase();
}

/** Counts per code name. */
export type Tally = Record<string, number>;

export function count(tally: Tally, code: string): void {
  tally[code] = (tally[code] ?? 0) + 1;
}

/**
 * Polls gRPC health every 50 ms and records when it flips. `waitFor`
 * resolves with the time the wanted status was first seen after `since`.
 */
export function watchHealth(health: Client<typeof Health>) {
  let serving: boolean | undefined;
  const flips: { at: number; serving: boolean }[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const ok = await health
        .check({ service: "" }, { timeoutMs: 400 })
        .then((r) => r.status === ServingStatus.SERVING, () => false);
      // Stamped when the answer arrived: a later bound than when the check began, never an earlier one.
      if (ok !== serving) flips.push({ at: Date.now(), serving: (serving = ok) });
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return {
    async waitFor(wanted: boolean, since: number, ms = 20_000): Promise<number> {
      const until = Date.now() + ms;
      for (;;) {
        const flip = flips.find((f) => f.at >= since && f.serving === wanted);
        if (flip) return flip.at;
        if (serving === wanted && flips.length > 0 && flips.at(-1)!.at < since) return since;
        if (Date.now() > until) throw new Error(`health did not become ${wanted ? "SERVING" : "NOT_SERVING"} within ${ms} ms`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

/** Figures of one fault scenario, collected into test-results/faults/ and printed at the end. */
export function recordFigures(name: string, figures: Record<string, unknown>): void {
  const dir = join(process.cwd(), "test-results", "faults");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${name}.json`), JSON.stringify(figures));
  console.log(`faults ${name}: ${JSON.stringify(figures)}`);
}
