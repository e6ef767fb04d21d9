import { ConnectError } from "@connectrpc/connect";
import { accessProblem, sameOriginClient, storeApiKey, storedApiKey } from "./api.js";
import { AppList } from "./app-list.js";
import { byId } from "./dom.js";
import { readRoute, type Route, sameListing, writeRoute } from "./route.js";
import { SessionList, sessionKey } from "./session-list.js";
import { SessionView } from "./session-view.js";

const client = sameOriginClient();
const form = byId<HTMLFormElement>("filters");
const keyForm = byId<HTMLFormElement>("key-form");
const keyInput = keyForm.elements.namedItem("key") as HTMLInputElement;
const keyState = byId<HTMLSpanElement>("key-state");
const errorBox = byId<HTMLDivElement>("error");

/** Shows a failed call; refusals for want of a key, a role or an app say how to get past them. */
function showError(error: unknown): void {
  const problem = accessProblem(error);
  errorBox.dataset.kind = problem?.kind ?? "error";
  errorBox.textContent = problem
    ? `${problem.message} ${problem.kind === "key-needed" ? "Enter a key in the API key field above; it is kept in this tab only." : "Use a key with the role and the app this needs."}`
    : ConnectError.from(error).message;
  errorBox.hidden = false;
  keyForm.classList.toggle("attention", problem !== undefined);
  if (problem?.kind === "key-needed") keyInput.focus();
}

function clearError(): void {
  errorBox.hidden = true;
  keyForm.classList.remove("attention");
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
const apps = new AppList(byId("apps"), byId<HTMLDataListElement>("app-names"), client, (appName) => {
  show({ app: appName, user: "", status: "", prefix: "", session: undefined }, true);
  writeRoute(route);
}, showError);

function openSession(): void {
  clearError();
  const s = route.session;
  list.select(s && sessionKey(s.userId, s.sessionId));
  if (!s) {
    view.clear("Open a session to see its state and events.");
    return;
  }
  const open = view.current;
  if (open && open.appName === route.app && open.userId === s.userId && open.sessionId === s.sessionId) return;
  void view.open({ appName: route.app, ...s });
}

function fillForm(r: Route): void {
  (form.elements.namedItem("app") as HTMLInputElement).value = r.app;
  (form.elements.namedItem("q") as HTMLInputElement).value = r.prefix;
  (form.elements.namedItem("user") as HTMLInputElement).value = r.user;
  (form.elements.namedItem("status") as HTMLSelectElement).value = r.status;
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const data = new FormData(form);
  const text = (name: string) => String(data.get(name) ?? "").trim();
  const next: Route = { app: text("app"), prefix: text("q"), user: text("user"), status: text("status") };
  if (!next.app) return;
  // Another app cannot hold the open session.
  next.session = next.app === route.app ? route.session : undefined;
  show(next, true);
  writeRoute(route);
});

keyForm.addEventListener("submit", (event) => {
  event.preventDefault();
  storeApiKey(keyInput.value.trim());
  keyInput.value = "";
  reloadAll();
});
byId("key-forget").addEventListener("click", () => {
  storeApiKey("");
  keyInput.value = "";
  reloadAll();
});

function showKeyState(): void {
  const set = storedApiKey() !== "";
  keyState.textContent = set ? "key set for this tab" : "no key";
  keyInput.placeholder = set ? "replace the key" : "none";
}

/** After the key changed: every list and the open session again. */
function reloadAll(): void {
  showKeyState();
  clearError();
  void apps.load();
  view.close();
  show({ ...route }, true, true);
}

/** Shows what the route names: on load, when the fragment is edited or history moves, and after a pick. */
function show(next: Route, relist: boolean, reopen = false): void {
  route = next;
  fillForm(route);
  apps.select(route.app);
  if (!route.app) {
    list.clear("Pick an app to list its sessions.");
    view.clear("Open a session to see its state and events.");
    return;
  }
  if (relist) void list.show(route);
  if (reopen) view.clear("Loading…");
  openSession();
}

showKeyState();
void apps.load();
show(route, true);
window.addEventListener("hashchange", () => {
  const next = readRoute();
  show(next, !sameListing(next, route));
});
