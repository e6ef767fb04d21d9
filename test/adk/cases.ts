import type { Client } from "@connectrpc/connect";
import type { BaseSessionService } from "@google/adk";
import type { SessionService } from "../../gen/sessiond/v1/session_service_pb.js";
import type { RemoteSessionService } from "../../src/adk/index.js";

/**
 * A behaviour that ADK's session-service test files check, written for
 * sessiond: `run` makes its assertions against whichever service it is
 * given. The cases run against RemoteSessionService on every store and,
 * where ADK JS's InMemorySessionService behaves the same, against it too.
 */
export interface AdkCase {
  name: string;
  /**
   * Where ADK JS's InMemorySessionService does not pass this case, why:
   * the case then runs on RemoteSessionService only.
   */
  notOnAdkJs?: string;
  run(ctx: CaseContext): Promise<void>;
}

/** What a case gets. */
export interface CaseContext {
  service: BaseSessionService;
  /** A name no other case uses: cases share a store, so apps (or users) are named through this. */
  unique(name: string): string;
  /** Only with RemoteSessionService: the server's own client and a way to make a second service. */
  remote?: {
    client: Client<typeof SessionService>;
    newService(): RemoteSessionService;
  };
}

/** The service as RemoteSessionService, for the methods only it has (Python ADK's get_user_state, init, close). */
export function remoteOf(ctx: CaseContext): RemoteSessionService {
  return ctx.service as RemoteSessionService;
}
