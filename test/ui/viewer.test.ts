import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SessionStatus } from "../../src/client/index.js";
import { uniqueName } from "../support/server.js";
import { screenshot, startViewer, type ViewerHarness, waitForCount } from "./harness.js";
import { seedSupportSession } from "./support-conversation.js";

const XSS_AUTHOR = `<img src=x onerror="window.__xss=1">`;
const XSS_TEXT = `<script>window.__xss=2</script><b>not bold</b>`;

let v: ViewerHarness;
let page: Page;
const app = uniqueName("ui");
const other = uniqueName("zz-other");
const chat = { appName: app, userId: "bob", sessionId: "chat-1" };
const long = { appName: app, userId: "dave", sessionId: "long-1" };
const support = { appName: other, userId: "ana", sessionId: "case-1042" };

beforeAll(async () => {
  v = await startViewer();
  const api = v.api;
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
  await seedSupportSession(api, support, Date.now() - 60_000);
  page = await v.newPage();
});

afterAll(async () => {
  await v?.close();
});

const rows = () => page.locator("#sessions tbody tr");
const events = () => page.locator("#session .event");

async function search(filters: { app?: string; user?: string; status?: string; prefix?: string }) {
  await page.fill("input[name=app]", filters.app ?? app);
  await page.fill("input[name=q]", filters.prefix ?? "");
  await page.fill("input[name=user]", filters.user ?? "");
  await page.selectOption("select[name=status]", filters.status ?? "");
  await page.getByRole("button", { name: "Search" }).click();
}

describe("session viewer in Chromium", () => {
  it("loads at /ui with the app list and their session counts", async () => {
    const res = await page.goto(`${v.server.url}/ui`);
    expect(res?.status()).toBe(200);
    expect(page.url()).toBe(`${v.server.url}/ui/`);
    const apps = page.locator("#apps [data-app]");
    await waitForCount(apps, 2);
    expect(await apps.allInnerTexts()).toEqual([`${app}\n26`, `${other}\n1`]);
    await apps.first().click();
    await waitForCount(rows(), 20);
    expect(await page.inputValue("input[name=app]")).toBe(app);
    expect(await apps.first().getAttribute("aria-current")).toBe("true");
    expect(page.url()).toContain(`#app=${app}`);
  });

  it("pages through an app's sessions", async () => {
    await page.getByRole("button", { name: "Next ›" }).click();
    await waitForCount(rows(), 6);
    expect(await page.getByRole("button", { name: "Next ›" }).isDisabled()).toBe(true);
    await page.getByRole("button", { name: "‹ Previous" }).click();
    await waitForCount(rows(), 20);
  });

  it("filters by status and user, and searches by session id prefix", async () => {
    // Each step waits for the rows it expects, not just their count: the previous result may have as many rows.
    const ids = async () => (await rows().locator("td.id").allInnerTexts()).sort();
    await search({ status: "COMPLETED" });
    await expect.poll(ids).toEqual(["done-1"]);
    await search({ user: "bob" });
    await expect.poll(ids).toEqual(["chat-1"]);
    await search({ prefix: "a-1" });
    await expect.poll(ids).toEqual(Array.from({ length: 10 }, (_, i) => `a-1${i}`));
    expect(page.url()).toContain("q=a-1");
    await search({ prefix: "nope" });
    await expect.poll(() => page.locator("#sessions").innerText()).toContain("No sessions match.");
  });

  it("keeps ids and dates on one line in the list", async () => {
    await search({});
    await waitForCount(rows(), 20);
    const heights = await rows().evaluateAll((trs) => trs.map((tr) => tr.getBoundingClientRect().height));
    const first = heights[0]!;
    expect(heights.every((h) => Math.abs(h - first) < 1)).toBe(true);
    const cell = rows().first().locator("td.updated");
    expect(await cell.evaluate((td) => td.scrollWidth <= td.clientWidth)).toBe(true);
    const box = (await page.locator("#sessions table").boundingBox())!;
    const paneBox = (await page.locator(".sessions-pane").boundingBox())!;
    expect(box.x + box.width).toBeLessThanOrEqual(paneBox.x + paneBox.width);
    await screenshot(page, "ui-list");
  });

  it("opens a session with its state, metadata and events, showing user content as text", async () => {
    await search({ user: "bob" });
    await page.getByRole("button", { name: "chat-1" }).click();
    await waitForCount(events(), 3);
    expect(await page.locator("[data-scope=session] dd").innerText()).toBe("2");
    expect(await page.locator("[data-scope=user] dt").innerText()).toBe("user:lang");
    expect(await page.locator("[data-testid=metadata]").textContent()).toContain("Trip planning");
    expect(await page.locator(".session-header").innerText()).toContain("helper");
    const third = events().nth(2);
    expect(await third.locator(".author").innerText()).toBe(XSS_AUTHOR);
    expect(await third.locator(".part.text .text").innerText()).toBe(XSS_TEXT);
    expect(await page.locator("#session img, #session script, #session b").count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { __xss?: number }).__xss)).toBeUndefined();
  });

  it("keeps the open session across a reload (deep link)", async () => {
    await page.reload();
    await waitForCount(events(), 3);
    expect(await page.inputValue("input[name=app]")).toBe(app);
    expect(await page.inputValue("input[name=user]")).toBe("bob");
    await waitForCount(rows(), 1);
    expect(await rows().first().getAttribute("class")).toContain("selected");
  });

  it("closes the open session when the app changes, by the app list, the form or the URL", async () => {
    const detail = page.locator("#session");
    const switched = async (to: string) => {
      await expect.poll(() => detail.innerText()).toContain("Open a session to see its state and events.");
      expect(await events().count()).toBe(0);
      expect(await page.locator(".live-status").count()).toBe(0);
      expect(page.url()).not.toContain("session=");
      await expect.poll(() => page.locator("#sessions h2").innerText()).toBe(`Sessions of ${to}`);
    };
    await page.locator(`#apps [data-app="${other}"]`).click();
    await switched(other);
    await screenshot(page, "ui-app-switched");

    await page.goto(`${v.server.url}/ui/#app=${app}&user=bob&session_user=bob&session=chat-1`);
    await waitForCount(events(), 3);
    await search({ app: other });
    await switched(other);

    await page.goto(`${v.server.url}/ui/#app=${app}&user=bob&session_user=bob&session=chat-1`);
    await waitForCount(events(), 3);
    await page.evaluate(`location.hash = ${JSON.stringify(`#app=${other}`)}`);
    await switched(other);
    // A link into another app's session opens that one.
    await page.evaluate(`location.hash = ${JSON.stringify(`#app=${other}&session_user=ana&session=case-1042`)}`);
    await waitForCount(events(), 7);
    expect(await page.locator(".session-header h2").innerText()).toBe("Session case-1042");
  });

  it("pages through a long history with ListEvents", async () => {
    await page.goto(`${v.server.url}/ui/#app=${app}&user=dave`);
    await page.getByRole("button", { name: "long-1" }).click();
    await waitForCount(events(), 50);
    const more = page.getByRole("button", { name: "Load more events" });
    await more.click();
    await waitForCount(events(), 100);
    await more.click();
    await waitForCount(events(), 120);
    expect(await more.isHidden()).toBe(true);
    const sequences = await events().evaluateAll((els) => els.map((e) => Number(e.getAttribute("data-sequence"))));
    expect(sequences).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    // Events without an invocation id form one group.
    expect(await page.locator("#session .turn").count()).toBe(1);
  });

  it("shows API errors in the page", async () => {
    await page.goto(`${v.server.url}/ui/#app=${app}&session_user=bob&session=nope`);
    await expect.poll(() => page.locator("#error").innerText(), { timeout: 15_000 }).toContain("not_found");
    expect(await page.locator("#session").innerText()).toContain("could not be loaded");
    v.pageErrors.splice(0); // the failed call is logged by the browser as a console error
  });

  it("fits a phone's width: panes stacked, rows as cards, nothing cut off", async () => {
    const phone = await v.newPage({ width: 390, height: 844 });
    await phone.goto(`${v.server.url}/ui/#app=${app}`);
    await waitForCount(phone.locator("#sessions tbody tr"), 20);
    const overflow = () => phone.evaluate<number>("document.documentElement.scrollWidth - window.innerWidth");
    expect(await overflow()).toBeLessThanOrEqual(0);
    const box = async (selector: string) => (await phone.locator(selector).boundingBox())!;
    const apps = await box(".apps-pane");
    const sessions = await box(".sessions-pane");
    const detail = await box("#session");
    expect(apps.y + apps.height).toBeLessThanOrEqual(sessions.y);
    expect(sessions.y + sessions.height).toBeLessThanOrEqual(detail.y);
    const updated = (await phone.locator("#sessions tbody tr").first().locator("td.updated").boundingBox())!;
    expect(updated.width).toBeGreaterThan(0);
    expect(updated.x + updated.width).toBeLessThanOrEqual(390);
    expect(await phone.locator("#sessions thead").isVisible()).toBe(false);
    await screenshot(phone, "ui-phone-list");
    await phone.goto(`${v.server.url}/ui/#app=${other}&session_user=ana&session=case-1042`);
    await waitForCount(phone.locator("#session .event"), 7);
    expect(await overflow()).toBeLessThanOrEqual(0);
    await phone.locator("#session").scrollIntoViewIfNeeded();
    await screenshot(phone, "ui-phone-session", true);
    await phone.close();
  });

  it("shows where a forked session came from", async () => {
    // In an app of its own, so the counts above stay as they are.
    const source = { appName: uniqueName("ui-fork"), userId: "bob", sessionId: "chat-2" };
    await v.api.createSession(source);
    await v.api.appendEvents(source, [{ author: "user", content: { parts: [{ text: "one" }] } }, { author: "user", content: { parts: [{ text: "two" }] } }]);
    await v.api.forkSession(source, { sequence: 1n, newSessionId: "chat-2-fork" });
    await search({ app: source.appName, user: "bob", prefix: "chat-2-fork" });
    await page.getByRole("button", { name: "chat-2-fork" }).click();
    await waitForCount(events(), 1);
    expect(await page.locator(".session-header .forked-from dd").innerText()).toBe("chat-2 (user bob) at 1");
    await search({ app: source.appName, user: "bob", prefix: "chat-2" });
    await page.getByRole("button", { name: "chat-2", exact: true }).click();
    await waitForCount(events(), 2);
    expect(await page.locator(".session-header .forked-from").count()).toBe(0);
  });

  it("logged no script errors", () => {
    expect(v.pageErrors).toEqual([]);
  });
});
