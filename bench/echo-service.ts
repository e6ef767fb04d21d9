import { create, createFileRegistry, type DescMethodUnary, type DescService } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter } from "@connectrpc/connect";
import { type EventSchema, file_sessiond_v1_session } from "../gen/sessiond/v1/session_pb.js";

/**
 * `bench.v1.EchoService/Echo(sessiond.v1.Event) returns (sessiond.v1.Event)`:
 * the floor for a unary call carrying an event through the same server and
 * transport, with no handler logic and no store. It is described here, not in
 * proto/, so the public API does not grow a benchmark-only service.
 */
const registry = createFileRegistry(
  create(FileDescriptorProtoSchema, {
    name: "bench/v1/echo.proto",
    package: "bench.v1",
    dependency: ["sessiond/v1/session.proto"],
    syntax: "proto3",
    service: [
      {
        name: "EchoService",
        method: [{ name: "Echo", inputType: ".sessiond.v1.Event", outputType: ".sessiond.v1.Event" }],
      },
    ],
  }),
  (name) => (name === "sessiond/v1/session.proto" ? file_sessiond_v1_session : undefined),
);

/** The echo service descriptor. */
export const EchoService: DescService = registry.getService("bench.v1.EchoService")!;

/** Its one method, typed for clients and handlers. */
export const echoMethod = EchoService.methods[0] as DescMethodUnary<typeof EventSchema, typeof EventSchema>;

/** Registers the echo handler: it answers with the request. */
export function registerEcho(router: ConnectRouter): void {
  router.rpc(echoMethod, async (request) => request);
}
