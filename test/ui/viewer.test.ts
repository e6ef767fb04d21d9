import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSessiondClient, type SessiondClient, SessionStatus } from "../../src/client/index.js";
import { type SessiondServer, startServer } from "../../src/server.js";
import { MemoryStore } from "../../src/stores/memory.js";
import { staticRoutes } from "../../src/ui/static-route.js";
import { launchChromium } from "../support/chromium.js";
import { uniqueName } from "../support/server.js";
import { buildUi } from "../support/ui-build.js";

const XSS_AUTHOR = `<img src=x onerror="window.__xss=1">`;
const XSS_TEXT = `<script>window.__xss=2</script><b>not bold</b>`;

let ui: Awaited<ReturnType<typeof buildUi>>;
let server: SessiondServer;
let api: SessiondClient;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];
const app = uniqueName("ui");
const chat = { appName: app, userId: "bob", sessionId: "chat-1" };
const long = { appName: app, userId: "dave", sessionId: "long-1" };

beforeAll(async () => {
  // Build, server and browser start in parallel: together they are most of the test's time.
  const built = buildUi();
  const launched = launchChromium();
  ui = await built;
  server = await startServer({ store: new MemoryStore(), port: 0, httpRoutes: staticRoutes({ root: ui.dir }) });
  api = createSessiondClient({ baseUrl: server.url });
  for (let i = 0; i < 23; i++) await api.createSession({ appName: app, userId: "alice", sessionId: `a-${String(i).padStart(2, "0")}` });
  const done = await api.createSession({ appName: app, userId: "carol", sessionId: "done-1" });
  await api.rpc.updateSession({ appName: app, userId: "carol", sessionId: done.id, status: SessionStatus.COMPLETED });
  await api.createSession({ ...long });
  await api.appendEvents(long, Array.from({ length: 120 }, (_, i) => ({ author: "user", content: { parts: [{ text: `m${i + 1}` }] } })));
  await api.createSession({ ...chat, agentId: "helper", state: { "user:lang": "en" }, metadata: { title: "Trip planning" } });
  await api.appendEvents(chat, [
    { author: "user", content: { role: "user", parts: [{ text: "Plan a trip to Lisbon" }] }, actions: { stateDelta: { turns: 1 } } },
    { author: "helper", content: { role: "model", parts: [{ text: "Three days: Alfama, Belém, Sintra." }] }, actions: { stateDelta: { turns: 2 } } },
    { author: XSS_AUTHOR, content: { parts: [{ text: XSS_TEXT }] } },
  ]);
  browser = await launched;
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error") pageErrors.push(m.text());
  });
});

afterAll(async () => {
  await browser?.close();
  await server?.close(1000);
  ui?.cleanup();
});

const rows = () => page.locator("#sessions tbody tr");
const events = () => page.locator("#session .event");

async function listSessions(filters: { user?: string; status?: string }) {
  await page.fill("input[name=app]", app);
  await page.fill("input[name=user]", filters.user ?? "");
  await page.selectOption("select[name=status]", filters.status ?? "");
  await page.click("button[type=submit]");
}

async function waitForCount(locator: ReturnType<Page["locator"]>, n: number) {
  await expect.poll(() => locator.count(), { timeout: 10_000 }).toBe(n);
}

describe("session viewer in Chromium", () => {
  it("loads at /ui and lists an app's sessions page by page", async () => {
    const res = await page.goto(`${server.url}/ui`);
    expect(res?.status()).toBe(200);
    expect(page.url()).toBe(`${server.url}/ui/`);
    await listSessions({});
    await waitForCount(rows(), 20);
    await page.getByRole("button", { name: "Next ›" }).click();
    await waitForCount(rows(), 6);
    expect(await page.getByRole("button", { name: "Next ›" }).isDisabled()).toBe(true);
    await page.getByRole("button", { name: "‹ Previous" }).click();
    await waitForCount(rows(), 20);
  });

  it("filters by status and user", async () => {
    await listSessions({ status: "COMPLETED" });
    await waitForCount(rows(), 1);
    expect(await rows().first().innerText()).toContain("done-1");
    await listSessions({ user: "bob" });
    await waitForCount(rows(), 1);
    expect(await rows().first().innerText()).toContain("chat-1");
  });

  it("opens a session with its state, metadata and events, showing user content as text", async () => {
    await page.getByRole("button", { name: "chat-1" }).click();
    await waitForCount(events(), 3);
    expect(await page.locator("[data-testid=state]").innerText()).toContain('"turns": 2');
    expect(await page.locator("[data-testid=metadata]").innerText()).toContain("Trip planning");
    expect(await page.locator(".session-header").innerText()).toContain("helper");
    const third = events().nth(2);
    expect(await third.locator(".author").innerText()).toBe(XSS_AUTHOR);
    expect(await third.locator(".event-text").innerText()).toBe(XSS_TEXT);
    expect(await page.locator("#session img, #session script, #session b").count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { __xss?: number }).__xss)).toBeUndefined();
  });

  it("shows events appended through the API without a reload", async () => {
    await expect.poll(() => page.locator(".live-status").innerText(), { timeout: 10_000 }).toBe("live");
    await api.appendEvent(chat, { author: "user", content: { parts: [{ text: "And a day in Porto?" }] }, actions: { stateDelta: { turns: 3 } } });
    await api.appendEvent(chat, { author: "helper", content: { parts: [{ text: "Add one by train." }] } });
    await waitForCount(events(), 5);
    expect(await events().nth(3).innerText()).toContain("And a day in Porto?");
    expect(await events().nth(4).innerText()).toContain("#5");
    await expect.poll(() => page.locator("[data-testid=state]").innerText(), { timeout: 10_000 }).toContain('"turns": 3');
    // The list row of the open session follows too.
    await expect.poll(() => rows().first().locator("td.num").innerText(), { timeout: 10_000 }).toBe("5");
    mkdirSync("test-results", { recursive: true });
    await page.screenshot({ path: join("test-results", "ui-viewer.png"), fullPage: true });
  });

  it("keeps the open session across a reload", async () => {
    await page.reload();
    await waitForCount(events(), 5);
    expect(await page.inputValue("input[name=app]")).toBe(app);
    await waitForCount(rows(), 1);
  });

  it("pages through a long history with ListEvents", async () => {
    await listSessions({ user: "dave" });
    await page.getByRole("button", { name: "long-1" }).click();
    await waitForCount(events(), 50);
    const more = page.getByRole("button", { name: "Load more events" });
    await more.click();
    await waitForCount(events(), 100);
    await more.click();
    await waitForCount(events(), 120);
    expect(await more.isHidden()).toBe(true);
    const sequences = await events().evaluateAll((els) => els.map((e) => Number((e as unknown as { dataset: { sequence: string } }).dataset.sequence)));
    expect(sequences).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    await listSessions({});
    await waitForCount(rows(), 20);
    await page.screenshot({ path: join("test-results", "ui-viewer-list.png") });
  });

  it("shows API errors in the page", async () => {
    await page.goto(`${server.url}/ui/#app=${app}&session_user=bob&session=nope`);
    await expect.poll(() => page.locator("#error").innerText(), { timeout: 10_000 }).toContain("not_found");
    expect(await page.locator("#session").innerText()).toContain("could not be loaded");
    pageErrors.splice(0); // the failed call is logged by the browser as a console error
  });

  it("logged no script errors", () => {
    expect(pageErrors).toEqual([]);
  });
});
