import { ConnectError } from "@connectrpc/connect";
import { sameOriginClient } from "./api.js";
import { byId } from "./dom.js";
import { readRoute, type Route, writeRoute } from "./route.js";
import { SessionList, sessionKey } from "./session-list.js";
import { SessionView } from "./session-view.js";

const client = sameOriginClient();
const form = byId<HTMLFormElement>("filters");
const errorBox = byId<HTMLDivElement>("error");

/** Shows a failed call, e.g. "[not_found] session not found". */
function showError(error: unknown): void {
  errorBox.textContent = ConnectError.from(error).message;
  errorBox.hidden = false;
}

let route: Route = readRoute();
const view = new SessionView(byId("session"), client, showError, (session) => list.update(session));
const list: SessionList = new SessionList(
  byId("sessions"),
  client,
  (session) => {
    route = { ...route, session: { userId: session.userId, sessionId: session.id } };
    writeRoute(route);
    openSession();
  },
  showError,
);

function openSession(): void {
  errorBox.hidden = true;
  const s = route.session;
  list.select(s && sessionKey(s.userId, s.sessionId));
  if (s) void view.open({ appName: route.app, ...s });
}

function fillForm(r: Route): void {
  (form.elements.namedItem("app") as HTMLInputElement).value = r.app;
  (form.elements.namedItem("user") as HTMLInputElement).value = r.user;
  (form.elements.namedItem("status") as HTMLSelectElement).value = r.status;
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const data = new FormData(form);
  const app = String(data.get("app") ?? "").trim();
  if (!app) return;
  const next = { app, user: String(data.get("user") ?? "").trim(), status: String(data.get("status") ?? "") };
  // Another app cannot hold the open session.
  route = { ...next, session: next.app === route.app ? route.session : undefined };
  writeRoute(route);
  errorBox.hidden = true;
  void list.show(route);
});

/** Shows what the URL names: on load, and when the fragment is edited or history moves. */
function show(next: Route, relist: boolean): void {
  route = next;
  fillForm(route);
  if (!route.app) return;
  if (relist) void list.show(route);
  openSession();
}

show(route, true);
window.addEventListener("hashchange", () => {
  const next = readRoute();
  show(next, next.app !== route.app || next.user !== route.user || next.status !== route.status);
});
