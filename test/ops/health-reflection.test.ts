import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health, HealthCheckResponse_ServingStatus as ServingStatus } from "../../gen/grpc/health/v1/health_pb.js";
import { ServerReflection as ReflectionV1alpha, type ServerReflectionResponse } from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { SessionService } from "../../gen/sessiond/v1/session_service_pb.js";
import { HealthMonitor, healthService } from "../../src/ops/health.js";
import { reflectionServices } from "../../src/ops/reflection.js";
import { startServer, type SessiondServer } from "../../src/server.js";
import { MemoryStore } from "../../src/stores/memory.js";
import { SqliteStore } from "../../src/stores/sqlite.js";
import type { Store } from "../../src/stores/store.js";
import { expectCode } from "../support/expect-code.js";
import { bufCurl, grpcReflect } from "./buf-curl.js";

async function serveWithOps(store: Store, intervalMs = 5000) {
  const monitor = new HealthMonitor({ store, services: [SessionService.typeName], intervalMs });
  await monitor.start();
  const server = await startServer({
    store,
    port: 0,
    services(router) {
      router.service(Health, healthService(monitor));
      reflectionServices([SessionService, Health])(router);
    },
  });
  return { server, monitor };
}

describe("reflection", () => {
  let server: SessiondServer;
  beforeAll(async () => {
    ({ server } = await serveWithOps(new MemoryStore()));
  });
  afterAll(() => server.close(1000));

  it("lets buf curl list the SessionService methods", async () => {
    const res = await bufCurl([...grpcReflect, "--list-methods", server.url]);
    expect(res.stderr).toBe("");
    const methods = res.stdout.trim().split("\n");
    expect(methods).toContain("sessiond.v1.SessionService/CreateSession");
    expect(methods).toContain("sessiond.v1.SessionService/GetEvents");
    expect(methods).toContain("grpc.health.v1.Health/Check");
    expect(methods.filter((m) => m.startsWith("sessiond.v1.SessionService/"))).toHaveLength(SessionService.methods.length);
  });

  it("lists only the served services", async () => {
    const res = await bufCurl([...grpcReflect, "--list-services", server.url]);
    expect(res.stdout.trim().split("\n").sort()).toEqual([
      "grpc.health.v1.Health",
      "grpc.reflection.v1.ServerReflection",
      "grpc.reflection.v1alpha.ServerReflection",
      "sessiond.v1.SessionService",
    ]);
  });

  it("lets buf curl call CreateSession with JSON and no proto files", async () => {
    const body = JSON.stringify({ appName: "refl", userId: "u1", sessionId: "s1", state: { "user:lang": "en" } });
    const res = await bufCurl([...grpcReflect, "-d", body, `${server.url}/sessiond.v1.SessionService/CreateSession`]);
    expect(res.stderr).toBe("");
    const session = JSON.parse(res.stdout).session;
    expect(session).toMatchObject({ id: "s1", appName: "refl", userId: "u1", status: "SESSION_STATUS_ACTIVE", state: { "user:lang": "en" } });
  });

  it("serves v1alpha to buf curl", async () => {
    const res = await bufCurl([...grpcReflect, "--reflect-protocol", "grpc-v1alpha", "--list-services", server.url]);
    expect(res.stdout).toContain("sessiond.v1.SessionService");
  });

  it("answers v1alpha questions over a Connect gRPC client", async () => {
    const client = createClient(ReflectionV1alpha, createGrpcTransport({ baseUrl: server.url }));
    const questions = [
      { case: "listServices", value: "" },
      { case: "fileContainingSymbol", value: "sessiond.v1.SessionService" },
      { case: "fileContainingSymbol", value: "grpc.health.v1.HealthCheckResponse.ServingStatus" },
      { case: "fileContainingSymbol", value: "sessiond.v1.SessionService.GetEvents" },
      { case: "fileByFilename", value: "google/protobuf/struct.proto" },
      { case: "fileContainingSymbol", value: "google.protobuf.Any" },
      { case: "fileByFilename", value: "grpc/reflection/v1/reflection.proto" },
      { case: "fileContainingSymbol", value: "grpc.health.v1.HealthListResponse.StatusesEntry" },
      { case: "fileContainingSymbol", value: "sessiond.v1.Event.author" },
      { case: "fileByFilename", value: "sessiond/v1/missing.proto" },
    ] as const;
    async function* requests() {
      for (const messageRequest of questions) yield { host: "", messageRequest };
    }
    const answers: ServerReflectionResponse["messageResponse"][] = [];
    for await (const res of client.serverReflectionInfo(requests())) answers.push(res.messageResponse);
    expect(answers).toHaveLength(questions.length);

    const [list, service, nested, method, struct, any, v1, nestedMessage, field, missing] = answers;
    expect(list!.case === "listServicesResponse" && list!.value.service.map((s) => s.name)).toContain("grpc.reflection.v1alpha.ServerReflection");

    const names = (a: (typeof answers)[number] | undefined) =>
      a?.case === "fileDescriptorResponse" ? a.value.fileDescriptorProto.map((b) => fromBinary(FileDescriptorProtoSchema, b).name) : [];
    // The file first, then its imports the stream has not sent yet.
    expect(names(service)).toEqual([
      "sessiond/v1/session_service.proto",
      "google/protobuf/field_mask.proto",
      "google/protobuf/struct.proto",
      "google/protobuf/timestamp.proto",
      "sessiond/v1/session.proto",
    ]);
    expect(names(nested)).toEqual(["grpc/health/v1/health.proto"]);
    expect(names(method)).toEqual(["sessiond/v1/session_service.proto"]);
    expect(names(struct)).toEqual(["google/protobuf/struct.proto"]);
    const file = fromBinary(FileDescriptorProtoSchema, struct!.case === "fileDescriptorResponse" ? struct!.value.fileDescriptorProto[0]! : new Uint8Array());
    expect(file.messageType.map((m) => m.name)).toContain("Struct");
    // google.protobuf.Any is not imported by anything served.
    expect(any).toEqual({ case: "errorResponse", value: expect.objectContaining({ errorCode: Code.NotFound }) });
    expect(names(v1)).toEqual(["grpc/reflection/v1/reflection.proto"]);
    expect(names(nestedMessage)).toEqual(["grpc/health/v1/health.proto"]);
    expect(names(field)).toEqual(["sessiond/v1/session.proto"]);
    expect(missing).toEqual({ case: "errorResponse", value: expect.objectContaining({ errorCode: Code.NotFound }) });
  });
});

describe("health", () => {
  it("reports SERVING to buf curl, overall and per service", async () => {
    const { server, monitor } = await serveWithOps(new MemoryStore());
    try {
      for (const service of ["", "sessiond.v1.SessionService"]) {
        const res = await bufCurl([...grpcReflect, "-d", JSON.stringify({ service }), `${server.url}/grpc.health.v1.Health/Check`]);
        expect(res.stderr).toBe("");
        expect(JSON.parse(res.stdout)).toEqual({ status: "SERVING" });
      }
      const unknown = await bufCurl([...grpcReflect, "-d", '{"service":"nope.v1.Nope"}', `${server.url}/grpc.health.v1.Health/Check`]);
      expect(unknown.code).not.toBe(0);
      expect(unknown.stderr).toContain("not_found");
    } finally {
      monitor.stop();
      await server.close(1000);
    }
  });

  it("reports NOT_SERVING while the store is unreachable, and Watch streams the change", async () => {
    const dir = mkdtempSync(join(tmpdir(), "sessiond-health-"));
    const store = await SqliteStore.open(join(dir, "health.db"));
    const { server, monitor } = await serveWithOps(store, 60_000);
    const health = createClient(Health, createGrpcTransport({ baseUrl: server.url }));
    const watching = new AbortController();
    const seen: ServingStatus[] = [];
    const watch = (async () => {
      try {
        for await (const res of health.watch({ service: "sessiond.v1.SessionService" }, { signal: watching.signal })) seen.push(res.status);
      } catch {
        // cancelled below
      }
    })();
    try {
      await expect.poll(() => seen).toEqual([ServingStatus.SERVING]);
      // The database handle goes away under the running server: every query now fails.
      await store.close();
      const res = await bufCurl([...grpcReflect, "-d", "{}", `${server.url}/grpc.health.v1.Health/Check`]);
      expect(JSON.parse(res.stdout)).toEqual({ status: "NOT_SERVING" });
      await expect.poll(() => seen).toEqual([ServingStatus.SERVING, ServingStatus.NOT_SERVING]);
      const list = await health.list({});
      expect(list.statuses[""]?.status).toBe(ServingStatus.NOT_SERVING);
      await expectCode(health.check({ service: "other" }), Code.NotFound);
    } finally {
      watching.abort();
      await watch;
      monitor.stop();
      await server.close(1000);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
