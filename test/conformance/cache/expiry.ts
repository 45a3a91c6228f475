import { expect, it } from "vitest";
import type { CacheFixture } from "./harness.js";

export function expiryCases(fixture: () => CacheFixture): void {
  it("keeps a value for exactly its ttl", async () => {
    const { cache, clock } = fixture();
    await cache.set("k", "v", { ttl: 1000 });
    clock.advance(999);
    expect(await cache.get("k")).toBe("v");
    clock.advance(1);
    expect(await cache.get("k")).toBeUndefined();
  });

  it("takes durations as strings", async () => {
    const { cache, clock } = fixture();
    await cache.set("k", "v", { ttl: "2s" });
    clock.advance(1999);
    expect(await cache.get("k")).toBe("v");
    clock.advance(1);
    expect(await cache.get("k")).toBeUndefined();
  });

  it("rounds a fractional ttl up to the next millisecond", async () => {
    const { cache, clock } = fixture();
    await cache.set("k", "v", { ttl: 0.5 });
    expect(await cache.get("k")).toBe("v");
    clock.advance(1);
    expect(await cache.get("k")).toBeUndefined();
  });

  it("removes the ttl on a set without one", async () => {
    const { cache, clock } = fixture();
    await cache.set("k", 1, { ttl: 1000 });
    await cache.set("k", 2);
    clock.advance(1_000_000);
    expect(await cache.get("k")).toBe(2);
  });

  it("replaces the ttl on a set with a new one", async () => {
    const { cache, clock } = fixture();
    await cache.set("k", 1, { ttl: 1000 });
    clock.advance(900);
    await cache.set("k", 2, { ttl: 1000 });
    clock.advance(999);
    expect(await cache.get("k")).toBe(2);
    clock.advance(1);
    expect(await cache.get("k")).toBeUndefined();
  });

  it("keeps the ttl on increment", async () => {
    const { cache, clock } = fixture();
    await cache.set("n", 1, { ttl: 1000 });
    clock.advance(500);
    expect(await cache.increment("n")).toBe(2);
    clock.advance(499);
    expect(await cache.get("n")).toBe(2);
    clock.advance(1);
    expect(await cache.get("n")).toBeUndefined();
  });

  it("counts from zero without a ttl once a counter expired", async () => {
    const { cache, clock } = fixture();
    await cache.set("n", 41, { ttl: 1000 });
    clock.advance(1000);
    expect(await cache.increment("n", 5)).toBe(5);
    clock.advance(1_000_000);
    expect(await cache.get("n")).toBe(5);
  });

  it("treats an expired key as absent everywhere", async () => {
    const { cache, clock } = fixture();
    await cache.set("a", "old", { ttl: 10 });
    await cache.set("b", "kept");
    clock.advance(10);
    expect(await cache.getMany(["a", "b"])).toEqual([undefined, "kept"]);
    expect(await cache.delete("a")).toBe(false);
    await cache.set("a", "old", { ttl: 10 });
    clock.advance(10);
    expect(await cache.setIfAbsent("a", "new", { ttl: 10 })).toBe(true);
    expect(await cache.get("a")).toBe("new");
    clock.advance(10);
    expect(await cache.get("a")).toBeUndefined();
  });
}
