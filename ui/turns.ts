import type { Event } from "../src/client/web.js";
import { h, replace } from "./dom.js";
import { eventMs, formatDuration } from "./format.js";
import { addUsage, formatUsage, NO_USAGE, type Usage } from "./usage.js";

/**
 * One invocation: consecutive events sharing an invocation_id, under a
 * header with its agents, duration (first to last timestamp) and tokens.
 */
export class Turn {
  readonly el: HTMLElement;
  readonly list = h("ol", { class: "events" });
  private readonly head = h("div", { class: "turn-head" });
  private readonly agents = new Set<string>();
  private first: number | undefined;
  private last: number | undefined;
  private count = 0;
  private usage: Usage = NO_USAGE;

  constructor(readonly invocationId: string) {
    this.el = h("section", { class: "turn", "data-invocation": invocationId }, this.head, this.list);
  }

  /** Adds an event's row and figures. */
  add(event: Event, row: HTMLElement, usage: Usage | undefined): void {
    this.list.append(row);
    this.count++;
    const agent = event.agentId || (event.author !== "user" ? event.author : "");
    if (agent) this.agents.add(agent);
    const ms = eventMs(event);
    if (ms !== undefined) {
      this.first ??= ms;
      this.last = ms;
    }
    this.usage = addUsage(this.usage, usage);
    this.render();
  }

  private render(): void {
    const duration = this.first !== undefined && this.last !== undefined ? this.last - this.first : undefined;
    replace(
      this.head,
      h("span", { class: "turn-title" }, this.invocationId ? "Invocation " : "No invocation", this.invocationId ? h("code", {}, this.invocationId) : null),
      this.agents.size > 0 ? h("span", { class: "turn-agents" }, [...this.agents].join(" → ")) : null,
      h("span", { class: "turn-count" }, `${this.count} event${this.count === 1 ? "" : "s"}`),
      duration !== undefined ? h("span", { class: "turn-duration", title: "first to last event" }, formatDuration(duration)) : null,
      this.usage.input + this.usage.output > 0 ? h("span", { class: "turn-usage", title: "tokens in / out" }, formatUsage(this.usage)) : null,
    );
  }
}
