import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/load.js";
import { ManualClock } from "../../src/shared/clock.js";
import { getJson, makeApp, removeApp, startNode, type TestNode } from "../helpers/app.js";

const app = {
  "cairn.config.ts": `
    import { defineConfig } from "cairn";
    export default defineConfig({ cache: { maxBytes: 8 * 1024 * 1024 } });
  `,
  "functions/cache.ts": `
    import { http } from "cairn";

    export const put = http("PUT /cache/:key", async (req, ctx) => {
      const ttl = new URL(req.url).searchParams.get("ttl");
      await ctx.cache.set(ctx.params.key, await req.json(), ttl === null ? undefined : { ttl });
      return new Response(null, { status: 204 });
    });

    export const get = http("GET /cache/:key", async (_req, ctx) => {
      const value = await ctx.cache.get(ctx.params.key);
      return value === undefined ? Response.json({ miss: true }, { status: 404 }) : Response.json(value);
    });

    export const increment = http("POST /counters/:key", async (_req, ctx) =>
      Response.json(await ctx.cache.increment(ctx.params.key)),
    );

    export const lock = http("POST /locks/:key", async (_req, ctx) =>
      Response.json((await ctx.cache.lock(ctx.params.key, { ttl: "5s" })) ?? null),
    );

    export const unlock = http("DELETE /locks/:key/:token", async (_req, ctx) =>
      Response.json(await ctx.cache.unlock(ctx.params.key, Number(ctx.params.token))),
    );

    export const limited = http("GET /limited", async (_req, ctx) => {
      const { allowed, remaining, resetAt } = await ctx.cache.rateLimit("limited", { limit: 2, window: "1m" });
      const headers = { "x-ratelimit-remaining": String(remaining), "x-ratelimit-reset": String(resetAt) };
      return allowed ? new Response("ok", { headers }) : new Response("slow down", { status: 429, headers });
    });

    // Errors that escape a function become the response, with the error's code and status.
    export const bad = http("POST /bad/:what", async (_req, ctx) => {
      if (ctx.params.what === "value") await ctx.cache.set("f", { f() {} });
      if (ctx.params.what === "size") await ctx.cache.set("h", "x".repeat(2_000_000));
      if (ctx.params.what === "key") await ctx.cache.get("k".repeat(2000));
      return new Response("unreachable");
    });

    export const roundTrip = http("GET /round-trip", async (_req, ctx) => {
      await ctx.cache.set("bench", { hello: "world", n: 1 });
      for (let i = 0; i < 500; i++) await ctx.cache.get("bench");
      const calls = 2000;
      const start = performance.now();
      for (let i = 0; i < calls; i++) await ctx.cache.get("bench");
      const meanUs = ((performance.now() - start) * 1000) / calls;
      return Response.json({ meanUs, value: await ctx.cache.get("bench") });
    });
  `,
};

describe("ctx.cache over HTTP", () => {
  let dir: string;
  let t: TestNode;
  const clock = new ManualClock();

  beforeAll(async () => {
    dir = makeApp(app);
    t = await startNode({ dir, clock });
  });
  afterAll(async () => {
    await t.stop();
    removeApp(dir);
  });

  it("sets with a ttl and gets until it expires, on the node's clock", async () => {
    const put = await fetch(`${t.url}/cache/greeting?ttl=10s`, { method: "PUT", body: '{"text":"hi"}' });
    expect(put.status).toBe(204);
    expect(await getJson(`${t.url}/cache/greeting`)).toMatchObject({ status: 200, body: { text: "hi" } });
    clock.advance(9_999);
    expect((await getJson(`${t.url}/cache/greeting`)).status).toBe(200);
    clock.advance(1);
    expect(await getJson(`${t.url}/cache/greeting`)).toMatchObject({ status: 404, body: { miss: true } });
  });

  it("increments atomically across concurrent invocations", async () => {
    const results = await Promise.all(
      Array.from({ length: 30 }, () => getJson(`${t.url}/counters/visits`, { method: "POST" })),
    );
    expect(results.map((r) => r.body).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 30 }, (_, i) => i + 1),
    );
    expect((await getJson(`${t.url}/cache/visits`)).body).toBe(30);
  });

  it("locks for one caller at a time, with fencing tokens", async () => {
    const [a, b] = await Promise.all([
      getJson(`${t.url}/locks/report`, { method: "POST" }),
      getJson(`${t.url}/locks/report`, { method: "POST" }),
    ]);
    const held = [a.body, b.body].filter((body) => body !== null);
    expect(held).toHaveLength(1);
    expect(held[0]).toEqual({ token: expect.any(Number), expiresAt: clock.now() + 5000 });
    const token = held[0].token as number;
    expect((await getJson(`${t.url}/locks/report/${token + 1}`, { method: "DELETE" })).body).toBe(false);
    expect((await getJson(`${t.url}/locks/report/${token}`, { method: "DELETE" })).body).toBe(true);
    const next = await getJson(`${t.url}/locks/report`, { method: "POST" });
    expect(next.body.token).toBeGreaterThan(token);
  });

  it("rate-limits with a fixed window", async () => {
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(`${t.url}/limited`)).status);
    expect(statuses).toEqual([200, 200, 429]);
    clock.advance(60_000);
    const again = await fetch(`${t.url}/limited`);
    expect(again.status).toBe(200);
    expect(again.headers.get("x-ratelimit-remaining")).toBe("1");
    expect(Number(again.headers.get("x-ratelimit-reset"))).toBe(clock.now() + 60_000);
  });

  it("keeps its content, held locks and fencing counter across a reload", async () => {
    await fetch(`${t.url}/cache/kept`, { method: "PUT", body: '"still here"' });
    const held = await getJson(`${t.url}/locks/reloaded`, { method: "POST" });
    await t.node.reload();
    expect((await getJson(`${t.url}/cache/kept`)).body).toBe("still here");
    expect((await getJson(`${t.url}/locks/reloaded`, { method: "POST" })).body).toBeNull();
    clock.advance(5000);
    const next = await getJson(`${t.url}/locks/reloaded`, { method: "POST" });
    expect(next.body.token).toBeGreaterThan(held.body.token);
  });

  it("answers a function's unhandled cache error with its code and status", async () => {
    const value = await getJson(`${t.url}/bad/value`, { method: "POST" });
    expect(value.status).toBe(400);
    expect(value.body.error).toMatchObject({ code: "invalid_argument" });
    expect(value.body.error.message).toContain("value.f is a function");
    expect(await getJson(`${t.url}/bad/size`, { method: "POST" })).toMatchObject({
      status: 413,
      body: { error: { code: "value_too_large" } },
    });
    expect(await getJson(`${t.url}/bad/key`, { method: "POST" })).toMatchObject({
      status: 400,
      body: { error: { code: "invalid_key" } },
    });
  });

  it("answers a ctx.cache.get from a function in well under 200 µs", async () => {
    // The first run also warms up the JIT on both sides of the thread boundary; the second is the figure.
    const cold = await getJson(`${t.url}/round-trip`);
    const { status, body } = await getJson(`${t.url}/round-trip`);
    expect(status).toBe(200);
    expect(body.value).toEqual({ hello: "world", n: 1 });
    const figure = (us: number) => `${us.toFixed(1)} µs`;
    console.log(
      `ctx.cache.get round trip, mean of 2,000 sequential calls: ${figure(body.meanUs)} (first run ${figure(cold.body.meanUs)})`,
    );
    expect(body.meanUs).toBeLessThan(200);
  });
});

describe("the cache section of cairn.config.ts", () => {
  it("refuses a memory bound below 4 MB, naming the field", async () => {
    const dir = makeApp({
      "cairn.config.ts": `export default { cache: { maxBytes: 1000 } };`,
    });
    try {
      await expect(loadConfig(dir)).rejects.toMatchObject({
        code: "invalid_config",
        message: expect.stringContaining("cache.maxBytes"),
      });
    } finally {
      removeApp(dir);
    }
  });
});
