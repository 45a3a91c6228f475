import { cpSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { eventually, getJson, makeApp, startNode, type TestNode } from "../helpers/app.js";
import { chromiumAvailable, launchChromium, screenshots } from "./browser.js";
import { opsApp } from "./ops-app.js";

const token = "console-e2e-token";
const checkoutSource = join(import.meta.dirname, "..", "..", "examples", "checkout");

/**
 * The console in headless Chromium, against a node serving two apps: examples/checkout and a small
 * app of this suite's own (a workflow that fails until approved, a queue whose consumer fails, a
 * table, blobs). Screenshots of every page land in test-artifacts/console/.
 */
describe.skipIf(!chromiumAvailable)("the web console in a browser", { timeout: 60_000 }, () => {
  let root: string;
  let test: TestNode;
  let browser: BrowserContext;
  let page: Page;
  const requested: string[] = [];

  const consoleUrl = (hash = "") => `${test.url}/_cairn/console${hash}`;
  const shot = (name: string) => page.screenshot({ path: join(screenshots, `${name}.png`), fullPage: true });
  const app = (path: string, init?: RequestInit) => fetch(`${test.url}${path}`, init);

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), "cairn-console-"));
    cpSync(join(checkoutSource, "cairn.config.ts"), join(root, "checkout", "cairn.config.ts"));
    cpSync(join(checkoutSource, "functions"), join(root, "checkout", "functions"), { recursive: true });
    makeApp(opsApp, join(root, "ops"));
    // The checkout's config reads its settings from the environment it is loaded in (this process):
    // no random declines, and a confirmation late enough to see the run wait for it.
    Object.assign(process.env, {
      PAYMENTS_URL: "",
      PAYMENT_LATENCY_MS: "5",
      PAYMENT_FAILURE_RATE: "0",
      PAYMENT_CONFIRM_DELAY: "4s",
      CONFIRMATION_TIMEOUT: "60s",
    });
    test = await startNode({
      dir: root,
      dataDir: join(root, ".data"),
      env: { ...process.env, CAIRN_ADMIN_TOKEN: token, CAIRN_DATABASE_URL: "" },
    });
    expect((await app("/seed", { method: "POST" })).status).toBe(204);
    browser = await launchChromium();
    page = await browser.newPage();
    page.on("request", (request) => requested.push(request.url()));
  }, 90_000);
  // A failed test leaves a picture of the page as it was.
  afterEach(async (context) => {
    if (context.task.result?.state === "fail" && page !== undefined)
      await shot(`failed-${context.task.name.slice(0, 40).replace(/[^a-z0-9]+/gi, "-")}`).catch(
        () => undefined,
      );
  });
  afterAll(async () => {
    await browser?.close();
    await test?.stop();
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
  });

  it("asks for the admin token on a login page, then keeps a session cookie (never the token in a URL)", async () => {
    await page.goto(consoleUrl());
    await page.waitForSelector("[data-testid=token]");
    await shot("01-login");
    await page.fill("[data-testid=token]", "wrong token");
    await page.click("[data-testid=login]");
    await expect.poll(() => page.textContent("[data-testid=login-error]")).toContain("not the admin token");
    await page.fill("[data-testid=token]", token);
    await page.click("[data-testid=login]");
    await page.waitForSelector("[data-testid=functions]");
    const cookies = await browser.cookies(consoleUrl());
    const session = cookies.find((cookie) => cookie.name === "cairn_console")!;
    expect(session).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/_cairn" });
    expect(session.value).not.toContain(token);
    expect(requested.some((url) => url.includes(token))).toBe(false);
  });

  it("shows functions with their routes, triggers, instances and numbers, live", async () => {
    for (let i = 0; i < 3; i++) await app("/hello");
    await page.goto(consoleUrl("#/functions"));
    const hello = page.locator('[data-function="ops/hello"]');
    await expect.poll(() => hello.textContent(), { timeout: 10_000 }).toContain("GET /hello");
    // Without a reload, the count follows new invocations.
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 1));
    for (let i = 0; i < 4; i++) await app("/hello");
    await expect.poll(() => hello.locator("td").nth(3).textContent(), { timeout: 10_000 }).toMatch(/1 warm/);
    await expect
      .poll(async () => (await page.locator('[data-function="checkout/placeOrder"]').textContent()) ?? "")
      .toContain("POST /orders");
    expect(await page.locator('[data-function="checkout/paymentWebhooks"]').textContent()).toContain(
      "queue confirmations",
    );
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(1);
    await shot("02-functions");
  });

  it("lists recent invocations with their structured logs, filtered by request id", async () => {
    await app("/hello?who=e2e", { headers: { "x-request-id": "req-console-e2e" } });
    await page.goto(consoleUrl("#/functions/ops/hello"));
    await page.fill("[data-testid=request-filter]", "req-console-e2e");
    const row = page.locator('[data-request="req-console-e2e"]');
    await row.waitFor();
    // The unfiltered list may show first (the row among others); the filtered one follows.
    await expect.poll(() => page.locator("[data-request]").count()).toBe(1);
    await row.click();
    await expect.poll(() => page.textContent("[data-testid=log-lines]")).toContain("saying hello");
    expect(await page.textContent("[data-testid=log-lines]")).toContain('"who":"e2e"');
    await shot("03-invocations");
  });

  it("starts a checkout and watches its timeline reach completed", async () => {
    const response = await app("/orders", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ items: [{ sku: "mug", qty: 1 }], paymentToken: "tok_visa" }),
    });
    expect(response.status).toBe(202);
    const { orderId } = (await response.json()) as { orderId: string };
    await page.goto(consoleUrl("#/workflows?name=checkout"));
    await page.locator(`[data-run="${orderId}"] a`).click();
    await page.waitForSelector("[data-testid=timeline]");
    await page.evaluate(() => ((window as unknown as { marker: number }).marker = 2));
    // It waits for the payment confirmation (4 s), so it is seen running first.
    await page.waitForSelector("[data-testid=run-status] [data-status=running]");
    await expect
      .poll(() => page.textContent("[data-testid=pending]"), { timeout: 10_000 })
      .toContain("Waiting for signal: payment-confirmed");
    await shot("04-checkout-running");
    await page.waitForSelector("[data-testid=run-status] [data-status=completed]", { timeout: 30_000 });
    expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(2);
    const steps = await page
      .locator("[data-testid=timeline] .tl-row")
      .evaluateAll((rows) =>
        rows.map((row) => `${(row as HTMLElement).dataset.step}:${(row as HTMLElement).dataset.status}`),
      );
    for (const step of ["open", "reserve", "payment-intent", "charge", "payment-confirmed", "ship"])
      expect(steps).toContain(`${step}:completed`);
    expect(await page.textContent("[data-testid=run-state]")).toContain('"step"');
    await shot("05-checkout-completed");
  });

  it("signals one running checkout and cancels another from their pages", async () => {
    // "tok_unconfirmed" is charged but never confirmed by the payment provider: the run waits.
    const order = async () => {
      const response = await app("/orders", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ items: [{ sku: "mug", qty: 1 }], paymentToken: "tok_unconfirmed" }),
      });
      const { orderId } = (await response.json()) as { orderId: string };
      await page.goto(consoleUrl(`#/workflows/${orderId}`));
      await expect
        .poll(() => page.textContent("[data-testid=pending]"), { timeout: 15_000 })
        .toContain("Waiting for signal: payment-confirmed");
      return orderId;
    };
    await order();
    await page.fill("[data-testid=signal-name]", "payment-confirmed");
    await page.fill("[data-testid=signal-payload]", '{"chargeId":"from-the-console"}');
    await page.click("[data-testid=signal]");
    await page.waitForSelector("[data-testid=run-status] [data-status=completed]", { timeout: 20_000 });
    expect(await page.textContent("[data-testid=run-state]")).toContain("from-the-console");

    await order();
    page.once("dialog", (dialog) => void dialog.accept());
    await page.click("[data-testid=cancel]");
    await page.waitForSelector("[data-testid=run-status] [data-status=cancelled]", { timeout: 20_000 });
    const steps = await page
      .locator("[data-testid=steps] tr[data-step]")
      .evaluateAll((rows) => rows.map((row) => (row as HTMLElement).dataset.step));
    expect(steps).toContain("compensate:payment-intent");
    await shot("06-cancelled-run");
  });

  it("finds a failed run and retries it", async () => {
    const started = await getJson(`${test.url}/start/approval`, { method: "POST", body: "{}" });
    const id = started.body.id as string;
    await page.goto(consoleUrl("#/workflows"));
    await page.selectOption("[data-testid=filter-status]", "failed");
    const row = page.locator(`[data-run="${id}"]`);
    await row.waitFor({ timeout: 15_000 });
    await shot("07-failed-runs");
    await row.locator("a").click();
    await page.waitForSelector("[data-testid=run-status] [data-status=failed]");
    expect(await page.textContent("[data-testid=run-error]")).toContain("not approved yet");
    expect(await page.locator("[data-testid=cancel]").isDisabled()).toBe(true);
    await app("/switch/approval", { method: "POST" });
    await page.click("[data-testid=retry]");
    await page.waitForSelector("[data-testid=run-status] [data-status=completed]", { timeout: 15_000 });
    await shot("08-retried-run");
  });

  it("inspects a dead letter and redrives it", async () => {
    await app("/jobs/job-7", { method: "POST" });
    await page.goto(consoleUrl("#/queues"));
    const consumer = page.locator('[data-consumer="q:jobs"]');
    await expect
      .poll(() => consumer.locator("[data-testid=dead-count]").textContent(), { timeout: 15_000 })
      .toBe("1");
    await consumer.locator("[data-testid=show-dead]").click();
    await page.locator("[data-testid=dead-letters] [data-testid=inspect]").first().click();
    await expect.poll(() => page.textContent("[data-testid=dead-letter]")).toContain("job-7");
    expect(await page.textContent("[data-testid=dead-letter]")).toContain("the worker is switched off");
    await shot("09-dead-letter");
    await app("/switch/jobs", { method: "POST" });
    await page.locator("[data-testid=dead-letters] [data-testid=redrive]").first().click();
    await expect
      .poll(() => consumer.locator("[data-testid=dead-count]").textContent(), { timeout: 15_000 })
      .toBe("0");
    await eventually(async () => {
      const { body } = await getJson(`${test.url}/_cairn/invocations?function=worker`, {
        headers: { authorization: `Bearer ${token}` },
      });
      return body.items.some((item: { code: string | null }) => item.code === null) ? true : undefined;
    }, 10_000);
    await shot("10-redriven");
  });

  it("browses a table by partition with the cursor and shows an item with its version", async () => {
    await page.goto(consoleUrl("#/tables"));
    await page.locator("[data-testid=items]").waitFor();
    await page.selectOption("[data-testid=filter-app]", "ops");
    await page.selectOption("[data-testid=table]", "notes");
    await page.fill("[data-testid=partition]", "ann");
    await page.click("[data-testid=browse]");
    await expect.poll(() => page.locator("[data-testid=items] [data-item]").count()).toBe(10);
    await page.click("[data-testid=next-page]");
    await expect.poll(() => page.locator("[data-testid=items] [data-item]").count()).toBe(2);
    await page.click('[data-item="ann/note-12"]');
    await expect.poll(() => page.textContent("[data-testid=item]")).toContain("note 12");
    expect(Number(await page.textContent("[data-testid=item-version]"))).toBeGreaterThan(0);
    await shot("11-table");
  });

  it("browses blobs by prefix and downloads one through a presigned URL", async () => {
    await page.goto(consoleUrl("#/blobs"));
    await page.locator("[data-testid=blobs]").waitFor();
    await page.selectOption("[data-testid=filter-app]", "ops");
    await page.click('[data-prefix="reports/"]');
    await page.click('[data-prefix="reports/2024/"]');
    await page.click('[data-key="reports/2024/q1.txt"]');
    await expect.poll(() => page.textContent("[data-testid=blob-metadata]")).toContain("author: ann");
    const href = await page.getAttribute("[data-testid=download]", "href");
    expect(href).toMatch(
      /\/_cairn\/blobs\/ops\/reports\/2024\/q1\.txt\?method=GET&expires=\d+&signature=[0-9a-f]+/,
    );
    const download = await page.request.get(href!);
    expect(await download.text()).toBe("first quarter");
    await shot("12-blobs");
  });

  it("shows the cache's hit rate and size", async () => {
    await page.goto(consoleUrl("#/cache"));
    const ops = page.locator('[data-app="ops"]');
    await expect.poll(() => ops.locator("[data-testid=hit-rate]").textContent()).toMatch(/\d+\.\d %/);
    await shot("13-cache");
  });

  it("made no request to anything but this node", () => {
    const outside = requested.filter((url) => !url.startsWith(test.url) && !url.startsWith("data:"));
    expect(outside).toEqual([]);
    expect(existsSync(join(screenshots, "05-checkout-completed.png"))).toBe(true);
  });
});
