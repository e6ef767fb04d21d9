import type { Event, Session, SessionRef, SessiondClient } from "../src/client/web.js";
import { h, replace } from "./dom.js";
import { type EventContext, eventItem } from "./event-item.js";
import { eventMs, formatTime, prettyJson, statusName } from "./format.js";
import { LiveTail } from "./live-tail.js";
import { StatePanel } from "./state-panel.js";
import { StateReplay } from "./state-replay.js";
import { TailScroll } from "./tail-scroll.js";
import { Turn } from "./turns.js";
import { addUsage, eventUsage, formatUsage, NO_USAGE, type Usage } from "./usage.js";

const EVENTS_PAGE_SIZE = 50;

/**
 * One session: its fields, scoped state and metadata, its events grouped
 * by invocation page by page (ListEvents), and new events as they are
 * appended (GetEvents with follow).
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
  private lastTurn: Turn | undefined;
  private lastMs: number | undefined;
  private usage: Usage = NO_USAGE;
  private readonly replay = new StateReplay();
  private readonly header = h("div", { class: "session-header" });
  private readonly statePanel = new StatePanel();
  private readonly metadata = h("pre", { class: "json", "data-testid": "metadata" });
  private readonly turns = h("div", { class: "timeline", "aria-label": "Events" });
  private readonly more = h("button", { type: "button", class: "more", onclick: () => void this.loadPage() }, "Load more events");
  private readonly liveStatus = h("span", { class: "live-status", "aria-live": "polite" });
  private readonly liveToggle = h("input", { type: "checkbox", checked: true, onchange: () => this.toggleLive() });
  private readonly tail = new TailScroll(this.turns);

  constructor(
    private readonly el: HTMLElement,
    private readonly client: SessiondClient,
    private readonly onError: (error: unknown) => void,
    /** Told when a re-read shows the session changed, e.g. to update a list row. */
    private readonly onChanged: (session: Session) => void = () => {},
  ) {}

  /** The session shown, if any. */
  get current(): SessionRef | undefined {
    return this.ref;
  }

  /** Shows `ref`, replacing the session shown before. */
  async open(ref: SessionRef): Promise<void> {
    this.close();
    this.ref = ref;
    this.abort = new AbortController();
    const signal = this.abort.signal;
    this.shownUpTo = 0n;
    this.nextToken = "";
    this.pending = [];
    this.lastTurn = undefined;
    this.lastMs = undefined;
    this.usage = NO_USAGE;
    this.tail.reset();
    replace(this.turns);
    replace(this.el, h("p", { class: "hint" }, "Loading ", h("code", {}, ref.sessionId), "…"));
    let session: Session;
    try {
      session = await this.client.getSession({ ...ref, numRecentEvents: 0 }, { signal });
    } catch (error) {
      if (signal.aborted) return;
      replace(this.el, h("p", { class: "hint" }, "The session could not be loaded."));
      this.onError(error);
      return;
    }
    if (signal.aborted) return;
    this.replay.reset(session.state ?? {});
    this.renderFields(session);
    this.statePanel.showCurrent(session.state ?? {});
    replace(
      this.el,
      this.header,
      this.statePanel.el,
      h("details", { class: "metadata" }, h("summary", {}, "Metadata"), this.metadata),
      h("div", { class: "events-bar" }, h("h3", {}, "Events"), h("label", { class: "live" }, this.liveToggle, " Live"), this.liveStatus),
      this.turns,
      this.more,
      this.tail.button,
    );
    await this.loadPage(true);
    // New events are those after the session as it was when opened; the
    // pages cover everything up to there.
    if (this.liveToggle.checked && !signal.aborted) this.startLive(session.lastSequence);
  }

  /** Stops the live tail and pending requests. */
  close(): void {
    this.abort.abort();
    this.live?.stop();
    this.live = undefined;
    clearTimeout(this.refreshTimer);
  }

  /** Closes the session and shows `hint` instead. */
  clear(hint: string): void {
    this.close();
    this.ref = undefined;
    replace(this.el, h("p", { class: "hint" }, hint));
  }

  private renderFields(s: Session): void {
    const field = (name: string, value: string | bigint, cls?: string) => h("div", { class: cls }, h("dt", {}, name), h("dd", {}, value));
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
        ...(s.forkedFrom ? [field("Forked from", `${s.forkedFrom.sessionId} (user ${s.forkedFrom.userId}) at ${s.forkedFrom.sequence}`, "forked-from")] : []),
        field("Tokens", formatUsage(this.usage), "session-usage"),
      ),
    );
    this.metadata.textContent = prettyJson(s.metadata);
  }

  private async loadPage(first = false): Promise<void> {
    const ref = this.ref;
    const signal = this.abort.signal;
    if (!ref || (!first && this.nextToken === "")) return;
    this.more.disabled = true;
    try {
      const res = await this.client.rpc.listEvents({ ...ref, pageSize: EVENTS_PAGE_SIZE, pageToken: this.nextToken }, { signal });
      if (signal.aborted) return;
      this.nextToken = res.nextPageToken;
      this.show(res.events);
      if (this.nextToken === "") this.show(this.pending.splice(0));
      if (first && res.events.length === 0) this.turns.append(h("p", { class: "hint empty" }, "No events yet."));
    } catch (error) {
      if (!signal.aborted) this.onError(error);
    } finally {
      this.more.disabled = false;
      this.more.hidden = this.nextToken === "";
    }
  }

  /** Appends events not shown yet, in order; returns their rows. */
  private show(events: Event[]): HTMLElement[] {
    const fresh = events.filter((e) => e.sequence > this.shownUpTo);
    if (fresh.length === 0) return [];
    this.turns.querySelector(".empty")?.remove();
    this.replay.add(fresh);
    const rows: HTMLElement[] = [];
    for (const event of fresh) {
      const ms = eventMs(event);
      const ctx: EventContext = {
        gapMs: ms !== undefined && this.lastMs !== undefined ? ms - this.lastMs : undefined,
        changes: this.replay.changesOf(event.sequence),
        onStateAfter: (e) => this.showStateAfter(e),
      };
      if (ms !== undefined) this.lastMs = ms;
      const row = eventItem(event, ctx);
      if (!this.lastTurn || this.lastTurn.invocationId !== event.invocationId) {
        this.lastTurn = new Turn(event.invocationId);
        this.turns.append(this.lastTurn.el);
      }
      const usage = eventUsage(event);
      this.lastTurn.add(event, row, usage);
      this.usage = addUsage(this.usage, usage);
      this.shownUpTo = event.sequence;
      rows.push(row);
    }
    const total = this.header.querySelector(".session-usage dd");
    if (total) total.textContent = formatUsage(this.usage);
    return rows;
  }

  private showStateAfter(event: Event): void {
    const changed = new Set(this.replay.changesOf(event.sequence).map((c) => c.key));
    this.statePanel.showAfter(event.sequence, this.replay.stateAfter(event.sequence), changed);
    for (const row of this.turns.querySelectorAll(".event.inspected")) row.classList.remove("inspected");
    this.turns.querySelector(`.event[data-sequence="${event.sequence}"]`)?.classList.add("inspected");
    this.statePanel.el.scrollIntoView({ block: "nearest" });
  }

  private startLive(after: bigint): void {
    const ref = this.ref;
    if (!ref) return;
    this.live = new LiveTail(this.client, ref, after, {
      onEvent: (event) => {
        if (this.nextToken !== "") {
          this.pending.push(event);
        } else {
          const done = this.tail.beforeAdd();
          done(this.show([event]));
        }
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
    const signal = this.abort.signal;
    this.refreshTimer = setTimeout(async () => {
      if (!this.ref) return;
      try {
        const session = await this.client.getSession({ ...this.ref, numRecentEvents: 0 }, { signal });
        if (signal.aborted) return;
        this.renderFields(session);
        this.statePanel.updateCurrent(session.state ?? {});
        this.onChanged(session);
      } catch (error) {
        if (!signal.aborted) this.onError(error);
      }
    }, 200);
  }
}
