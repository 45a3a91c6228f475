import { expect, it } from "vitest";
import type { CacheFixture } from "./harness.js";

export function basicCases(fixture: () => CacheFixture): void {
  it("misses a key that was never set", async () => {
    const { cache } = fixture();
    expect(await cache.get("nothing")).toBeUndefined();
  });

  it("stores every kind of JSON value and gives back an equal copy", async () => {
    const { cache } = fixture();
    const values: unknown[] = [
      "text",
      "",
      "ünïcödé ✓ 🚀",
      0,
      -1.5,
      1e300,
      true,
      false,
      null,
      [],
      {},
      [1, "two", null, { three: [3] }],
      { nested: { deep: { list: [1, 2, 3], flag: false } }, "odd key": "ok" },
    ];
    for (const [i, value] of values.entries()) await cache.set(`v${i}`, value);
    for (const [i, value] of values.entries()) expect(await cache.get(`v${i}`)).toEqual(value);
  });

  it("never hands out the object that was set", async () => {
    const { cache } = fixture();
    const value = { list: [1] };
    await cache.set("obj", value);
    value.list.push(2);
    const first = await cache.get<{ list: number[] }>("obj");
    expect(first).toEqual({ list: [1] });
    first!.list.push(3);
    expect(await cache.get("obj")).toEqual({ list: [1] });
  });

  it("leaves out properties whose value is undefined, as JSON does", async () => {
    const { cache } = fixture();
    await cache.set("partial", { a: 1, b: undefined });
    expect(await cache.get("partial")).toEqual({ a: 1 });
  });

  it("overwrites on set", async () => {
    const { cache } = fixture();
    await cache.set("k", "one");
    await cache.set("k", { two: 2 });
    expect(await cache.get("k")).toEqual({ two: 2 });
  });

  it("deletes, telling whether the key existed", async () => {
    const { cache } = fixture();
    await cache.set("k", 1);
    expect(await cache.delete("k")).toBe(true);
    expect(await cache.get("k")).toBeUndefined();
    expect(await cache.delete("k")).toBe(false);
    expect(await cache.delete("never")).toBe(false);
  });

  it("gets many keys in order, with undefined for misses", async () => {
    const { cache } = fixture();
    await cache.set("a", 1);
    await cache.set("c", { three: 3 });
    await cache.set("n", null);
    expect(await cache.getMany(["a", "b", "c", "a", "n"])).toEqual([1, undefined, { three: 3 }, 1, null]);
    expect(await cache.getMany([])).toEqual([]);
  });

  it("sets if absent, once", async () => {
    const { cache } = fixture();
    expect(await cache.setIfAbsent("once", "first")).toBe(true);
    expect(await cache.setIfAbsent("once", "second")).toBe(false);
    expect(await cache.get("once")).toBe("first");
  });

  it("lets exactly one of 50 concurrent setIfAbsent calls win, and keeps its value", async () => {
    const { cache } = fixture();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => cache.setIfAbsent("race", { winner: i })),
    );
    const winners = results.flatMap((won, i) => (won ? [i] : []));
    expect(winners).toHaveLength(1);
    expect(await cache.get("race")).toEqual({ winner: winners[0] });
  });

  it("keeps values, counters and locks in separate key spaces", async () => {
    const { cache } = fixture();
    await cache.set("shared", "value");
    expect(await cache.lock("shared", { ttl: 1000 })).toBeDefined();
    expect((await cache.rateLimit("shared", { limit: 1, window: 1000 })).allowed).toBe(true);
    expect(await cache.get("shared")).toBe("value");
    expect(await cache.delete("shared")).toBe(true);
    expect(await cache.lock("shared", { ttl: 1000 })).toBeUndefined();
    expect((await cache.rateLimit("shared", { limit: 1, window: 1000 })).allowed).toBe(false);
  });
}
