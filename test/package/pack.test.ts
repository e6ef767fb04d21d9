import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  folderSize,
  installedPackages,
  type InstalledServer,
  installInto,
  node,
  nodeResult,
  npx,
  serveInstalled,
  pack,
  type Packed,
  ROOT,
} from "./packed.js";

// The packages as users get them: packed, installed from the tarball into an
// empty project with nothing but Node and npm, then run and imported there.

const work = mkdtempSync(join(tmpdir(), "sessiond-pack-"));
const serverApp = join(work, "server-app");
const clientApp = join(work, "client-app");
let server: Packed;
let client: Packed;
let running: InstalledServer | undefined;

beforeAll(async () => {
  server = await pack(work);
  client = await pack(work, "clients/typescript");
  await Promise.all([installInto(serverApp, [server.tarball]), installInto(clientApp, [client.tarball])]);
}, 400_000);

afterAll(async () => {
  await running?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe("the server package", () => {
  it("holds the compiled code, its declarations, the viewer, the protos, README and LICENSE, and nothing else", () => {
    const paths = server.files.map((f) => f.path);
    for (const path of [
      "package.json",
      "README.md",
      "LICENSE",
      "bin/sessiond.js",
      "dist/src/cli.js",
      "dist/src/index.js",
      "dist/src/index.d.ts",
      "dist/src/client/index.js",
      "dist/src/client/index.d.ts",
      "dist/gen/sessiond/v1/session_pb.js",
      "dist/ui/index.html",
      "proto/sessiond/v1/session.proto",
      "proto/sessiond/v1/session_service.proto",
      // The PostgreSQL store applies the driver patch itself when npm skipped the install script.
      "scripts/patch-postgres.mjs",
    ]) {
      expect(paths).toContain(path);
    }
    const allowed = /^(package\.json|README\.md|LICENSE|bin\/sessiond\.js|dist\/(src|gen)\/.+\.(js|d\.ts)|dist\/ui\/.+\.(html|js|css)|proto\/.+\.proto|scripts\/patch-postgres\.mjs)$/;
    expect(paths.filter((p) => !allowed.test(p))).toEqual([]);
    expect(readFileSync(join(ROOT, "LICENSE"), "utf8")).toContain("Apache License");
  });

  it("installs from the tarball and prints its version and help", async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string };
    expect((await npx(serverApp, ["sessiond", "--version"])).trim()).toContain(version);
    const help = await npx(serverApp, ["sessiond", "--help"]);
    expect(help).toMatch(/serve/);
    expect(help).toMatch(/migrate/);
  }, 180_000);

  it("serves on SQLite and answers a call from the client it exports, from ESM and CommonJS", async () => {
    running = await serveInstalled(serverApp, ["--store", `sqlite:${join(work, "packed.db")}`]);
    writeFileSync(join(serverApp, "esm.mjs"), CLIENT_CALL.replace("IMPORT", 'import { createSessiondClient } from "sessiond/client";'));
    writeFileSync(join(serverApp, "cjs.cjs"), CLIENT_CALL_CJS.replace("PACKAGE", "sessiond/client"));
    const fromEsm = JSON.parse(await node(serverApp, ["esm.mjs", running.url])) as CallResult;
    expect(fromEsm).toEqual({ sequence: "1", events: 1, state: { "user:lang": "en" } });
    const fromCjs = JSON.parse(await node(serverApp, ["cjs.cjs", running.url])) as CallResult;
    expect(fromCjs).toEqual({ sequence: "1", events: 1, state: { "user:lang": "en" } });
    expect(await running.stop()).toBe(0);
    running = undefined;
  }, 180_000);

  it("type-checks imports of sessiond/client under NodeNext, from ESM and CommonJS", async () => {
    await typeCheck(serverApp, "sessiond/client");
  }, 180_000);
});

describe("the client package", () => {
  it("installs without database drivers, logging or metrics libraries", () => {
    const packages = installedPackages(join(clientApp, "node_modules"));
    expect(packages).toContain("sessiond-client");
    expect(packages).toContain("@connectrpc/connect-node");
    expect(packages).toContain("@connectrpc/connect-web");
    const serverOnly = /^(postgres|mysql2|ioredis|pino|prom-client|@opentelemetry\/sdk-.*|@opentelemetry\/exporter-.*)$/;
    expect(packages.filter((p) => serverOnly.test(p))).toEqual([]);
    expect(packages.length).toBeLessThanOrEqual(8);
    const installed = folderSize(join(clientApp, "node_modules"));
    // docs/clients.md states the size; it stays well below the server's dependencies.
    expect(installed).toBeLessThan(8_000_000);
    expect(client.files.map((f) => f.path).filter((p) => !/^(package\.json|LICENSE|dist\/.+\.(js|d\.ts))$/.test(p))).toEqual([]);
  });

  it("calls a server from ESM and CommonJS", async () => {
    running = await serveInstalled(serverApp, ["--store", "memory:"]);
    writeFileSync(join(clientApp, "esm.mjs"), CLIENT_CALL.replace("IMPORT", 'import { createSessiondClient } from "sessiond-client";'));
    writeFileSync(join(clientApp, "cjs.cjs"), CLIENT_CALL_CJS.replace("PACKAGE", "sessiond-client"));
    for (const file of ["esm.mjs", "cjs.cjs"]) {
      expect(JSON.parse(await node(clientApp, [file, running.url]))).toEqual({ sequence: "1", events: 1, state: { "user:lang": "en" } });
    }
    expect(await running.stop()).toBe(0);
    running = undefined;
  }, 180_000);

  it("gives browsers an entry that reaches no Node module", async () => {
    const resolved = await node(clientApp, ["--conditions=browser", "--input-type=module", "-e", 'console.log(import.meta.resolve("sessiond-client"))']);
    expect(resolved.trim()).toMatch(/\/dist\/src\/client\/web\.js$/);
    const packages = importedPackages(new URL(resolved.trim()).pathname);
    // @opentelemetry/api runs in browsers too (it injects trace context when the page registers a tracer).
    expect([...packages].filter((p) => !/^@bufbuild\/protobuf(\/|$)|^@connectrpc\/connect$|^@opentelemetry\/api$/.test(p))).toEqual([]);
  });

  it("type-checks under NodeNext, from ESM and CommonJS", async () => {
    await typeCheck(clientApp, "sessiond-client");
  }, 180_000);
});

type CallResult = { sequence: string; events: number; state: Record<string, unknown> };

const CLIENT_CALL = `IMPORT
const client = createSessiondClient({ baseUrl: process.argv[2] });
const session = await client.createSession({ appName: "packed", userId: "u1", state: { "user:lang": "en" } });
const ref = { appName: "packed", userId: "u1", sessionId: session.id };
const { event } = await client.appendEvent(ref, { author: "user", content: { role: "user", parts: [{ text: "hi" }] } });
const read = await client.getSession(ref);
console.log(JSON.stringify({ sequence: String(event.sequence), events: read.events.length, state: read.state }));
`;

const CLIENT_CALL_CJS = `const { createSessiondClient } = require("PACKAGE");
(async () => {
${CLIENT_CALL.replace("IMPORT", "")}
})();
`;

/**
 * Runs the repository's tsc under NodeNext over an ESM and a CommonJS file
 * importing `specifier`, plus a file with a deliberate type error: exactly
 * that error must be reported, so the check can fail and the rest passes.
 */
async function typeCheck(app: string, specifier: string): Promise<void> {
  const imports = `import { createSessiondClient, SessionStatus, type Session } from "${specifier}";`;
  const use = `const client = createSessiondClient({ baseUrl: "http://127.0.0.1:1" });
export const active: SessionStatus = SessionStatus.ACTIVE;
export const pending: Promise<Session> = client.createSession({ appName: "a", userId: "u" });
`;
  writeFileSync(join(app, "check-esm.mts"), `${imports}\n${use}`);
  writeFileSync(join(app, "check-cjs.cts"), `${imports}\n${use}`);
  writeFileSync(join(app, "check-wrong.mts"), `import { SessionStatus } from "${specifier}";\nexport const wrong: string = SessionStatus.ACTIVE;\n`);
  writeFileSync(
    join(app, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        module: "nodenext",
        moduleResolution: "nodenext",
        target: "es2023",
        strict: true,
        noEmit: true,
        types: ["node"],
        typeRoots: [join(ROOT, "node_modules/@types")],
      },
      files: ["check-esm.mts", "check-cjs.cts", "check-wrong.mts"],
    }),
  );
  const result = await nodeResult(app, [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.json"]);
  const errors = result.stdout.split("\n").filter((line) => /error TS/.test(line));
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatch(/^check-wrong\.mts\(2,14\): error TS2322/);
}

/** Bare specifiers imported by a compiled module and every relative module it reaches. */
function importedPackages(file: string, seen = new Set<string>(), packages = new Set<string>()): Set<string> {
  if (seen.has(file)) return packages;
  seen.add(file);
  for (const [, spec] of readFileSync(file, "utf8").matchAll(/(?:from|import)\s*"([^"]+)"/g)) {
    if (spec!.startsWith(".")) importedPackages(resolve(dirname(file), spec!), seen, packages);
    else packages.add(spec!);
  }
  return packages;
}
