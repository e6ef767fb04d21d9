import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { checkBindPolicy } from "../../src/auth/bind-policy.js";
import { parseServeArgs } from "../../src/commands/serve.js";
import { ROOT } from "./packed.js";

// No container engine runs here: the Dockerfile and the compose file are
// read, and what they would run is checked against the CLI itself.

const work = mkdtempSync(join(tmpdir(), "sessiond-container-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The runtime stage of the Dockerfile: its ENV, VOLUME and exec-form instructions. */
function runtimeStage() {
  const text = readFileSync(join(ROOT, "Dockerfile"), "utf8").replace(/\\\n\s*/g, " ");
  const lines = text.split("\n").map((l) => l.trim());
  const stage = lines.slice(lines.findLastIndex((l) => l.startsWith("FROM ")));
  const instruction = (name: string) => stage.filter((l) => l.startsWith(`${name} `)).map((l) => l.slice(name.length + 1));
  const env: Record<string, string> = {};
  for (const line of instruction("ENV")) {
    for (const [, key, value] of line.matchAll(/(\w+)=(\S+)/g)) env[key!] = value!;
  }
  const execForm = (name: string) => JSON.parse(instruction(name).at(-1)!.replace(/^.*?(?=\[)/, "")) as string[];
  return { stage, env, entrypoint: execForm("ENTRYPOINT"), cmd: execForm("CMD"), healthcheck: execForm("HEALTHCHECK"), volumes: instruction("VOLUME") };
}

interface ComposeService {
  command?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
  profiles?: string[];
}

const compose = parseYaml(readFileSync(join(ROOT, "docker-compose.yml"), "utf8")) as { services: Record<string, ComposeService> };

describe("the Dockerfile", () => {
  const image = runtimeStage();

  it("runs the sessiond command, whose default serve flags and variables the CLI accepts", () => {
    expect(image.entrypoint).toEqual(["node", "bin/sessiond.js"]);
    expect(image.stage.some((l) => l.startsWith("COPY bin "))).toBe(true);
    expect(existsSync(join(ROOT, image.entrypoint[1]!))).toBe(true);
    expect(image.cmd[0]).toBe("serve");
    const config = parseServeArgs(image.cmd.slice(1), image.env);
    expect(config.host).toBe("0.0.0.0");
    expect(config.storeUrl).toBe("sqlite:/data/sessiond.db");
    expect(image.volumes.join(" ")).toContain('"/data"');
  });

  it("starts on 0.0.0.0 given API keys by env, or an explicit --insecure, and refuses without either", () => {
    const bare = parseServeArgs(image.cmd.slice(1), image.env);
    expect(() => checkBindPolicy({ host: bare.host, keyCount: 0, insecure: bare.insecure })).toThrow(/insecure/);
    expect(() => checkBindPolicy({ host: bare.host, keyCount: 1, insecure: bare.insecure })).not.toThrow();
    const insecure = parseServeArgs([...image.cmd.slice(1), "--insecure"], image.env);
    expect(() => checkBindPolicy({ host: insecure.host, keyCount: 0, insecure: insecure.insecure })).not.toThrow();
  });

  it("has a HEALTHCHECK probing /readyz with node, the only program the image has", () => {
    expect(image.stage.find((l) => l.startsWith("HEALTHCHECK "))).toMatch(/ CMD \["node", "-e",/);
    expect(image.healthcheck.slice(0, 2)).toEqual(["node", "-e"]);
    expect(image.healthcheck[2]).toContain("/readyz");
  });
});

describe("docker-compose.yml", () => {
  const { services } = compose;

  it("publishes the databases on loopback only, with health checks", () => {
    for (const name of ["postgres", "mysql", "redis"]) {
      const service = services[name]!;
      expect(service.healthcheck?.test[0], name).toBe("CMD");
      for (const port of service.ports ?? []) expect(port, name).toMatch(/^127\.0\.0\.1:/);
    }
  });

  it("starts sessiond once the database it uses is healthy, with flags and variables the CLI accepts", () => {
    const sessiond = services.sessiond!;
    expect(sessiond.profiles).toEqual(["server"]);
    expect(sessiond.command?.[0]).toBe("serve");
    const config = parseServeArgs(sessiond.command!.slice(1), { ...runtimeStage().env, ...sessiond.environment });
    const host = new URL(config.storeUrl).hostname;
    expect(sessiond.depends_on).toEqual({ [host]: { condition: "service_healthy" } });
    expect(services[host]?.healthcheck).toBeDefined();
    // Without keys it needs --insecure inside the container, and is published on loopback only.
    expect(() => checkBindPolicy({ host: config.host, keyCount: 0, insecure: config.insecure })).not.toThrow();
    for (const port of sessiond.ports ?? []) expect(port).toMatch(/^127\.0\.0\.1:/);
  });
});
