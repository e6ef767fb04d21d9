import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseKeysEnv } from "../../src/auth/api-keys.js";
import { authInterceptor } from "../../src/auth/auth-interceptor.js";
import { screenshot, startViewer, type ViewerHarness, waitForCount } from "./harness.js";

const READER = "alpha-reader-0123456789abcdef";
const ADMIN = "admin-0123456789abcdef0123";

let v: ViewerHarness;
let page: Page;

beforeAll(async () => {
  const keys = parseKeysEnv(`${READER}:alpha:read;${ADMIN}:*:admin`);
  v = await startViewer({ interceptors: [authInterceptor(keys, [])], token: ADMIN });
  for (const appName of ["alpha", "beta"]) {
    await v.api.createSession({ appName, userId: "u1", sessionId: `${appName}-s1` });
    await v.api.appendEvent({ appName, userId: "u1", sessionId: `${appName}-s1` }, { author: "user", content: { role: "user", parts: [{ text: `hello ${appName}` }] } });
  }
  page = await v.newPage();
});

afterAll(async () => {
  await v?.close();
});

const errorBox = () => page.locator("#error");

describe("viewer with API keys on", () => {
  it("asks for a key when the server requires one", async () => {
    await page.goto(`${v.server.url}/ui/#app=alpha`);
    await expect.poll(() => errorBox().getAttribute("data-kind"), { timeout: 15_000 }).toBe("key-needed");
    expect(await errorBox().innerText()).toContain("This server requires an API key.");
    expect(await page.locator("#key-form").getAttribute("class")).toContain("attention");
    expect(await page.evaluate<string | null>("document.activeElement?.getAttribute(\"name\")")).toBe("key");
    expect(await page.locator("#apps").innerText()).toContain("Apps could not be listed.");
    await screenshot(page, "ui-key-prompt");
    v.pageErrors.splice(0); // refused calls are logged by the browser as console errors
  });

  it("sends the key as a bearer token, keeps it for the tab, and lists only the key's apps", async () => {
    await page.fill("input[name=key]", READER);
    await page.getByRole("button", { name: "Use key" }).click();
    await expect.poll(() => page.locator("#apps [data-app]").allInnerTexts(), { timeout: 15_000 }).toEqual(["alpha\n1"]);
    await waitForCount(page.locator("#sessions tbody tr"), 1);
    expect(await errorBox().isHidden()).toBe(true);
    expect(await page.inputValue("input[name=key]")).toBe("");
    expect(await page.locator("#key-state").innerText()).toBe("key set for this tab");
    expect(await page.evaluate<string | null>("sessionStorage.getItem(\"sessiond.apiKey\")")).toBe(READER);
    await page.getByRole("button", { name: "alpha-s1" }).click();
    await waitForCount(page.locator("#session .event"), 1);
    await page.reload();
    await waitForCount(page.locator("#session .event"), 1);
  });

  it("says so when the key may not access the app", async () => {
    await page.evaluate(`location.hash = "#app=beta&session_user=u1&session=beta-s1"`);
    await expect.poll(() => errorBox().getAttribute("data-kind"), { timeout: 15_000 }).toBe("forbidden");
    expect(await errorBox().innerText()).toContain('may not access app "beta"');
    expect(await page.locator("#session .event").count()).toBe(0);
    expect(await page.locator("#sessions").innerText()).toContain("could not be listed");
    await screenshot(page, "ui-key-forbidden");
    v.pageErrors.splice(0);
  });

  it("forgets the key on request", async () => {
    await page.getByRole("button", { name: "Forget" }).click();
    await expect.poll(() => errorBox().getAttribute("data-kind"), { timeout: 15_000 }).toBe("key-needed");
    expect(await page.evaluate<string | null>("sessionStorage.getItem(\"sessiond.apiKey\")")).toBeNull();
    v.pageErrors.splice(0);
  });

  it("logged no script errors", () => {
    expect(v.pageErrors).toEqual([]);
  });
});
