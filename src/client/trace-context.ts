import type { Transport } from "@connectrpc/connect";
import { context, propagation } from "@opentelemetry/api";
import { withHeaders } from "./bearer-token.js";

const headerSetter = { set: (carrier: Headers, key: string, value: string) => carrier.set(key, value) };

/**
 * The transport with the caller's OpenTelemetry context (W3C `traceparent`
 * and `tracestate` under the default propagator) added to every call, so
 * the server's spans join the caller's trace. Without a registered SDK
 * nothing is added.
 */
export function withTraceContext(transport: Transport): Transport {
  return withHeaders(transport, (headers) => propagation.inject(context.active(), headers, headerSetter));
}
