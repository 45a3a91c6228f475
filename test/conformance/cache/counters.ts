import { expect, it } from "vitest";
import { failure, type CacheFixture } from "./harness.js";

export function counterCases(fixture: () => CacheFixture): void {
  it("increments from zero, by 1 or by any integer", async () => {
    const { cache } = fixture();
    expect(await cache.increment("n")).toBe(1);
    expect(await cache.increment("n", 10)).toBe(11);
    expect(await cache.increment("n", -20)).toBe(-9);
    expect(await cache.get("n")).toBe(-9);
    await cache.set("m", 7);
    expect(await cache.increment("m", 0)).toBe(7);
  });

  it("sums 50 concurrent increments exactly", async () => {
    const { cache } = fixture();
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => cache.increment("hits", i + 1)));
    expect(await cache.get("hits")).toBe((50 * 51) / 2);
    expect(new Set(results).size).toBe(50);
  });

  it("refuses to increment what is not an integer, and leaves it as it was", async () => {
    const { cache } = fixture();
    for (const value of ["5", 1.5, { n: 1 }, [1], null, true]) {
      await cache.set("x", value);
      const error = await failure(cache.increment("x"));
      expect(error).toMatchObject({ code: "not_a_number", status: 409 });
      expect(await cache.get("x")).toEqual(value);
    }
  });

  it("refuses a step that is not a safe integer, and a sum beyond the safe range", async () => {
    const { cache } = fixture();
    for (const by of [1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, "1"]) {
      const error = await failure(cache.increment("n", by as number));
      expect(error.code).toBe("invalid_argument");
    }
    await cache.set("big", Number.MAX_SAFE_INTEGER - 1);
    expect(await cache.increment("big")).toBe(Number.MAX_SAFE_INTEGER);
    expect((await failure(cache.increment("big"))).code).toBe("invalid_argument");
    expect(await cache.get("big")).toBe(Number.MAX_SAFE_INTEGER);
  });

  it("allows exactly `limit` requests per fixed window, then starts again", async () => {
    const { cache, clock } = fixture();
    const start = clock.now();
    const seen = [];
    for (let i = 0; i < 4; i++) seen.push(await cache.rateLimit("api", { limit: 3, window: "1s" }));
    expect(seen).toEqual([
      { allowed: true, remaining: 2, resetAt: start + 1000 },
      { allowed: true, remaining: 1, resetAt: start + 1000 },
      { allowed: true, remaining: 0, resetAt: start + 1000 },
      { allowed: false, remaining: 0, resetAt: start + 1000 },
    ]);
    clock.advance(999);
    expect((await cache.rateLimit("api", { limit: 3, window: "1s" })).allowed).toBe(false);
    clock.advance(1);
    expect(await cache.rateLimit("api", { limit: 3, window: "1s" })).toEqual({
      allowed: true,
      remaining: 2,
      resetAt: start + 2000,
    });
  });

  it("opens a window with the first request after the last one closed", async () => {
    const { cache, clock } = fixture();
    await cache.rateLimit("w", { limit: 1, window: 1000 });
    clock.advance(5000);
    const later = await cache.rateLimit("w", { limit: 1, window: 1000 });
    expect(later).toEqual({ allowed: true, remaining: 0, resetAt: clock.now() + 1000 });
  });

  it("admits exactly `limit` of many concurrent requests, per key", async () => {
    const { cache } = fixture();
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        cache.rateLimit(i % 2 === 0 ? "even" : "odd", { limit: 5, window: "1m" }),
      ),
    );
    expect(results.filter((r) => r.allowed)).toHaveLength(10);
  });

  it("refuses a bad limit or window", async () => {
    const { cache } = fixture();
    for (const options of [
      { limit: 0, window: 1000 },
      { limit: 1.5, window: 1000 },
      { limit: Number.NaN, window: 1000 },
      { limit: 1, window: 0 },
      { limit: 1, window: "forever" },
      { limit: 1 },
    ]) {
      const error = await failure(cache.rateLimit("r", options as never));
      expect(error).toMatchObject({ code: "invalid_argument", status: 400 });
    }
  });
}
