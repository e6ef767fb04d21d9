import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Interceptor } from "@connectrpc/connect";
import type { Browser, Page } from "playwright-core";
import { expect } from "vitest";
import { createSessiondClient, type SessiondClient } from "../../src/client/index.js";
import { type SessiondServer, startServer } from "../../src/server.js";
import { MemoryStore } from "../../src/stores/memory.js";
import { staticRoutes } from "../../src/ui/static-route.js";
import { launchChromium } from "../support/chromium.js";
import { buildUi } from "../support/ui-build.js";

/** A freshly built viewer served by a real server over a memory store, and Chromium. */
export interface ViewerHarness {
  server: SessiondServer;
  /** A client of the same server (with `token` when given). */
  api: SessiondClient;
  browser: Browser;
  /** Script errors and console errors of every page opened through `newPage`. */
  pageErrors: string[];
  newPage(viewport?: { width: number; height: number }): Promise<Page>;
  close(): Promise<void>;
}

/** Builds the viewer, starts the server and the browser (in parallel: together they are most of a test's time). */
export async function startViewer(options: { interceptors?: Interceptor[]; token?: string } = {}): Promise<ViewerHarness> {
  const built = buildUi();
  const launched = launchChromium();
  const ui = await built;
  const server = await startServer({ store: new MemoryStore(), port: 0, httpRoutes: staticRoutes({ root: ui.dir }), interceptors: options.interceptors });
  const api = createSessiondClient({ baseUrl: server.url, token: options.token });
  const browser = await launched;
  const pageErrors: string[] = [];
  return {
    server,
    api,
    browser,
    pageErrors,
    async newPage(viewport = { width: 1400, height: 900 }) {
      const page = await browser.newPage({ viewport });
      page.on("pageerror", (e) => pageErrors.push(String(e)));
      page.on("console", (m) => {
        if (m.type() === "error") pageErrors.push(m.text());
      });
      return page;
    },
    async close() {
      await browser.close();
      await server.close(1000);
      ui.cleanup();
    },
  };
}

/** Waits until `count()` returns `n`. */
export async function waitForCount(locator: { count(): Promise<number> }, n: number): Promise<void> {
  await expect.poll(() => locator.count(), { timeout: 15_000 }).toBe(n);
}

/** Saves a screenshot as test-results/<name>.png. */
export async function screenshot(page: Page, name: string, fullPage = false): Promise<void> {
  mkdirSync("test-results", { recursive: true });
  await page.screenshot({ path: join("test-results", `${name}.png`), fullPage });
}
