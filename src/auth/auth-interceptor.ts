import { Code, ConnectError, createContextKey, type Interceptor } from "@connectrpc/connect";
import { SessionService } from "../../gen/sessiond/v1/session_service_pb.js";
import { type ApiKeyRing, appAllowed, type Principal, type Role, roleAllows } from "./api-keys.js";

/** The authenticated caller of the current RPC, for logs and handlers. */
export const principalKey = createContextKey<Principal | undefined>(undefined, { description: "sessiond.principal" });

/** The role each SessionService method needs; methods not listed need admin. */
const sessionServiceRoles: Record<string, Role> = {
  GetSession: "read",
  ListSessions: "read",
  GetEvents: "read",
  ListEvents: "read",
  GetUserState: "read",
  ListApps: "read",
  CreateSession: "write",
  UpdateSession: "write",
  DeleteSession: "write",
  AppendEvent: "write",
  AppendEvents: "write",
  RewindSession: "write",
  ForkSession: "write",
  DeleteUserSessions: "admin",
  DeleteAppSessions: "admin",
};

/** The role a call needs. */
export function requiredRole(service: string, method: string): Role {
  return (service === SessionService.typeName ? sessionServiceRoles[method] : undefined) ?? "admin";
}

/**
 * Requires `authorization: Bearer <key>` on every service except the `open`
 * ones (health and reflection by default): UNAUTHENTICATED without a known
 * key, PERMISSION_DENIED when the key's role is too weak or the request's
 * app_name is outside the key's apps.
 */
export function authInterceptor(keys: ApiKeyRing, open: readonly string[]): Interceptor {
  const openServices = new Set(open);
  return (next) => async (req) => {
    if (openServices.has(req.service.typeName)) return next(req);
    const principal = authenticate(keys, req.header.get("authorization"));
    req.contextValues.set(principalKey, principal);
    const method = req.method.name;
    const needed = requiredRole(req.service.typeName, method);
    if (!roleAllows(principal.role, needed)) {
      throw new ConnectError(`API key ${JSON.stringify(principal.name)} has role ${principal.role}; ${method} needs ${needed}`, Code.PermissionDenied);
    }
    if (!req.stream) {
      // ListApps names no app; its handler lists only the key's apps.
      if (method !== "ListApps") checkApp(principal, req.message);
      return next(req);
    }
    return next({ ...req, message: checkEach(principal, req.message) });
  };
}

function authenticate(keys: ApiKeyRing, header: string | null): Principal {
  const match = header === null ? null : /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  if (!match) throw new ConnectError("missing API key; send the header authorization: Bearer <key>", Code.Unauthenticated);
  const principal = keys.authenticate(match[1]!);
  if (!principal) throw new ConnectError("unknown API key", Code.Unauthenticated);
  return principal;
}

/**
 * Every SessionService request names its app. An empty app_name passes here
 * so that validation answers INVALID_ARGUMENT naming the field.
 */
function checkApp(principal: Principal, message: object) {
  if (principal.apps === "*") return;
  const appName = (message as { appName?: unknown }).appName;
  if (typeof appName !== "string") throw new ConnectError("request carries no app_name", Code.PermissionDenied);
  if (appName !== "" && !appAllowed(principal, appName)) {
    throw new ConnectError(`API key ${JSON.stringify(principal.name)} may not access app ${JSON.stringify(appName)}`, Code.PermissionDenied);
  }
}

async function* checkEach<T extends object>(principal: Principal, messages: AsyncIterable<T>): AsyncIterable<T> {
  for await (const message of messages) {
    checkApp(principal, message);
    yield message;
  }
}
