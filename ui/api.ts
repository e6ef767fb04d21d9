import { createConnectTransport } from "@connectrpc/connect-web";
import { createSessiondClient, type SessiondClient } from "../src/client/web.js";

/** The API on the origin that served this page, over the Connect protocol (JSON). */
export function sameOriginClient(): SessiondClient {
  return createSessiondClient({ transport: createConnectTransport({ baseUrl: location.origin }) });
}
