import type { Session, SessiondClient } from "../src/client/web.js";
import { SessionStatus } from "../src/client/web.js";
import { h, replace } from "./dom.js";
import { formatShortTime, formatTime, statusName } from "./format.js";

/** Filters of the list; `app` is required by the API. */
export interface ListFilters {
  app: string;
  user: string;
  /** "", "ACTIVE", "COMPLETED" or "FAILED". */
  status: string;
  /** Only sessions whose id starts with this. */
  prefix: string;
}

const PAGE_SIZE = 20;
/** A prefix search reads the listing in pages of this size, up to SCAN_LIMIT sessions. */
const SCAN_PAGE = 500;
const SCAN_LIMIT = 5000;

/** The sessions of one app, a page at a time, newest update first. */
export class SessionList {
  private filters: ListFilters | undefined;
  /** tokens[i] fetches page i; the API only pages forward, so earlier tokens are kept. */
  private tokens = [""];
  private page = 0;
  private selected: string | undefined;
  private generation = 0;

  constructor(
    private readonly el: HTMLElement,
    private readonly client: SessiondClient,
    private readonly onOpen: (session: Session) => void,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Lists from the first page with new filters. */
  async show(filters: ListFilters): Promise<void> {
    this.filters = filters;
    this.tokens = [""];
    this.page = 0;
    await this.load();
  }

  /** Shows `hint` instead of a list. */
  clear(...hint: (string | Node)[]): void {
    this.filters = undefined;
    this.generation++;
    replace(this.el, h("p", { class: "hint" }, ...hint));
  }

  /** Marks the open session's row. */
  select(key: string | undefined): void {
    this.selected = key;
    for (const row of this.el.querySelectorAll<HTMLElement>("tr[data-key]")) {
      row.classList.toggle("selected", row.dataset.key === key);
    }
  }

  /** Refreshes the row of a session that changed while open (new events, status). */
  update(session: Session): void {
    if (session.appName !== this.filters?.app) return;
    const key = sessionKey(session.userId, session.id);
    for (const row of this.el.querySelectorAll<HTMLElement>("tr[data-key]")) {
      if (row.dataset.key !== key) continue;
      const next = this.row(session);
      next.classList.add("bumped");
      row.replaceWith(next);
    }
  }

  private async load(): Promise<void> {
    const f = this.filters;
    if (!f) return;
    const generation = ++this.generation;
    this.el.setAttribute("aria-busy", "true");
    try {
      const request = {
        appName: f.app,
        userId: f.user || undefined,
        status: f.status ? SessionStatus[f.status as keyof typeof SessionStatus] : SessionStatus.UNSPECIFIED,
      };
      if (f.prefix) {
        const { matches, scanned, complete } = await this.scan(request, f.prefix);
        if (generation === this.generation) this.render(f, matches, false, complete ? undefined : scanned);
        return;
      }
      const res = await this.client.rpc.listSessions({ ...request, pageSize: PAGE_SIZE, pageToken: this.tokens[this.page] });
      if (generation !== this.generation) return;
      if (res.nextPageToken) this.tokens[this.page + 1] = res.nextPageToken;
      else this.tokens.length = this.page + 1;
      this.render(f, res.sessions, true);
    } catch (error) {
      if (generation !== this.generation) return;
      replace(this.el, h("h2", {}, "Sessions of ", h("code", {}, f.app)), h("p", { class: "hint" }, "The sessions could not be listed."));
      this.onError(error);
    } finally {
      if (generation === this.generation) this.el.removeAttribute("aria-busy");
    }
  }

  /** Sessions whose id starts with `prefix`, newest update first; the API has no id filter, so the page filters. */
  private async scan(request: { appName: string; userId?: string; status: SessionStatus }, prefix: string) {
    const matches: Session[] = [];
    let scanned = 0;
    let pageToken = "";
    do {
      const res = await this.client.rpc.listSessions({ ...request, pageSize: SCAN_PAGE, pageToken });
      scanned += res.sessions.length;
      matches.push(...res.sessions.filter((s) => s.id.startsWith(prefix)));
      pageToken = res.nextPageToken;
    } while (pageToken !== "" && scanned < SCAN_LIMIT && matches.length < PAGE_SIZE * 5);
    return { matches, scanned, complete: pageToken === "" };
  }

  private render(f: ListFilters, sessions: Session[], paged: boolean, partialScan?: number): void {
    const rows = sessions.map((s) => this.row(s));
    const hasNext = this.tokens.length > this.page + 1;
    replace(
      this.el,
      h("h2", {}, "Sessions of ", h("code", {}, f.app), f.prefix ? h("span", { class: "count" }, ` id starts with “${f.prefix}”`) : null),
      sessions.length === 0
        ? h("p", { class: "hint" }, this.page === 0 ? "No sessions match." : "No more sessions.")
        : h(
            "div",
            { class: "table-wrap" },
            h(
              "table",
              { class: "sessions-table" },
              h("thead", {}, h("tr", {}, ...["Session", "User", "Agent", "Status", "Events", "Updated"].map((t) => h("th", {}, t)))),
              h("tbody", {}, ...rows),
            ),
          ),
      partialScan !== undefined ? h("p", { class: "hint small" }, `Showing matches among the ${partialScan} most recently updated sessions; add a user to narrow the search.`) : null,
      paged
        ? h(
            "nav",
            { class: "pager", "aria-label": "Session pages" },
            h("button", { type: "button", disabled: this.page === 0, onclick: () => this.go(-1) }, "‹ Previous"),
            h("span", {}, `Page ${this.page + 1}`),
            h("button", { type: "button", disabled: !hasNext, onclick: () => this.go(1) }, "Next ›"),
          )
        : null,
    );
  }

  private row(s: Session): HTMLTableRowElement {
    const key = sessionKey(s.userId, s.id);
    return h(
      "tr",
      { "data-key": key, class: key === this.selected ? "selected" : undefined },
      h("td", { class: "id", "data-label": "Session" }, h("button", { type: "button", class: "link", title: s.id, onclick: () => this.onOpen(s) }, s.id)),
      h("td", { class: "user", "data-label": "User", title: s.userId }, s.userId),
      h("td", { class: "agent", "data-label": "Agent", title: s.agentId }, s.agentId || "—"),
      h("td", { class: "status-cell", "data-label": "Status" }, h("span", { class: `status ${statusName(s.status)}` }, statusName(s.status))),
      h("td", { class: "num", "data-label": "Events" }, s.lastSequence),
      h("td", { class: "updated", "data-label": "Updated", title: formatTime(s.updateTime) }, formatShortTime(s.updateTime)),
    );
  }

  private go(delta: number): void {
    this.page += delta;
    void this.load();
  }
}

/** Identifies a row: ids are unique per user only. */
export function sessionKey(userId: string, sessionId: string): string {
  return `${userId}\u0000${sessionId}`;
}
