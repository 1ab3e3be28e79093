// The web console in a real browser (Debian's chromium driven by
// playwright-core, headless) against the whole service in-process: sign-in,
// the create wizard, the live progress, credentials used against the endpoint,
// resize, delete, team isolation, form errors, and axe-core on every page.
// Screenshots go to .cache/console-screenshots/ (git-ignored).
import crypto from "node:crypto";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TeamService } from "../api/teams.service.js";
import { client, waitForOperation, waitForStatus, type Client } from "./service-client.js";
import { startTestServer, type TestServer } from "./test-server.js";

// The browser's globals, for the functions run in the page (the project's TypeScript has no DOM library).
declare const window: any, document: any, localStorage: any, sessionStorage: any, MutationObserver: any;

const screenshots = path.join(import.meta.dirname, "..", ".cache", "console-screenshots");
const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const stages = ["initialising", "allocating", "configuring", "provisioning", "verifying", "complete"];

/** axe-core on the page as it is: no serious or critical violation. */
async function expectAccessible(page: Page, what: string): Promise<void> {
  await page.addScriptTag({ content: axeSource });
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (o: unknown) => Promise<{ violations: any[] }> } }).axe;
    const result = await axe.run({ resultTypes: ["violations"] });
    return result.violations
      .filter((v: any) => v.impact === "serious" || v.impact === "critical")
      .map((v: any) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n: any) => n.target.join(" ")).join(", ")}`);
  });
  expect(violations, `accessibility of ${what}`).toEqual([]);
}

/** A link of the main navigation (pages have other links of the same name). */
async function nav(page: Page, name: string): Promise<void> {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name }).click();
}

async function shoot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(screenshots, `${name}.png`), fullPage: true });
}

// A shared machine can be slow: each step may take a minute, each test a few.
describe("the web console in a browser", { timeout: 180_000 }, () => {
  let server: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let ownerKey: string;
  let owner: Client;
  let otherKey: string;
  const teamIds: string[] = [];
  const name = `web${crypto.randomBytes(2).toString("hex")}`;
  let resourceId = "";
  const newContext = () =>
    browser.newContext({ bypassCSP: true /* axe-core is injected as an inline script */, viewport: { width: 1280, height: 900 } });

  beforeAll(async () => {
    expect(process.env.PROVISIONER_CONSOLE_DIR, "run through `npm test`, which builds the console").toBeTruthy();
    fs.mkdirSync(screenshots, { recursive: true });
    server = await startTestServer({}, { runWorker: false });
    const teams = new TeamService(server.service.db);
    const a = await teams.create(`c${crypto.randomBytes(3).toString("hex")}`, "PRO");
    const b = await teams.create(`d${crypto.randomBytes(3).toString("hex")}`);
    teamIds.push(a.team.id, b.team.id);
    ownerKey = a.apiKey;
    otherKey = b.apiKey;
    owner = client(server.base, ownerKey);
    server.service.worker!.start();
    browser = await chromium.launch({
      executablePath: "/usr/bin/chromium",
      headless: true,
      args: ["--no-sandbox", "--disable-background-networking", "--disable-component-update"],
    });
    context = await newContext();
    page = await context.newPage();
    page.setDefaultTimeout(60_000);
  });

  afterAll(async () => {
    await browser?.close();
    if (resourceId && owner) {
      const { body } = await owner.get(`/v1/resources/${resourceId}`);
      if (body?.status && body.status !== "DELETED") {
        await owner.delete(`/v1/resources/${resourceId}`);
        await waitForStatus(owner, resourceId, ["DELETED"]);
      }
    }
    await server?.close();
  });

  it("refuses a wrong key and signs in with a right one (an HttpOnly, SameSite=Strict session)", async () => {
    await page.goto(server.base);
    await page.getByRole("heading", { name: "Sign in to Provisioner" }).waitFor();
    await expectAccessible(page, "the sign-in page");
    await shoot(page, "sign-in");
    await page.getByLabel("API key").fill(`prov_000000000000_${"x".repeat(43)}`);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.locator("#api-key-error").textContent()).resolves.toContain("not valid");
    expect(await context.cookies()).toEqual([]);

    await page.getByLabel("API key").fill(ownerKey);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Resources" }).waitFor();
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: "provisioner_session", httpOnly: true, sameSite: "Strict" });
    expect(cookie!.value).not.toContain(ownerKey);
    // The key is not kept by the page: neither in storage nor in the document.
    const kept = await page.evaluate(
      () => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.documentElement.outerHTML,
    );
    expect(kept).not.toContain(ownerKey);
  });

  it("refuses a state-changing request of the session without its CSRF token", async () => {
    const status = await page.evaluate(async () => (await fetch("/v1/team/api-keys", { method: "POST" })).status);
    expect(status).toBe(403);
  });

  it("refuses a bad name before sending, and shows the server's 400 next to the field it names", async () => {
    const creates: string[] = [];
    page.on("request", (request) => {
      if (request.method() === "POST" && request.url().endsWith("/v1/resources")) creates.push(request.url());
    });
    await nav(page, "New resource");
    await page.getByRole("button", { name: /^small-storage/ }).click();
    await page.getByLabel("Name", { exact: true }).fill("Bad_Name");
    await page.getByRole("button", { name: "Review" }).click();
    await expect(page.locator("#resource-name-error").textContent()).resolves.toContain("Lowercase letters");
    expect(creates).toEqual([]);

    await page.getByRole("button", { name: "Back" }).click();
    await page.getByRole("button", { name: /^ipfs-cluster-small/ }).click();
    await page.getByLabel("Name", { exact: true }).fill(`${name}x`);
    await page.getByLabel("peers").fill("42");
    await page.getByRole("button", { name: "Review" }).click();
    await page.getByRole("button", { name: "Create" }).click();
    await page.locator("#option-peers-error").waitFor();
    await expect(page.locator("#option-peers-error").textContent()).resolves.toMatch(/9|less|too big/i);
    expect(creates).toHaveLength(1);
    await expectAccessible(page, "the wizard with a field error");
    await shoot(page, "wizard-field-error");
    expect((await owner.get("/v1/resources")).body.resources).toEqual([]);
  });

  it("creates small-storage through the wizard and shows the six stages as they arrive", { timeout: 240_000 }, async () => {
    await nav(page, "New resource");
    await page.getByRole("button", { name: /^small-storage/ }).waitFor();
    await expectAccessible(page, "the template cards");
    await shoot(page, "wizard-templates");
    await page.getByRole("button", { name: /^small-storage/ }).click();
    await expect(
      page
        .getByText(/CPU · .* memory · 5 GB storage/)
        .first()
        .isVisible(),
    ).resolves.toBe(true);
    await page.getByLabel("Name", { exact: true }).fill(name);
    const publicNetwork = page.getByLabel("publicNetwork");
    if (await publicNetwork.isChecked()) await publicNetwork.uncheck();
    await expectAccessible(page, "the wizard's form");
    await shoot(page, "wizard-configure");
    await page.getByRole("button", { name: "Review" }).click();
    await expect(page.locator(".meter-label", { hasText: "Resources" }).textContent()).resolves.toContain("0 + 1 = 1 of 50");
    await expectAccessible(page, "the review");
    await shoot(page, "wizard-review");

    await page.getByRole("button", { name: "Create" }).click();
    await page.waitForURL(/\/resources\/[0-9a-f-]{36}\/progress$/);
    resourceId = /resources\/([0-9a-f-]{36})/.exec(page.url())![1]!;
    // Every state the stage list goes through, recorded in the page as it changes.
    await page.evaluate(() => {
      const seen: string[] = [];
      window.stageHistory = seen;
      const record = () => {
        const list = document.querySelector(".stages");
        if (!list) return;
        const state = [...list.querySelectorAll("li")]
          .map((li) => `${li.getAttribute("data-stage")}=${li.getAttribute("data-state")}|${li.textContent}`)
          .join(";");
        if (seen.at(-1) !== state) seen.push(state);
      };
      record();
      new MutationObserver(record).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
    });
    await page
      .locator('[data-stage="provisioning"][data-state="current"], [data-stage="provisioning"][data-state="done"]')
      .first()
      .waitFor({ timeout: 180_000 });
    await shoot(page, "progress");
    await page.locator('[data-stage="complete"][data-state="done"]').waitFor({ timeout: 180_000 });
    await expectAccessible(page, "the progress view");
    const history: string[] = await page.evaluate(() => window.stageHistory);
    const doneAt = (snapshot: string) => stages.filter((s) => snapshot.includes(`${s}=done`));
    // Live: the list was seen with fewer stages done than at the end, and stages were only ever added, in order.
    expect(doneAt(history[0]!).length).toBeLessThan(stages.length);
    expect(doneAt(history.at(-1)!)).toEqual(stages);
    for (let i = 1; i < history.length; i++) expect(doneAt(history[i]!).length).toBeGreaterThanOrEqual(doneAt(history[i - 1]!).length);
    expect(history.some((s) => / of \d+ resources/.test(s))).toBe(true);
    expect((await owner.get(`/v1/resources/${resourceId}`)).body.status).toBe("ACTIVE");
  });

  it("lists the resource with its status, and updates it live", async () => {
    await nav(page, "Resources");
    const row = page.locator(`tr[data-resource="${name}"]`);
    await row.waitFor();
    await expect(row.textContent()).resolves.toContain("ACTIVE");
    await page.getByText("Live updates on").waitFor();
    await expectAccessible(page, "the resource list");
    await shoot(page, "resources");
    // A refresh queued over the API (not by this page) shows up through the team's stream.
    const before = await row.textContent();
    await page.evaluate((n) => {
      const seen: string[] = [];
      window.rowHistory = seen;
      new MutationObserver(() => seen.push(document.querySelector(`tr[data-resource="${n}"]`)?.textContent ?? "")).observe(document.body, {
        subtree: true,
        childList: true,
        characterData: true,
      });
    }, name);
    const refresh = await owner.post(`/v1/resources/${resourceId}/refresh`);
    expect(refresh.status).toBe(202);
    await page.waitForFunction(
      (b) => (window.rowHistory as string[]).some((t) => t !== b && /initialising|allocating|configuring|provisioning|verifying/.test(t)),
      before,
    );
    await waitForStatus(owner, resourceId, ["ACTIVE"]);
  });

  it("reveals the credentials on click (audited), and they work against the endpoint", async () => {
    await page.goto(`${server.base}/resources/${resourceId}`);
    // The committed screenshot shows the connect panel before the credentials are revealed (placeholders).
    await page.getByRole("button", { name: "Reveal credentials" }).waitFor();
    await shoot(page, "resource-detail");
    await page.getByRole("button", { name: "Reveal credentials" }).click();
    const username = await page.locator('[data-credential="username"]').textContent();
    const password = await page.locator('[data-credential="password"]').textContent();
    const api = await page.locator('[data-endpoint="api"]').textContent();
    const reply = await fetch(`${api}/api/v0/id`, {
      method: "POST",
      headers: { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}` },
    });
    expect(reply.status).toBe(200);
    expect(((await reply.json()) as { ID: string }).ID).toMatch(/^12D3|^Qm/);
    await expect(page.locator("pre", { hasText: "--api-auth" }).textContent()).resolves.toContain(password!);
    await expectAccessible(page, "the resource detail");
    await shoot(page, "resource-detail-revealed");
    const audit = (await owner.get("/v1/team/audit?action=credentials.read")).body.entries;
    expect(audit[0]).toMatchObject({ action: "credentials.read", resourceId, resourceName: name });
  });

  it("resizes the resource", { timeout: 240_000 }, async () => {
    await page.getByLabel("Size", { exact: true }).selectOption("medium");
    await page.getByRole("button", { name: "Apply" }).click();
    await page.waitForURL(/\/progress$/);
    const update = (await owner.get(`/v1/resources/${resourceId}/operations`)).body.operations.findLast((o: any) => o.kind === "UPDATE");
    expect((await waitForOperation(owner, resourceId, update.id)).status).toBe("SUCCEEDED");
    expect((await owner.get(`/v1/resources/${resourceId}`)).body).toMatchObject({ status: "ACTIVE", size: "medium" });
  });

  it("shows the team's quota, keys and credential reads; a revoked key's session ends at once", async () => {
    await nav(page, "Team");
    await page.getByRole("heading", { name: "Credential reads" }).waitFor();
    await page.locator("td", { hasText: name }).first().waitFor();
    // The committed screenshot shows no key: it is taken before one is made.
    await shoot(page, "team");
    await page.getByRole("button", { name: "Create an API key" }).click();
    const newKey = (await page.locator("[data-new-key]").textContent())!.trim();
    expect(newKey).toMatch(/^prov_[0-9a-f]{12}_/);
    await expectAccessible(page, "the team page");
    await shoot(page, "team-new-key");

    // A second browser signed in with the new key...
    const second = await newContext();
    const secondPage = await second.newPage();
    secondPage.setDefaultTimeout(60_000);
    await secondPage.goto(server.base);
    await secondPage.getByLabel("API key").fill(newKey);
    await secondPage.getByRole("button", { name: "Sign in" }).click();
    await secondPage.getByRole("heading", { name: "Resources" }).waitFor();
    // ...is signed out as soon as the first revokes the key (no cache delay).
    page.once("dialog", (dialog) => void dialog.accept());
    await page.getByRole("button", { name: `Revoke prov_${newKey.slice(5, 17)}` }).click();
    await page.locator(`tr[data-key-prefix="${newKey.slice(5, 17)}"]`, { hasText: "revoked" }).waitFor();
    await nav(secondPage, "Team");
    await secondPage.getByRole("heading", { name: "Sign in to Provisioner" }).waitFor();
    await second.close();
  });

  it("shows another team none of this team's resources", async () => {
    const other = await newContext();
    const otherPage = await other.newPage();
    otherPage.setDefaultTimeout(60_000);
    await otherPage.setViewportSize({ width: 390, height: 844 });
    await otherPage.goto(server.base);
    await otherPage.getByLabel("API key").fill(otherKey);
    await otherPage.getByRole("button", { name: "Sign in" }).click();
    await otherPage.getByText("No resources yet.").waitFor();
    await expect(otherPage.content()).resolves.not.toContain(name);
    await otherPage.goto(`${server.base}/resources/${resourceId}`);
    await otherPage.getByText("no such resource").waitFor();
    await expectAccessible(otherPage, "another team's view, on a phone-sized screen");
    await shoot(otherPage, "phone-other-team");
    await other.close();
  });

  it("deletes the resource once its name is typed", { timeout: 180_000 }, async () => {
    await page.goto(`${server.base}/resources/${resourceId}`);
    const button = page.getByRole("button", { name: `Delete ${name}` });
    expect(await button.isDisabled()).toBe(true);
    await page.getByLabel("Name of the resource").fill(name);
    await button.click();
    await page.waitForURL(/\/progress$/);
    await waitForStatus(owner, resourceId, ["DELETED"]);
    await page.getByText("DELETED").first().waitFor();
  });

  it("signs out: the cookie no longer works", async () => {
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in to Provisioner" }).waitFor();
    const status = await page.evaluate(async () => (await fetch("/v1/team")).status);
    expect(status).toBe(401);
  });
});
