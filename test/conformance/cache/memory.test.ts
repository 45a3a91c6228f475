import { describe, expect, it } from "vitest";
import { MemoryCacheDriver } from "../../../src/cache/memory/driver.js";
import { ManualClock } from "../../../src/shared/clock.js";
import { cacheOver, failure } from "./harness.js";
import { cacheConformance } from "./suite.js";

function memoryCache(maxBytes = 64 * 1024 * 1024) {
  const clock = new ManualClock();
  const driver = new MemoryCacheDriver({ clock, maxBytes, sweepIntervalMs: 0 });
  return { clock, driver };
}

cacheConformance("memory", async () => {
  const { clock, driver } = memoryCache();
  const { cache, close } = await cacheOver(driver);
  return { cache, clock, close };
});

// The memory driver's own promises: a byte bound with LRU eviction, and purging of expired entries.
describe("memory cache driver", () => {
  const kb = "x".repeat(400); // about 1 KB estimated with the key and the entry overhead

  it("stays under its byte bound by evicting the least recently used entries", async () => {
    const { driver } = memoryCache(20_000);
    const { cache, close } = await cacheOver(driver);
    for (let i = 0; i < 100; i++) {
      await cache.set(`k${i}`, kb);
      if (i >= 10) await cache.get("k0"); // keep k0 in use
      expect(driver.stats().bytes).toBeLessThanOrEqual(20_000);
    }
    expect(await cache.get("k0")).toBe(kb);
    expect(await cache.get("k1")).toBeUndefined();
    expect(await cache.get("k99")).toBe(kb);
    const kept = (await cache.getMany(Array.from({ length: 100 }, (_, i) => `k${i}`))).filter(Boolean);
    expect(kept.length).toBe(driver.stats().entries);
    expect(kept.length).toBeGreaterThan(10);
    await close();
  });

  it("counts a value's new size when it is overwritten or incremented", async () => {
    const { driver } = memoryCache();
    const { cache, close } = await cacheOver(driver);
    await cache.set("k", "x".repeat(1000));
    const big = driver.stats().bytes;
    await cache.set("k", 1);
    expect(driver.stats().bytes).toBeLessThan(big - 1900);
    await cache.increment("k", 1_000_000);
    await cache.delete("k");
    expect(driver.stats()).toMatchObject({ bytes: 0, entries: 0 });
    await close();
  });

  it("never evicts a held lock; values go first, and a full cache refuses new locks", async () => {
    const { driver } = memoryCache(5_000);
    const { cache, close } = await cacheOver(driver);
    await cache.set("v", "x".repeat(1000));
    const locks = [];
    let error;
    for (let i = 0; i < 100 && error === undefined; i++) {
      error = await cache.lock(`lock-${i}`, { ttl: 60_000 }).then(
        (lock) => void locks.push(lock),
        (e: unknown) => e,
      );
    }
    expect(await cache.get("v")).toBeUndefined();
    expect(error).toMatchObject({ code: "cache_full", status: 503, retryable: true });
    expect(driver.stats().locks).toBe(locks.length);
    expect(await cache.lock("lock-0", { ttl: 1000 })).toBeUndefined();
    expect(driver.stats().bytes).toBeLessThanOrEqual(5_000);
    await close();
  });

  it("evicts at once when its bound shrinks", async () => {
    const { driver } = memoryCache(100_000);
    const { cache, close } = await cacheOver(driver);
    for (let i = 0; i < 50; i++) await cache.set(`k${i}`, kb);
    driver.resize(10_000);
    expect(driver.stats().bytes).toBeLessThanOrEqual(10_000);
    expect(await cache.get("k49")).toBe(kb);
    expect(await cache.get("k0")).toBeUndefined();
    await close();
  });

  it("does not keep an entry larger than the whole bound", async () => {
    const { driver } = memoryCache(1_000);
    const { cache, close } = await cacheOver(driver);
    await cache.set("huge", "x".repeat(2_000));
    expect(await cache.get("huge")).toBeUndefined();
    expect(driver.stats().bytes).toBe(0);
    await close();
  });

  it("purges expired entries and locks that nobody reads again", async () => {
    const { clock, driver } = memoryCache();
    const { cache, close } = await cacheOver(driver);
    for (let i = 0; i < 50; i++) await cache.set(`t${i}`, i, { ttl: 1000 });
    await cache.set("forever", true);
    await cache.rateLimit("r", { limit: 1, window: 1000 });
    await cache.lock("l", { ttl: 1000 });
    expect(driver.stats()).toMatchObject({ entries: 52, locks: 1 });
    driver.purgeExpired();
    expect(driver.stats().entries).toBe(52);
    clock.advance(1000);
    driver.purgeExpired(20); // a slice at a time, resuming where it stopped
    expect(driver.stats().entries).toBeGreaterThan(1);
    driver.purgeExpired(20);
    driver.purgeExpired(20);
    driver.purgeExpired();
    expect(driver.stats()).toMatchObject({ entries: 1, locks: 0 });
    expect(await cache.get("forever")).toBe(true);
    await close();
  });

  it("refuses an increment of a value that is not an integer before touching it", async () => {
    const { driver } = memoryCache();
    const { cache, close } = await cacheOver(driver);
    await cache.set("s", "text");
    expect((await failure(cache.increment("s"))).code).toBe("not_a_number");
    expect(await cache.get("s")).toBe("text");
    await close();
  });
});
