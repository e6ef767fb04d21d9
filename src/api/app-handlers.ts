import type { ServiceImpl } from "@connectrpc/connect";
import type { SessionService } from "../../gen/sessiond/v1/session_service_pb.js";
import { principalKey } from "../auth/auth-interceptor.js";
import { decodeAppToken, encodeAppToken, queryFingerprint } from "../core/cursor.js";
import { limits } from "../core/limits.js";
import type { Store } from "../stores/store.js";
import { checkText, pageSize } from "./validate.js";

type AppHandlers = Pick<ServiceImpl<typeof SessionService>, "listApps">;

/** Handlers for the app directory. */
export function appHandlers(store: Store): AppHandlers {
  return {
    async listApps(req, ctx) {
      const prefix = checkText("name_prefix", req.namePrefix, limits.maxIdLength);
      const limit = pageSize("page_size", req.pageSize);
      const fingerprint = queryFingerprint(["apps", prefix]);
      const after = req.pageToken === "" ? undefined : decodeAppToken(req.pageToken, fingerprint);
      // A key limited to some apps must not learn that others exist.
      const principal = ctx.values.get(principalKey);
      const only = principal && principal.apps !== "*" ? [...principal.apps] : undefined;
      const apps = await store.listApps({ prefix, only, after, limit: limit + 1 });
      const page = apps.slice(0, limit);
      const last = page.at(-1);
      return {
        apps: page.map((a) => ({ appName: a.appName, sessionCount: BigInt(a.sessionCount) })),
        nextPageToken: apps.length > limit && last ? encodeAppToken(last.appName, fingerprint) : "",
      };
    },
  };
}
