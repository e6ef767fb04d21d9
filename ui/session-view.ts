import type { Event, Session, SessionRef, SessiondClient } from "../src/client/web.js";
import { h, replace } from "./dom.js";
import { eventJson, eventSummary, formatTime, prettyJson, statusName } from "./format.js";
import { LiveTail } from "./live-tail.js";

const EVENTS_PAGE_SIZE = 50;

/**
 * One session: its fields, state and metadata, its events page by page
 * (ListEvents), and new events as they are appended (GetEvents with follow).
 *
 * Events are shown in sequence order without gaps: live events that arrive
 * while older pages are still unloaded wait until the history reaches them.
 */
export class SessionView {
  private ref: SessionRef | undefined;
  private abort = new AbortController();
  private shownUpTo = 0n;
  private nextToken = "";
  private pending: Event[] = [];
  private live: LiveTail | undefined;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly header = h("div", { class: "session-header" });
  private readonly state = h("pre", { class: "json", "data-testid": "state" });
  private readonly metadata = h("pre", { class: "json", "data-testid": "metadata" });
  private readonly events = h("ol", { class: "events", "aria-label": "Events" });
  private readonly more = h("button", { type: "button", class: "more", onclick: () => void this.loadPage() }, "Load more events");
  private readonly liveStatus = h("span", { class: "live-status", "aria-live": "polite" });
  private readonly liveToggle = h("input", { type: "checkbox", checked: true, onchange: () => this.toggleLive() });

  constructor(
    private readonly el: HTMLElement,
    private readonly client: SessiondClient,
    private readonly onError: (error: unknown) => void,
    /** Told when a re-read shows the session changed, e.g. to update a list row. */
    private readonly onChanged: (session: Session) => void = () => {},
  ) {}

  /** Shows `ref`, replacing the session shown before. */
  async open(ref: SessionRef): Promise<void> {
    this.close();
    this.ref = ref;
    this.abort = new AbortController();
    this.shownUpTo = 0n;
    this.nextToken = "";
    this.pending = [];
    replace(this.events);
    let session: Session;
    try {
      session = await this.client.getSession({ ...ref, numRecentEvents: 0 }, { signal: this.abort.signal });
    } catch (error) {
      if (this.abort.signal.aborted) return;
      replace(this.el, h("p", { class: "hint" }, "The session could not be loaded."));
      this.onError(error);
      return;
    }
    this.renderFields(session);
    replace(
      this.el,
      this.header,
      h("div", { class: "columns" }, h("div", {}, h("h3", {}, "State"), this.state), h("div", {}, h("h3", {}, "Metadata"), this.metadata)),
      h("div", { class: "events-bar" }, h("h3", {}, "Events"), h("label", { class: "live" }, this.liveToggle, " Live"), this.liveStatus),
      this.events,
      this.more,
    );
    await this.loadPage(true);
    // New events are those after the session as it was when opened; the
    // pages cover everything up to there.
    if (this.liveToggle.checked) this.startLive(session.lastSequence);
  }

  /** Stops the live tail and pending requests. */
  close(): void {
    this.abort.abort();
    this.live?.stop();
    this.live = undefined;
    clearTimeout(this.refreshTimer);
  }

  private renderFields(s: Session): void {
    const field = (name: string, value: string | bigint) => h("div", {}, h("dt", {}, name), h("dd", {}, value));
    replace(
      this.header,
      h("h2", {}, "Session ", h("code", {}, s.id)),
      h(
        "dl",
        { class: "fields" },
        field("App", s.appName),
        field("User", s.userId),
        field("Agent", s.agentId || "—"),
        h("div", {}, h("dt", {}, "Status"), h("dd", {}, h("span", { class: `status ${statusName(s.status)}` }, statusName(s.status)))),
        field("Created", formatTime(s.createTime)),
        field("Updated", formatTime(s.updateTime)),
        field("Last sequence", s.lastSequence),
      ),
    );
    this.state.textContent = prettyJson(s.state);
    this.metadata.textContent = prettyJson(s.metadata);
  }

  private async loadPage(first = false): Promise<void> {
    const ref = this.ref;
    if (!ref || (!first && this.nextToken === "")) return;
    this.more.disabled = true;
    try {
      const res = await this.client.rpc.listEvents(
        { ...ref, pageSize: EVENTS_PAGE_SIZE, pageToken: this.nextToken },
        { signal: this.abort.signal },
      );
      this.nextToken = res.nextPageToken;
      this.show(res.events);
      if (this.nextToken === "") this.show(this.pending.splice(0));
      if (first && res.events.length === 0) this.events.append(h("li", { class: "hint empty" }, "No events yet."));
    } catch (error) {
      if (!this.abort.signal.aborted) this.onError(error);
    } finally {
      this.more.disabled = false;
      this.more.hidden = this.nextToken === "";
    }
  }

  /** Appends events not shown yet, in order. */
  private show(events: Event[]): void {
    for (const event of events) {
      if (event.sequence <= this.shownUpTo) continue;
      this.events.querySelector(".empty")?.remove();
      this.events.append(eventItem(event));
      this.shownUpTo = event.sequence;
    }
  }

  private startLive(after: bigint): void {
    const ref = this.ref;
    if (!ref) return;
    this.live = new LiveTail(this.client, ref, after, {
      onEvent: (event) => {
        if (this.nextToken === "") this.show([event]);
        else this.pending.push(event);
        this.scheduleRefresh();
      },
      onStatus: (text) => {
        this.liveStatus.textContent = text;
      },
      onError: this.onError,
    });
  }

  private toggleLive(): void {
    if (this.liveToggle.checked) this.startLive(this.shownUpTo > 0n ? this.shownUpTo : 0n);
    else {
      this.live?.stop();
      this.live = undefined;
      this.liveStatus.textContent = "paused";
    }
  }

  /** Re-reads state and fields once a burst of live events is over. */
  private scheduleRefresh(): void {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(async () => {
      if (!this.ref) return;
      try {
        const session = await this.client.getSession({ ...this.ref, numRecentEvents: 0 }, { signal: this.abort.signal });
        this.renderFields(session);
        this.onChanged(session);
      } catch (error) {
        if (!this.abort.signal.aborted) this.onError(error);
      }
    }, 200);
  }
}

function eventItem(e: Event): HTMLLIElement {
  const flags = [e.partial && "partial", e.turnComplete && "turn complete", e.interrupted && "interrupted", e.errorCode && `error ${e.errorCode}`];
  return h(
    "li",
    { class: "event", "data-sequence": e.sequence.toString() },
    h(
      "div",
      { class: "event-head" },
      h("span", { class: "seq" }, `#${e.sequence}`),
      h("span", { class: "author" }, e.author || "—"),
      e.agentId ? h("span", { class: "agent" }, e.agentId) : null,
      h("time", {}, formatTime(e.timestamp)),
      ...flags.filter((f): f is string => typeof f === "string").map((f) => h("span", { class: "flag" }, f)),
    ),
    h("div", { class: "event-text" }, eventSummary(e)),
    h("details", {}, h("summary", {}, "JSON"), h("pre", { class: "json" }, eventJson(e))),
  );
}
