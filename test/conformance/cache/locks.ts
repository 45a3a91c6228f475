import { expect, it } from "vitest";
import { failure, type CacheFixture } from "./harness.js";

export function lockCases(fixture: () => CacheFixture): void {
  it("holds a lock until it is released, and only for one holder", async () => {
    const { cache, clock } = fixture();
    const lock = await cache.lock("job", { ttl: "10s" });
    expect(lock).toEqual({ token: expect.any(Number), expiresAt: clock.now() + 10_000 });
    expect(await cache.lock("job", { ttl: "10s" })).toBeUndefined();
    expect(await cache.unlock("job", lock!.token)).toBe(true);
    expect(await cache.unlock("job", lock!.token)).toBe(false);
    expect(await cache.lock("job", { ttl: "10s" })).toBeDefined();
  });

  it("gives the lock to exactly one of 50 concurrent callers", async () => {
    const { cache } = fixture();
    const results = await Promise.all(Array.from({ length: 50 }, () => cache.lock("hot", { ttl: 1000 })));
    expect(results.filter((r) => r !== undefined)).toHaveLength(1);
  });

  it("expires a lock at the end of its ttl", async () => {
    const { cache, clock } = fixture();
    const first = await cache.lock("lease", { ttl: 1000 });
    clock.advance(999);
    expect(await cache.lock("lease", { ttl: 1000 })).toBeUndefined();
    clock.advance(1);
    const second = await cache.lock("lease", { ttl: 1000 });
    expect(second!.token).toBeGreaterThan(first!.token);
  });

  it("hands out strictly increasing fencing tokens across acquisitions", async () => {
    const { cache, clock } = fixture();
    const tokens: number[] = [];
    for (let i = 0; i < 20; i++) {
      const lock = await cache.lock("fenced", { ttl: 100 });
      tokens.push(lock!.token);
      if (i % 2 === 0) await cache.unlock("fenced", lock!.token);
      else clock.advance(100);
      await cache.lock(`other-${i}`, { ttl: 100 });
    }
    for (let i = 1; i < tokens.length; i++) expect(tokens[i]).toBeGreaterThan(tokens[i - 1]!);
    expect(tokens.every((t) => Number.isSafeInteger(t) && t > 0)).toBe(true);
  });

  it("refuses to release with a stale or wrong token", async () => {
    const { cache, clock } = fixture();
    const stale = await cache.lock("res", { ttl: 1000 });
    clock.advance(1000);
    expect(await cache.unlock("res", stale!.token)).toBe(false);
    const fresh = await cache.lock("res", { ttl: 1000 });
    expect(await cache.unlock("res", stale!.token)).toBe(false);
    expect(await cache.unlock("res", fresh!.token + 1)).toBe(false);
    expect(await cache.lock("res", { ttl: 1000 })).toBeUndefined();
    expect(await cache.unlock("res", fresh!.token)).toBe(true);
    expect(await cache.unlock("never-locked", 1)).toBe(false);
  });

  it("extends a lock only for its holder", async () => {
    const { cache, clock } = fixture();
    const lock = await cache.lock("long", { ttl: 1000 });
    clock.advance(800);
    expect(await cache.extendLock("long", lock!.token, { ttl: 1000 })).toEqual({
      token: lock!.token,
      expiresAt: clock.now() + 1000,
    });
    clock.advance(999);
    expect(await cache.lock("long", { ttl: 1000 })).toBeUndefined();
    clock.advance(1);
    expect(await cache.extendLock("long", lock!.token, { ttl: 1000 })).toBeUndefined();
    const next = await cache.lock("long", { ttl: 1000 });
    expect(await cache.extendLock("long", lock!.token, { ttl: 1000 })).toBeUndefined();
    expect(await cache.unlock("long", next!.token)).toBe(true);
  });

  it("requires a valid ttl and token", async () => {
    const { cache } = fixture();
    for (const options of [undefined, {}, { ttl: 0 }, { ttl: -5 }, { ttl: "a while" }]) {
      expect((await failure(cache.lock("l", options as never))).code).toBe("invalid_argument");
    }
    for (const token of ["1", 1.5, Number.NaN, undefined]) {
      expect((await failure(cache.unlock("l", token as never))).code).toBe("invalid_argument");
    }
  });
}
