/** What the page shows, kept in the URL fragment so reloads and links keep it. */
export interface Route {
  app: string;
  user: string;
  status: string;
  /** Session id prefix searched for. */
  prefix: string;
  /** The open session, with the user it belongs to (ids are unique per user only). */
  session?: { userId: string; sessionId: string };
}

/** Reads the route from `location.hash`. */
export function readRoute(hash = location.hash): Route {
  const p = new URLSearchParams(hash.replace(/^#/, ""));
  const sessionId = p.get("session");
  return {
    app: p.get("app") ?? "",
    user: p.get("user") ?? "",
    status: p.get("status") ?? "",
    prefix: p.get("q") ?? "",
    session: sessionId ? { userId: p.get("session_user") ?? "", sessionId } : undefined,
  };
}

/** Writes the route to `location.hash` without adding a history entry per keystroke. */
export function writeRoute(route: Route): void {
  const p = new URLSearchParams();
  if (route.app) p.set("app", route.app);
  if (route.user) p.set("user", route.user);
  if (route.status) p.set("status", route.status);
  if (route.prefix) p.set("q", route.prefix);
  if (route.session) {
    p.set("session_user", route.session.userId);
    p.set("session", route.session.sessionId);
  }
  history.replaceState(null, "", `#${p.toString()}`);
}

/** True when two routes list the same sessions. */
export function sameListing(a: Route, b: Route): boolean {
  return a.app === b.app && a.user === b.user && a.status === b.status && a.prefix === b.prefix;
}
