import type { Event } from "../src/client/web.js";
import { h } from "./dom.js";
import { renderParts } from "./event-parts.js";
import { eventJson, formatClock, formatDuration, shortJson } from "./format.js";
import type { KeyChange } from "./state-replay.js";
import { eventUsage, formatUsage } from "./usage.js";

/** What an event row needs beside the event. */
export interface EventContext {
  /** Milliseconds since the previous event, when there is one. */
  gapMs?: number;
  /** The state keys the event changed, from the replay. */
  changes: KeyChange[];
  /** Shows the state as it was after this event. */
  onStateAfter(event: Event): void;
}

/** One event: header, parts by kind, action chips, error, raw JSON. */
export function eventItem(e: Event, ctx: EventContext): HTMLLIElement {
  const flags = [e.partial && "partial", e.turnComplete && "turn complete", e.interrupted && "interrupted"];
  const usage = eventUsage(e);
  const chips = actionChips(e, ctx.changes);
  return h(
    "li",
    { class: "event", "data-sequence": e.sequence.toString() },
    h(
      "div",
      { class: "event-head" },
      h("span", { class: "seq" }, `#${e.sequence}`),
      h("span", { class: "author" }, e.author || "—"),
      e.agentId && e.agentId !== e.author ? h("span", { class: "agent" }, e.agentId) : null,
      e.branch ? h("span", { class: "branch", title: "branch" }, e.branch) : null,
      h("time", { class: "ts", datetime: e.timestamp ? new Date(Number(e.timestamp.seconds) * 1000).toISOString() : undefined }, formatClock(e.timestamp)),
      ctx.gapMs !== undefined ? h("span", { class: "gap", title: "since the previous event" }, `+${formatDuration(ctx.gapMs)}`) : null,
      ...flags.filter((f): f is string => typeof f === "string").map((f) => h("span", { class: "flag" }, f)),
      usage ? h("span", { class: "usage", title: "tokens in / out" }, formatUsage(usage)) : null,
    ),
    ...renderParts(e),
    e.errorCode || e.errorMessage
      ? h("div", { class: "event-error", role: "note" }, h("strong", {}, e.errorCode || "error"), e.errorMessage ? `: ${e.errorMessage}` : "")
      : null,
    chips.length > 0 ? h("div", { class: "chips" }, ...chips) : null,
    h(
      "div",
      { class: "event-foot" },
      h("button", { type: "button", class: "link state-after", onclick: () => ctx.onStateAfter(e) }, "state after"),
      h("details", {}, h("summary", {}, "JSON"), h("pre", { class: "json" }, eventJson(e))),
    ),
  );
}

/** Chips for an event's actions: state changes, transfer, escalate, artifacts, long-running tools. */
function actionChips(e: Event, changes: KeyChange[]): HTMLElement[] {
  const a = e.actions;
  const chips: HTMLElement[] = [];
  const known = new Set(changes.map((c) => c.key));
  for (const c of changes) {
    chips.push(
      h(
        "span",
        { class: `chip state${c.after === undefined ? " deleted" : ""}`, title: "state change" },
        h("span", { class: "key" }, c.key),
        " ",
        c.beforeKnown ? h("span", { class: "old" }, c.before === undefined ? "unset" : shortJson(c.before, 40)) : null,
        c.beforeKnown ? " → " : "= ",
        h("span", { class: "new" }, c.after === undefined ? "deleted" : shortJson(c.after, 40)),
      ),
    );
  }
  for (const [key, value] of Object.entries(a?.stateDelta ?? {})) {
    if (!known.has(key)) chips.push(h("span", { class: "chip state temp", title: "not stored" }, h("span", { class: "key" }, key), ` = ${shortJson(value, 40)}`));
  }
  if (a?.transferToAgent) chips.push(h("span", { class: "chip transfer" }, "transfer → ", h("strong", {}, a.transferToAgent)));
  if (a?.escalate) chips.push(h("span", { class: "chip escalate" }, "escalate"));
  if (a?.skipSummarization) chips.push(h("span", { class: "chip" }, "skip summarization"));
  for (const [name, version] of Object.entries(a?.artifactDelta ?? {})) {
    chips.push(h("span", { class: "chip artifact" }, "artifact ", h("code", {}, name), ` v${version}`));
  }
  for (const id of e.longRunningToolIds) chips.push(h("span", { class: "chip long-running" }, "long-running ", h("code", {}, id)));
  for (const key of Object.keys(a?.custom ?? {})) chips.push(h("span", { class: "chip custom" }, key));
  return chips;
}
