import type { JsonObject } from "@bufbuild/protobuf";
import { h, replace } from "./dom.js";
import { prettyJson } from "./format.js";
import { splitScopes } from "./state-replay.js";

const SCOPES = [
  ["session", "Session", "this session only"],
  ["user", "User (user:)", "shared by the user's sessions of this app"],
  ["app", "App (app:)", "shared by every session of this app"],
] as const;

/** The merged state split by scope, either as it is now or as it was after one event. */
export class StatePanel {
  readonly el = h("section", { class: "state-panel", "data-testid": "state-panel", "aria-label": "State" });
  private current: JsonObject = {};
  private inspecting = false;

  /** Shows the session's current state. */
  showCurrent(state: JsonObject): void {
    this.current = state;
    this.inspecting = false;
    this.render("Current state", state, undefined);
  }

  /** Takes a newer current state; a past state being inspected stays until "back to current". */
  updateCurrent(state: JsonObject): void {
    if (this.inspecting) this.current = state;
    else this.showCurrent(state);
  }

  /** Shows the replayed state after event `sequence`, marking the keys it changed. */
  showAfter(sequence: bigint, state: JsonObject, changed: ReadonlySet<string>): void {
    this.inspecting = true;
    this.render(`State after event #${sequence}`, state, changed, () => this.showCurrent(this.current));
  }

  private render(title: string, state: JsonObject, changed: ReadonlySet<string> | undefined, onBack?: () => void): void {
    const scopes = splitScopes(state);
    replace(
      this.el,
      h(
        "div",
        { class: "state-bar" },
        h("h3", { class: "state-title" }, title),
        onBack ? h("button", { type: "button", class: "link", onclick: onBack }, "back to current") : null,
      ),
      changed ? h("p", { class: "hint small" }, "Replayed from the loaded events' state deltas, in this page.") : null,
      h(
        "div",
        { class: "scopes" },
        ...SCOPES.map(([scope, label, hint]) => {
          const entries = Object.entries(scopes[scope]);
          return h(
            "div",
            { class: `scope scope-${scope}`, "data-scope": scope },
            h("h4", { title: hint }, label, h("span", { class: "count" }, ` ${entries.length}`)),
            entries.length === 0
              ? h("p", { class: "hint small" }, "empty")
              : h(
                  "dl",
                  { class: "kv" },
                  ...entries.map(([key, value]) =>
                    h(
                      "div",
                      { class: changed?.has(key) ? "changed" : undefined },
                      h("dt", {}, key),
                      h("dd", {}, h("pre", { class: "json" }, prettyJson(value))),
                    ),
                  ),
                ),
          );
        }),
      ),
    );
  }
}
