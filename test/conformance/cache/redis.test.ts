import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expiryGraceMs, openRedisCache, type RedisCacheDriver } from "../../../src/cache/redis/driver.js";
import { deleteKeysWithPrefix } from "../../../src/cache/redis/keys.js";
import { ManualClock } from "../../../src/shared/clock.js";
import { cacheOver } from "./harness.js";
import { cacheConformance } from "./suite.js";

const url = process.env.CAIRN_TEST_REDIS_URL;

if (url === undefined) {
  describe.skip("cache conformance: Redis (set CAIRN_TEST_REDIS_URL or run npm test with Redis up)", () => {
    it("skipped", () => {});
  });
} else {
  // Every test gets a fresh, empty cache under its own prefix inside this run's prefix; the run's
  // keys are deleted at the end. One driver stays open meanwhile, so the tests share one connection.
  const run = `cairn-test-${randomBytes(6).toString("hex")}:`;
  let keeper: RedisCacheDriver;
  let count = 0;

  beforeAll(async () => {
    keeper = await openRedisCache({ url, prefix: run, clock: new ManualClock() });
    await keeper.connected();
  });
  afterAll(async () => {
    await deleteKeysWithPrefix(keeper.connection.client, run);
    await keeper.close();
  });

  cacheConformance("Redis", async () => {
    const clock = new ManualClock();
    const driver = await openRedisCache({ url, prefix: `${run}${++count}:`, clock });
    const { cache, close } = await cacheOver(driver);
    return { cache, clock, close };
  });

  // The Redis driver's own promises: its key layout, the backstop expiry, the fencing counter's
  // recovery, and one shared connection.
  describe("Redis cache driver", () => {
    async function fresh() {
      const clock = new ManualClock();
      const prefix = `${run}${++count}:`;
      const driver = await openRedisCache({ url: url!, prefix, clock });
      const { cache, close } = await cacheOver(driver);
      return { clock, prefix, driver, cache, close, redis: driver.connection.client };
    }

    it("keeps values, rate-limit windows and locks under their own prefixes, with deadlines beside them", async () => {
      const { clock, prefix, cache, close, redis } = await fresh();
      const now = clock.now();
      await cache.set("a", { x: 1 });
      await cache.set("b", "t", { ttl: 5000 });
      await cache.rateLimit("a", { limit: 2, window: 1000 });
      const lock = await cache.lock("a", { ttl: 2000 });
      expect(await redis.get(`${prefix}v:a`)).toBe('0:{"x":1}');
      expect(await redis.get(`${prefix}v:b`)).toBe(`${now + 5000}:"t"`);
      expect(await redis.get(`${prefix}r:a`)).toBe(`${now + 1000}:1`);
      expect(await redis.get(`${prefix}l:a`)).toBe(`${now + 2000}:${lock!.token}`);
      expect(await redis.get(`${prefix}fence`)).toBe(String(lock!.token));
      // Redis drops each entry itself a little after its deadline; an entry without a ttl never.
      expect(await redis.pexpiretime(`${prefix}v:b`)).toBe(now + 5000 + expiryGraceMs);
      expect(await redis.pexpiretime(`${prefix}l:a`)).toBe(now + 2000 + expiryGraceMs);
      expect(await redis.pexpiretime(`${prefix}v:a`)).toBe(-1);
      expect(await redis.pexpiretime(`${prefix}fence`)).toBe(-1);
      await cache.increment("n");
      await cache.set("n", 5, { ttl: 3000 });
      await cache.increment("n");
      expect(await redis.pexpiretime(`${prefix}v:n`)).toBe(now + 3000 + expiryGraceMs);
      await close();
    });

    it("keeps fencing tokens growing when Redis loses the counter (a restart without persistence)", async () => {
      const { clock, prefix, cache, close, redis } = await fresh();
      const first = await cache.lock("job", { ttl: 1000 });
      await cache.unlock("job", first!.token);
      for (let i = 0; i < 5; i++) await cache.lock(`other-${i}`, { ttl: 1000 });
      const before = await cache.lock("job", { ttl: 1000 });
      await redis.del(`${prefix}fence`, `${prefix}l:job`);
      clock.advance(1);
      const after = await cache.lock("job", { ttl: 1000 });
      expect(after!.token).toBeGreaterThan(before!.token);
      expect(Number.isSafeInteger(after!.token)).toBe(true);
      await close();
    });

    it("shares one connection per URL and closes it with its last user", async () => {
      const one = await openRedisCache({ url: url, prefix: `${run}shared:`, clock: new ManualClock() });
      const two = await openRedisCache({ url: url, prefix: `${run}shared2:`, clock: new ManualClock() });
      expect(two.connection).toBe(one.connection);
      expect(one.connection).toBe(keeper.connection);
      await one.close();
      await two.close();
      expect(keeper.connection.ready).toBe(true);
      const { code } = await one.get("k").then(
        () => ({ code: "none" }),
        (error: { code: string }) => error,
      );
      expect(code).toBe("shutting_down");
    });
  });
}
