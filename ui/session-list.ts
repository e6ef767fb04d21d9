import type { Session, SessiondClient } from "../src/client/web.js";
import { SessionStatus } from "../src/client/web.js";
import { h, replace } from "./dom.js";
import { formatTime, statusName } from "./format.js";

/** Filters of the list; `app` is required by the API. */
export interface ListFilters {
  app: string;
  user: string;
  /** "", "ACTIVE", "COMPLETED" or "FAILED". */
  status: string;
}

const PAGE_SIZE = 20;

/** The sessions of one app, a page at a time, newest update first. */
export class SessionList {
  private filters: ListFilters | undefined;
  /** tokens[i] fetches page i; the API only pages forward, so earlier tokens are kept. */
  private tokens = [""];
  private page = 0;
  private selected: string | undefined;

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

  /** Marks the open session's row. */
  select(key: string | undefined): void {
    this.selected = key;
    for (const row of this.el.querySelectorAll<HTMLElement>("tr[data-key]")) {
      row.classList.toggle("selected", row.dataset.key === key);
    }
  }

  /** Refreshes the row of a session that changed while open (new events, status). */
  update(session: Session): void {
    const key = sessionKey(session.userId, session.id);
    for (const row of this.el.querySelectorAll<HTMLElement>("tr[data-key]")) {
      if (row.dataset.key === key) row.replaceWith(this.row(session));
    }
  }

  private async load(): Promise<void> {
    const f = this.filters;
    if (!f) return;
    this.el.setAttribute("aria-busy", "true");
    try {
      const res = await this.client.rpc.listSessions({
        appName: f.app,
        userId: f.user || undefined,
        status: f.status ? SessionStatus[f.status as keyof typeof SessionStatus] : SessionStatus.UNSPECIFIED,
        pageSize: PAGE_SIZE,
        pageToken: this.tokens[this.page],
      });
      if (res.nextPageToken) this.tokens[this.page + 1] = res.nextPageToken;
      else this.tokens.length = this.page + 1;
      this.render(f, res.sessions);
    } catch (error) {
      this.onError(error);
    } finally {
      this.el.removeAttribute("aria-busy");
    }
  }

  private render(f: ListFilters, sessions: Session[]): void {
    const rows = sessions.map((s) => this.row(s));
    const hasNext = this.tokens.length > this.page + 1;
    replace(
      this.el,
      h("h2", {}, "Sessions of ", h("code", {}, f.app)),
      sessions.length === 0
        ? h("p", { class: "hint" }, this.page === 0 ? "No sessions match." : "No more sessions.")
        : h(
            "table",
            { class: "sessions-table" },
            h("thead", {}, h("tr", {}, ...["Session", "User", "Agent", "Status", "Events", "Updated"].map((t) => h("th", {}, t)))),
            h("tbody", {}, ...rows),
          ),
      h(
        "nav",
        { class: "pager", "aria-label": "Session pages" },
        h("button", { type: "button", disabled: this.page === 0, onclick: () => this.go(-1) }, "‹ Previous"),
        h("span", {}, `Page ${this.page + 1}`),
        h("button", { type: "button", disabled: !hasNext, onclick: () => this.go(1) }, "Next ›"),
      ),
    );
  }

  private row(s: Session): HTMLTableRowElement {
    const key = sessionKey(s.userId, s.id);
    return h(
      "tr",
      { "data-key": key, class: key === this.selected ? "selected" : undefined },
      h("td", {}, h("button", { type: "button", class: "link", onclick: () => this.onOpen(s) }, s.id)),
      h("td", {}, s.userId),
      h("td", {}, s.agentId || "—"),
      h("td", {}, h("span", { class: `status ${statusName(s.status)}` }, statusName(s.status))),
      h("td", { class: "num" }, s.lastSequence),
      h("td", {}, formatTime(s.updateTime)),
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
