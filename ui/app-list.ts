import type { AppSummary, SessiondClient } from "../src/client/web.js";
import { h, replace } from "./dom.js";
import { formatCount } from "./format.js";

/** Apps fetched at most, in pages of 1000; the rest are reachable by typing the name. */
const MAX_APPS = 5000;

/** The apps that have sessions (those the key may see), with counts; a click opens one. */
export class AppList {
  private apps: AppSummary[] = [];
  private selected = "";

  constructor(
    private readonly el: HTMLElement,
    private readonly datalist: HTMLDataListElement,
    private readonly client: SessiondClient,
    private readonly onPick: (appName: string) => void,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Re-reads the apps. */
  async load(): Promise<void> {
    this.el.setAttribute("aria-busy", "true");
    try {
      const apps: AppSummary[] = [];
      for await (const page of this.client.listApps({ pageSize: 1000 })) {
        apps.push(...page);
        if (apps.length >= MAX_APPS) break;
      }
      this.apps = apps;
      this.render();
    } catch (error) {
      this.apps = [];
      replace(this.el, h("h2", {}, "Apps"), h("p", { class: "hint" }, "Apps could not be listed."));
      replace(this.datalist);
      this.onError(error);
    } finally {
      this.el.removeAttribute("aria-busy");
    }
  }

  /** Marks the app being shown. */
  select(appName: string): void {
    this.selected = appName;
    for (const button of this.el.querySelectorAll<HTMLElement>("[data-app]")) {
      button.classList.toggle("selected", button.dataset.app === appName);
      button.setAttribute("aria-current", String(button.dataset.app === appName));
    }
  }

  private render(): void {
    replace(this.datalist, ...this.apps.map((a) => h("option", { value: a.appName })));
    replace(
      this.el,
      h("h2", {}, "Apps ", h("span", { class: "count" }, this.apps.length)),
      this.apps.length === 0
        ? h("p", { class: "hint" }, "No app has sessions yet.")
        : h(
            "ul",
            { class: "apps" },
            ...this.apps.map((a) =>
              h(
                "li",
                {},
                h(
                  "button",
                  {
                    type: "button",
                    class: a.appName === this.selected ? "app selected" : "app",
                    "data-app": a.appName,
                    "aria-current": String(a.appName === this.selected),
                    title: a.appName,
                    onclick: () => this.onPick(a.appName),
                  },
                  h("span", { class: "name" }, a.appName),
                  h("span", { class: "n", title: "sessions" }, formatCount(a.sessionCount)),
                ),
              ),
            ),
          ),
    );
  }
}
