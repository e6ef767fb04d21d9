import { conformance } from "./suite.js";

// gRPC unary calls are served straight from HTTP/2 streams by default; here they go through connect-node.
conformance("memory", "grpc", { grpcFastPath: false });
