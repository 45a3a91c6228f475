import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deleteKeysWithPrefix } from "../../src/cache/redis/keys.js";
import { getJson, makeApp, removeApp, startNode, type TestNode } from "../helpers/app.js";

const url = process.env.CAIRN_TEST_REDIS_URL;

// The same app (one name) in two folders: each node has its own data folder, so the only thing
// they share is Redis. An embedded cache would keep their values apart.
const app = {
  "cairn.config.ts": `
    import { defineConfig } from "cairn";
    export default defineConfig({ name: "shop" });
  `,
  "functions/cache.ts": `
    import { http } from "cairn";

    export const put = http("PUT /cache/:key", async (req, ctx) => {
      await ctx.cache.set(ctx.params.key, await req.json());
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
      Response.json((await ctx.cache.lock(ctx.params.key, { ttl: "30s" })) ?? null),
    );

    export const unlock = http("DELETE /locks/:key/:token", async (_req, ctx) =>
      Response.json(await ctx.cache.unlock(ctx.params.key, Number(ctx.params.token))),
    );

    export const limited = http("GET /limited", async (_req, ctx) => {
      const { allowed } = await ctx.cache.rateLimit("limited", { limit: 3, window: "1m" });
      return new Response(null, { status: allowed ? 204 : 429 });
    });

    export const roundTrip = http("GET /round-trip", async (_req, ctx) => {
      await ctx.cache.set("bench", { hello: "world", n: 1 });
      for (let i = 0; i < 200; i++) await ctx.cache.get("bench");
      const calls = 2000;
      const start = performance.now();
      for (let i = 0; i < calls; i++) await ctx.cache.get("bench");
      const meanUs = ((performance.now() - start) * 1000) / calls;
      return Response.json({ meanUs, value: await ctx.cache.get("bench") });
    });
  `,
};

if (url === undefined) {
  describe.skip("ctx.cache over Redis (set CAIRN_TEST_REDIS_URL or run npm test with Redis up)", () => {
    it("skipped", () => {});
  });
} else {
  describe("ctx.cache over Redis, from two nodes", () => {
    const prefix = `cairn-test-${randomBytes(6).toString("hex")}:`;
    const env = { ...process.env, CAIRN_REDIS_URL: url, CAIRN_REDIS_PREFIX: prefix };
    const dirs: string[] = [];
    let a: TestNode;
    let b: TestNode;
    let redis: Redis;

    beforeAll(async () => {
      dirs.push(makeApp(app), makeApp(app));
      [a, b] = (await Promise.all(dirs.map((dir) => startNode({ dir, env })))) as [TestNode, TestNode];
      redis = new Redis(url);
    });
    afterAll(async () => {
      await Promise.all([a?.stop(), b?.stop()]);
      await deleteKeysWithPrefix(redis, prefix);
      await redis.quit();
      for (const dir of dirs) removeApp(dir);
    });

    it("shows one node's values to the other, stored under the app's prefix", async () => {
      const put = await fetch(`${a.url}/cache/greeting`, { method: "PUT", body: '{"text":"hi"}' });
      expect(put.status).toBe(204);
      expect(await getJson(`${b.url}/cache/greeting`)).toMatchObject({ status: 200, body: { text: "hi" } });
      expect(await redis.get(`${prefix}shop:v:greeting`)).toBe('0:{"text":"hi"}');
      expect(a.logs.find((line) => line.msg === "cache: Redis")).toMatchObject({ prefix: `${prefix}shop:` });
    });

    it("counts increments from both nodes exactly once each", async () => {
      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          getJson(`${(i % 2 === 0 ? a : b).url}/counters/visits`, { method: "POST" }),
        ),
      );
      expect(results.map((r) => r.body).sort((x, y) => x - y)).toEqual(
        Array.from({ length: 40 }, (_, i) => i + 1),
      );
    });

    it("holds a lock taken on one node against the other, with growing fencing tokens", async () => {
      const held = await getJson(`${a.url}/locks/report`, { method: "POST" });
      expect(held.body).toEqual({ token: expect.any(Number), expiresAt: expect.any(Number) });
      expect((await getJson(`${b.url}/locks/report`, { method: "POST" })).body).toBeNull();
      const token = held.body.token as number;
      expect((await getJson(`${b.url}/locks/report/${token}`, { method: "DELETE" })).body).toBe(true);
      const next = await getJson(`${b.url}/locks/report`, { method: "POST" });
      expect(next.body.token).toBeGreaterThan(token);
      expect((await getJson(`${a.url}/locks/report`, { method: "POST" })).body).toBeNull();
    });

    it("shares one rate-limit window between the nodes", async () => {
      const statuses = [];
      for (const node of [a, b, a, b]) statuses.push((await fetch(`${node.url}/limited`)).status);
      expect(statuses).toEqual([204, 204, 204, 429]);
    });

    it("answers a ctx.cache.get through Redis in about one round trip", async () => {
      const cold = await getJson(`${a.url}/round-trip`);
      const { status, body } = await getJson(`${a.url}/round-trip`);
      expect(status).toBe(200);
      expect(body.value).toEqual({ hello: "world", n: 1 });
      const figure = (us: number) => `${us.toFixed(1)} µs`;
      console.log(
        `ctx.cache.get through Redis, mean of 2,000 sequential calls: ${figure(body.meanUs)} (first run ${figure(cold.body.meanUs)})`,
      );
      expect(body.meanUs).toBeLessThan(2000);
    });
  });
}

describe("ctx.cache when CAIRN_REDIS_URL points at nothing", () => {
  it("still starts, and a function's cache call answers 503 backend_unavailable without the password", async () => {
    const dir = makeApp(app);
    const t = await startNode({
      dir,
      env: { ...process.env, CAIRN_REDIS_URL: "redis://:hunter2-secret@127.0.0.1:1" },
    });
    try {
      const started = performance.now();
      const response = await getJson(`${t.url}/cache/anything`);
      expect(performance.now() - started).toBeLessThan(1000);
      expect(response).toMatchObject({ status: 503, body: { error: { code: "backend_unavailable" } } });
      expect(response.body.error.message).toContain("redis://:***@127.0.0.1:1");
      expect(t.logs.find((line) => String(line.msg).includes("Redis is unreachable"))).toBeDefined();
      expect(t.logs.text()).not.toContain("hunter2");
      expect(JSON.stringify(response.body)).not.toContain("hunter2");
    } finally {
      await t.stop();
      removeApp(dir);
    }
  });
});
