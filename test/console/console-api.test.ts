import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConsoleSessions, sessionTtlMs } from "../../src/console/session.js";
import { eventually, getJson, makeApp, removeApp, startNode, type TestNode } from "../helpers/app.js";
import { opsApp } from "./ops-app.js";

const token = "console-api-token";

describe("the console's login and platform endpoints", () => {
  let dir: string;
  let test: TestNode;
  let cookie: string;

  const login = (body: unknown) =>
    fetch(`${test.url}/_cairn/console/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  const withCookie = (path: string, init: RequestInit = {}) =>
    getJson(`${test.url}/_cairn${path}`, {
      ...init,
      headers: { cookie, ...(init.headers as Record<string, string>) },
    });

  beforeAll(async () => {
    dir = makeApp(opsApp);
    test = await startNode({ dir, env: { ...process.env, CAIRN_ADMIN_TOKEN: token } });
    expect((await fetch(`${test.url}/seed`, { method: "POST" })).status).toBe(204);
  });
  afterAll(async () => {
    await test?.stop();
    removeApp(dir);
  });

  it("serves the page and its assets with a strict CSP, without a login", async () => {
    const page = await fetch(`${test.url}/_cairn/console`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(page.headers.get("content-security-policy")).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).not.toMatch(/https?:\/\//); // nothing from outside
    const script = await fetch(`${test.url}/_cairn/console/app.js`);
    expect(script.status).toBe(200);
    expect((await script.text()).length).toBeGreaterThan(1000);
    expect((await fetch(`${test.url}/_cairn/console/nope.js`)).status).toBe(404);
  });

  it("refuses a wrong token, then answers the right one with an HttpOnly SameSite=Strict cookie", async () => {
    expect((await getJson(`${test.url}/_cairn/console/session`)).body).toMatchObject({
      authenticated: false,
      login: "token",
    });
    const wrong = await login({ token: "nope" });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("set-cookie")).toBeNull();
    const right = await login({ token });
    expect(right.status).toBe(204);
    const setCookie = right.headers.get("set-cookie")!;
    expect(setCookie).toMatch(
      /^cairn_console=[^;]+; Path=\/_cairn; Max-Age=43200; HttpOnly; SameSite=Strict$/,
    );
    expect(setCookie).not.toContain(token);
    cookie = setCookie.split(";")[0]!;
    expect((await withCookie("/console/session")).body).toMatchObject({ authenticated: true });
  });

  it("lets the cookie read the platform API, and asks a change for the console's header too", async () => {
    expect((await withCookie("/functions")).status).toBe(200);
    expect((await getJson(`${test.url}/_cairn/functions`)).status).toBe(401);
    // A cross-site form could post with the cookie (if a browser sent it) but never with this header.
    const bare = await withCookie("/workflows/greet", { method: "POST", body: "{}" });
    expect(bare.status).toBe(401);
    const started = await withCookie("/workflows/greet", {
      method: "POST",
      body: "{}",
      headers: { "x-cairn-console": "1", "content-type": "application/json" },
    });
    expect(started.status).toBe(202);
    // A forged or expired cookie is nothing.
    const forged = cookie.slice(0, -2) + (cookie.endsWith("AA") ? "BB" : "AA");
    expect((await getJson(`${test.url}/_cairn/functions`, { headers: { cookie: forged } })).status).toBe(401);
    const past = new ConsoleSessions(token, () => Date.now() - sessionTtlMs - 1000).issue();
    expect(
      (await getJson(`${test.url}/_cairn/functions`, { headers: { cookie: `cairn_console=${past}` } }))
        .status,
    ).toBe(401);
    const otherToken = new ConsoleSessions("another token").issue();
    expect(
      (await getJson(`${test.url}/_cairn/functions`, { headers: { cookie: `cairn_console=${otherToken}` } }))
        .status,
    ).toBe(401);
  });

  it("answers what the console shows: functions, invocations with logs, tables, blobs, cache, pending work", async () => {
    await fetch(`${test.url}/hello?who=api`, { headers: { "x-request-id": "req-api-1" } });
    const functions = await withCookie("/functions");
    const hello = functions.body.apps[0].functions.find((fn: any) => fn.name === "hello");
    expect(hello).toMatchObject({ kind: "http", route: "GET /hello" });
    expect(hello.stats.total).toBe(1);
    expect(hello.instances.warm).toBe(1);
    const worker = functions.body.apps[0].functions.find((fn: any) => fn.name === "worker");
    expect(worker.trigger).toBe("queue jobs");

    const invocations = await withCookie("/invocations?request=req-api-1");
    expect(invocations.body.items).toHaveLength(1);
    expect(invocations.body.items[0]).toMatchObject({ function: "hello", status: 200, code: null });
    expect(invocations.body.items[0].logs[0]).toMatchObject({
      level: "info",
      msg: "saying hello",
      fields: { who: "api" },
    });

    const tables = await withCookie("/tables");
    expect(tables.body.tables.map((table: any) => table.name).sort()).toEqual(["notes", "switches"]);
    const page = await withCookie("/tables/notes/items?partition=ann&limit=5");
    expect(page.body.items).toHaveLength(5);
    const next = await withCookie(`/tables/notes/items?partition=ann&limit=5&cursor=${page.body.cursor}`);
    expect(next.body.items[0].id).toBe("note-06");
    const item = await withCookie("/tables/notes/item?pk=ann&sk=note-03");
    expect(item.body).toMatchObject({ item: { text: "note 3" } });
    expect(item.body.version).toBeGreaterThan(0);
    expect((await withCookie("/tables/_blobs/items")).status).toBe(404);

    const listing = await withCookie("/blobs?prefix=reports/");
    expect(listing.body.prefixes).toEqual(["reports/2024/", "reports/2025/"]);
    const blob = await withCookie("/blobs?key=reports/2024/q1.txt");
    expect(blob.body).toMatchObject({ size: 13, metadata: { author: "ann" } });
    expect(await (await fetch(blob.body.url)).text()).toBe("first quarter");

    const cache = await withCookie("/cache");
    const stats = cache.body.apps[0];
    expect(stats).toMatchObject({ driver: "memory", entries: 1 });
    expect(stats.misses).toBeGreaterThanOrEqual(1);
    expect(stats.hitRate).toBeCloseTo(stats.hits / (stats.hits + stats.misses));
    expect(stats.bytes).toBeGreaterThan(0);

    const run = await getJson(`${test.url}/start/approval`, { method: "POST", body: "{}" });
    await eventually(
      async () =>
        (await withCookie(`/workflows/${run.body.id}`)).body.status === "failed" ? true : undefined,
      10_000,
    );
    const pending = await withCookie(`/workflows/${run.body.id}/pending`);
    expect(pending.body).toMatchObject({ timers: [], signals: [], waitingForSignals: [] });
  });

  it("logs out", async () => {
    const out = await fetch(`${test.url}/_cairn/console/logout`, { method: "POST", headers: { cookie } });
    expect(out.status).toBe(204);
    expect(out.headers.get("set-cookie")).toContain("Max-Age=0");
  });
});

describe("the console under cairn dev without a token", () => {
  it("needs no login", async () => {
    const dir = makeApp(opsApp);
    const env = { ...process.env };
    delete env.CAIRN_ADMIN_TOKEN;
    const test = await startNode({ dir, env, dev: true });
    try {
      expect((await getJson(`${test.url}/_cairn/console/session`)).body).toMatchObject({
        authenticated: true,
        login: "open",
      });
      expect((await getJson(`${test.url}/_cairn/functions`)).status).toBe(200);
    } finally {
      await test.stop();
      removeApp(dir);
    }
  });

  it("is closed on cairn start without a token", async () => {
    const dir = makeApp(opsApp);
    const env = { ...process.env };
    delete env.CAIRN_ADMIN_TOKEN;
    const test = await startNode({ dir, env });
    try {
      expect((await getJson(`${test.url}/_cairn/console/session`)).body).toMatchObject({
        authenticated: false,
        login: "disabled",
      });
      expect(
        (await fetch(`${test.url}/_cairn/console/login`, { method: "POST", body: '{"token":""}' })).status,
      ).toBe(401);
    } finally {
      await test.stop();
      removeApp(dir);
    }
  });
});

describe("console logins", () => {
  it("answer 429 after ten failures a minute from one address", async () => {
    const dir = makeApp(opsApp);
    const test = await startNode({ dir, env: { ...process.env, CAIRN_ADMIN_TOKEN: token } });
    const attempt = (value: string) =>
      fetch(`${test.url}/_cairn/console/login`, { method: "POST", body: JSON.stringify({ token: value }) });
    try {
      for (let i = 0; i < 10; i++) expect((await attempt("guess")).status).toBe(401);
      const limited = await attempt(token);
      expect(limited.status).toBe(429);
      expect(limited.headers.get("set-cookie")).toBeNull();
    } finally {
      await test.stop();
      removeApp(dir);
    }
  });
});

const redisUrl = process.env.CAIRN_TEST_REDIS_URL;
describe.skipIf(redisUrl === undefined)("the console's cache statistics on Redis", () => {
  let dir: string;
  let test: TestNode;
  const prefix = `cairn-console-test-${process.pid}-${Date.now()}:`;

  beforeAll(async () => {
    dir = makeApp(opsApp);
    test = await startNode({
      dir,
      env: {
        ...process.env,
        CAIRN_ADMIN_TOKEN: token,
        CAIRN_REDIS_URL: redisUrl,
        CAIRN_REDIS_PREFIX: prefix,
      },
    });
    expect((await fetch(`${test.url}/seed`, { method: "POST" })).status).toBe(204);
  });
  afterAll(async () => {
    await test?.stop();
    removeApp(dir);
    const { Redis } = await import("ioredis");
    const redis = new Redis(redisUrl!);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it("reports the Redis database's keys and memory, marked as the server's", async () => {
    expect((await fetch(`${test.url}/hello`)).status).toBe(200); // sets a cache key
    const cache = await getJson(`${test.url}/_cairn/cache`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(cache.status).toBe(200);
    const stats = cache.body.apps[0];
    expect(stats).toMatchObject({ driver: "redis", scope: "server" });
    expect(stats.entries).toBeGreaterThanOrEqual(1);
    expect(stats.bytes).toBeGreaterThan(0);
  });
});
