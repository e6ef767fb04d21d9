import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { createSessiondClient, type SessiondClient } from "../src/client/web.js";

const STORAGE_KEY = "sessiond.apiKey";

/** The API key of this tab ("" when none); sessionStorage, so it ends with the tab. */
export function storedApiKey(): string {
  return sessionStorage.getItem(STORAGE_KEY) ?? "";
}

/** Keeps `key` for this tab, or forgets it when empty. */
export function storeApiKey(key: string): void {
  if (key) sessionStorage.setItem(STORAGE_KEY, key);
  else sessionStorage.removeItem(STORAGE_KEY);
}

/** Sends the tab's key, read per call so a new key applies at once. */
const bearerFromStorage: Interceptor = (next) => (req) => {
  const key = storedApiKey();
  if (key) req.header.set("Authorization", `Bearer ${key}`);
  return next(req);
};

/** The API on the origin that served this page, over the Connect protocol (JSON). */
export function sameOriginClient(): SessiondClient {
  return createSessiondClient({ transport: createConnectTransport({ baseUrl: location.origin, interceptors: [bearerFromStorage] }) });
}

/** Why a call was refused: no or an unknown key, or a key without the role or the app. */
export interface AccessProblem {
  kind: "key-needed" | "forbidden";
  message: string;
}

/** The access problem an error reports, if it is one. */
export function accessProblem(error: unknown): AccessProblem | undefined {
  const e = ConnectError.from(error);
  if (e.code === Code.Unauthenticated) {
    return { kind: "key-needed", message: storedApiKey() ? `The server does not accept this API key (${e.rawMessage}).` : "This server requires an API key." };
  }
  if (e.code === Code.PermissionDenied) return { kind: "forbidden", message: `Your API key is not allowed to do this: ${e.rawMessage}.` };
  return undefined;
}
