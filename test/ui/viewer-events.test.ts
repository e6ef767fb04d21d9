import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { screenshot, startViewer, type ViewerHarness, waitForCount } from "./harness.js";
import { seedSupportSession } from "./support-conversation.js";

let v: ViewerHarness;
let page: Page;
const ref = { appName: "support-desk", userId: "ana", sessionId: "case-1042" };
// Whole milliseconds in the past, so every timestamp has a non-zero millisecond part to show.
const start = Math.floor(Date.now() / 1000) * 1000 - 600_000 + 123;

const events = () => page.locator("#session .event");
const event = (sequence: number) => page.locator(`#session .event[data-sequence="${sequence}"]`);
const pane = () => page.locator("#session");

/** The local time of day with milliseconds, as the page shows it. */
function clock(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

beforeAll(async () => {
  v = await startViewer();
  await seedSupportSession(v.api, ref, start);
  // Tall, so the whole conversation is on the screenshot.
  page = await v.newPage({ width: 1400, height: 2400 });
  await page.goto(`${v.server.url}/ui/#app=${ref.appName}&session_user=${ref.userId}&session=${ref.sessionId}`);
  await event(7).waitFor({ timeout: 15_000 });
});

afterAll(async () => {
  await v?.close();
});

describe("event rendering in Chromium", () => {
  it("renders text with its role, inline data and file references", async () => {
    const first = event(1);
    expect(await first.locator(".part.text .role").innerText()).toBe("user");
    expect(await first.locator(".part.text .text").innerText()).toBe("My order #1042 arrived damaged. I want a refund.");
    expect(await first.locator(".part.inline .mime").innerText()).toBe("image/png · 70 bytes");
    expect(await first.locator(".part.inline img.thumb").evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)).toBe(1);
    expect(await first.locator(".part.file").innerText()).toContain("gs://support-uploads/1042/box.jpg");
    expect(await event(4).locator(".part.text .role").innerText()).toBe("model");
  });

  it("renders function calls with name and pretty arguments, responses with name and result", async () => {
    const call = event(2).locator(".part.call");
    expect(await call.locator(".fn").innerText()).toBe("lookup_order(…)");
    expect(await call.locator(".call-id").innerText()).toBe("call-1");
    expect(await call.locator("pre").innerText()).toBe(JSON.stringify({ order_id: "1042", include: ["items", "shipping"] }, null, 2));
    // A long result starts collapsed and opens on a click.
    const long = event(3).locator("details.part.response");
    expect(await long.locator(".fn").innerText()).toBe("lookup_order");
    expect(await long.getAttribute("open")).toBeNull();
    expect(await long.locator("pre").isVisible()).toBe(false);
    await long.locator("summary").click();
    expect(await long.locator("pre").isVisible()).toBe(true);
    expect(await long.locator("pre").innerText()).toContain('"sku": "SKU-107"');
    // A short one is shown as is.
    const short = event(6).locator("div.part.response");
    expect(await short.locator(".fn").innerText()).toBe("issue_refund");
    expect(await short.locator("pre").innerText()).toContain('"error": "payment provider timeout"');
  });

  it("shows thoughts and errors", async () => {
    const thought = event(5).locator("details.part.thought");
    expect(await thought.locator("summary").innerText()).toBe("thought");
    expect(await thought.locator(".text").textContent()).toBe("Gold tier and a damaged item: a full refund is allowed.");
    const error = event(6).locator(".event-error");
    expect(await error.innerText()).toBe("TOOL_ERROR: issue_refund failed: payment provider timeout after 5000 ms");
  });

  it("shows actions as chips: state changes with old and new values, transfer, escalate, artifacts", async () => {
    const chips = async (sequence: number) => event(sequence).locator(".chip").allInnerTexts();
    expect(await chips(4)).toEqual(['case_status = "triaged"', 'user:tier = "gold"', "transfer → billing"]);
    expect(await chips(7)).toEqual([
      'case_status "triaged" → "escalated"',
      "app:open_escalations = 1",
      "draft_reply = deleted",
      "escalate",
      "artifact refund-request.pdf v2",
    ]);
    expect(await event(7).locator(".chip.state.deleted .key").innerText()).toBe("draft_reply");
    expect(await event(1).locator(".chips").count()).toBe(0);
  });

  it("shows usage per event, summed per invocation and session", async () => {
    expect(await event(2).locator(".usage").innerText()).toBe("in 812 · out 24");
    expect(await event(3).locator(".usage").count()).toBe(0);
    const turns = page.locator("#session .turn");
    await waitForCount(turns, 2);
    expect(await turns.nth(0).locator(".turn-usage").innerText()).toBe("in 2,102 · out 65");
    expect(await turns.nth(1).locator(".turn-usage").innerText()).toBe("in 3,202 · out 104");
    expect(await page.locator(".session-usage dd").innerText()).toBe("in 5,304 · out 169");
  });

  it("groups events by invocation with agents, duration and event count; millisecond times and gaps", async () => {
    const turns = page.locator("#session .turn");
    expect(await turns.nth(0).getAttribute("data-invocation")).toBe("inv-triage");
    expect(await turns.nth(0).locator(".turn-title").innerText()).toBe("Invocation inv-triage");
    expect(await turns.nth(0).locator(".turn-agents").innerText()).toBe("triage");
    expect(await turns.nth(0).locator(".turn-count").innerText()).toBe("4 events");
    expect(await turns.nth(0).locator(".turn-duration").innerText()).toBe("1.21 s");
    expect(await turns.nth(0).locator(".event").count()).toBe(4);
    expect(await turns.nth(1).locator(".turn-agents").innerText()).toBe("billing");
    expect(await turns.nth(1).locator(".turn-duration").innerText()).toBe("5.50 s");
    expect(await event(2).locator(".ts").innerText()).toBe(clock(start + 412));
    expect(await event(2).locator(".gap").innerText()).toBe("+412 ms");
    expect(await event(6).locator(".gap").innerText()).toBe("+5.01 s");
    expect(await event(1).locator(".gap").count()).toBe(0);
  });

  it("shows the state by scope, now and after any event (replayed in the page)", async () => {
    const scope = (name: string) => page.locator(`[data-testid=state-panel] [data-scope=${name}]`);
    const keys = async (name: string) => scope(name).locator("dt").allInnerTexts();
    expect(await page.locator(".state-title").textContent()).toBe("Current state");
    expect(await keys("session")).toEqual(["case_status"]);
    expect(await scope("session").locator("dd").innerText()).toBe('"escalated"');
    expect(await keys("user")).toEqual(["user:tier"]);
    expect((await keys("app")).sort()).toEqual(["app:open_escalations", "app:support_hours"]);
    await screenshot(page, "ui-events");

    await event(4).getByRole("button", { name: "state after" }).click();
    expect(await page.locator(".state-title").textContent()).toBe("State after event #4");
    expect(await scope("session").locator("dd").innerText()).toBe('"triaged"');
    expect(await keys("app")).toEqual(["app:support_hours"]);
    expect(await page.locator("[data-testid=state-panel] .changed dt").allTextContents()).toEqual(["case_status", "user:tier"]);
    expect(await event(4).getAttribute("class")).toContain("inspected");
    await screenshot(page, "ui-state-after");
    await page.getByRole("button", { name: "back to current" }).click();
    expect(await page.locator(".state-title").textContent()).toBe("Current state");
  });
});

describe("live tail in Chromium", () => {
  const bottomGap = () => pane().evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight);
  const followUp = (text: string, invocationId = "inv-followup") => ({
    invocationId,
    author: "billing",
    content: { role: "model", parts: [{ text }] },
    metadata: { usageMetadata: { promptTokenCount: 100, candidatesTokenCount: 10 } },
  });

  beforeAll(async () => {
    // Short, so the session scrolls inside its pane.
    await page.setViewportSize({ width: 1400, height: 700 });
  });

  it("goes live with the history taller than the pane", async () => {
    await expect.poll(() => page.locator(".live-status").innerText(), { timeout: 15_000 }).toBe("live");
    await expect.poll(() => pane().evaluate((el) => el.scrollHeight > el.clientHeight + 200)).toBe(true);
  });

  it("scrolls new events into view and highlights them while the view is at the bottom", async () => {
    await pane().evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    await v.api.appendEvent(ref, followUp("A colleague has picked up your case."));
    await waitForCount(events(), 8);
    expect(await event(8).getAttribute("class")).toContain("fresh");
    await expect.poll(bottomGap).toBeLessThanOrEqual(48);
    expect(await page.locator(".new-events").isVisible()).toBe(false);
    expect(await event(8).isVisible()).toBe(true);
    expect(await page.locator("#session .turn").last().getAttribute("data-invocation")).toBe("inv-followup");
    await screenshot(page, "ui-live-autoscroll");
  });

  it("counts new events on a button while the reader is scrolled up, and jumps down on a click", async () => {
    await pane().evaluate((el) => {
      el.scrollTop = 0;
    });
    await v.api.appendEvent(ref, followUp("The refund is now issued."));
    await v.api.appendEvent(ref, followUp("You will see it within 3 days."));
    await waitForCount(events(), 10);
    const button = page.locator(".new-events");
    await expect.poll(() => button.innerText()).toBe("2 new ↓");
    expect(await button.isVisible()).toBe(true);
    expect(await pane().evaluate((el) => el.scrollTop)).toBe(0);
    expect(await event(10).getAttribute("class")).toContain("fresh");
    expect(await page.locator("#session .turn").last().locator(".turn-count").innerText()).toBe("3 events");
    await screenshot(page, "ui-live-new-button");
    await button.click();
    await expect.poll(bottomGap).toBeLessThanOrEqual(48);
    expect(await button.isVisible()).toBe(false);
  });

  it("updates the open session's list row, fields and state", async () => {
    const row = page.locator("#sessions tr[data-key]", { hasText: "case-1042" });
    await expect.poll(() => row.locator("td.num").innerText(), { timeout: 15_000 }).toBe("10");
    await expect.poll(() => page.locator(".session-header").innerText()).toContain("10");
    expect(await page.locator(".session-usage dd").innerText()).toBe("in 5,604 · out 199");
  });

  it("logged no script errors", () => {
    expect(v.pageErrors).toEqual([]);
  });
});
