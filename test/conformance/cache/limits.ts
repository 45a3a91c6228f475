import { expect, it } from "vitest";
import { cacheLimits } from "../../../src/cache/limits.js";
import { isCairnError } from "../../../src/sdk/errors.js";
import { failure, type CacheFixture } from "./harness.js";

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

export function limitCases(fixture: () => CacheFixture): void {
  it("takes keys of up to 1,024 UTF-8 bytes", async () => {
    const { cache } = fixture();
    const longest = "k".repeat(cacheLimits.keyBytes);
    await cache.set(longest, 1);
    expect(await cache.get(longest)).toBe(1);
    const wide = "é".repeat(cacheLimits.keyBytes / 2);
    await cache.set(wide, 2);
    expect(await cache.get(wide)).toBe(2);
    for (const key of ["k".repeat(cacheLimits.keyBytes + 1), "é".repeat(cacheLimits.keyBytes / 2 + 1)]) {
      const error = await failure(cache.get(key));
      expect(error).toMatchObject({ code: "invalid_key", status: 400 });
      expect(error.message).toContain("1024 bytes");
    }
  });

  it("refuses empty, malformed and non-string keys in every operation", async () => {
    const { cache } = fixture();
    for (const key of ["", "\uD800lone", 42, null, undefined, { k: 1 }, () => "k"]) {
      const k = key as string;
      const calls = [
        cache.get(k),
        cache.set(k, 1),
        cache.setIfAbsent(k, 1),
        cache.delete(k),
        cache.increment(k),
        cache.rateLimit(k, { limit: 1, window: 1000 }),
        cache.lock(k, { ttl: 1000 }),
        cache.unlock(k, 1),
        cache.extendLock(k, 1, { ttl: 1000 }),
        cache.getMany(["ok", k]),
      ];
      for (const call of calls) expect((await failure(call)).code).toBe("invalid_key");
    }
  });

  it("takes values up to 1 MB of JSON and refuses larger ones with value_too_large", async () => {
    const { cache } = fixture();
    const biggest = "x".repeat(cacheLimits.valueBytes - 2); // two quotes make it exactly the limit
    await cache.set("big", biggest);
    expect(await cache.get("big")).toBe(biggest);
    const error = await failure(cache.set("big", `${biggest}y`));
    expect(error).toMatchObject({ code: "value_too_large", status: 413 });
    expect(error.details).toEqual({ limit: cacheLimits.valueBytes, size: cacheLimits.valueBytes + 1 });
    const wide = "é".repeat(cacheLimits.valueBytes / 2); // 2 bytes each in UTF-8
    expect((await failure(cache.setIfAbsent("wide", wide))).code).toBe("value_too_large");
    expect(await cache.get("big")).toBe(biggest);
    expect(await cache.get("wide")).toBeUndefined();
  });

  it("refuses values that are not JSON, naming where the problem is", async () => {
    const { cache } = fixture();
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const sparse = new Array<number>(3);
    sparse[0] = 1;
    sparse[2] = 3;
    const cases: Array<[unknown, string]> = [
      [undefined, "the value is undefined"],
      [() => 1, "the value is a function"],
      [Symbol("s"), "the value is a symbol"],
      [10n, "the value is a bigint"],
      [Number.NaN, "NaN"],
      [Number.POSITIVE_INFINITY, "Infinity"],
      [new Date(0), "a Date"],
      [new Map(), "a Map"],
      [new Point(1, 2), "a Point"],
      [new Uint8Array(2), "a Uint8Array"],
      [{ a: { b: [1, () => 2] } }, "value.a.b[1] is a function"],
      [{ "odd key": [undefined] }, 'value["odd key"][0] is undefined'],
      [sparse, "value[1] is undefined"],
      [cyclic, "circular"],
    ];
    for (const [value, message] of cases) {
      const error = await failure(cache.set("bad", value));
      expect(error.code).toBe("invalid_argument");
      expect(error.message).toContain(message);
    }
    expect(await cache.get("bad")).toBeUndefined();
  });

  it("refuses bad ttls", async () => {
    const { cache } = fixture();
    const bad = [
      0,
      -1,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      "soon",
      "",
      "10 years",
      "366d",
      366 * 86_400_000,
      null,
      {},
    ];
    for (const ttl of bad) {
      const error = await failure(cache.set("t", 1, { ttl: ttl as never }));
      expect(error).toMatchObject({ code: "invalid_argument", status: 400 });
      expect(error.message).toContain("ttl");
    }
    await cache.set("t", 1, { ttl: "365d" });
    expect(await cache.get("t")).toBe(1);
  });

  it("takes at most 100 keys per getMany", async () => {
    const { cache } = fixture();
    const keys = Array.from({ length: cacheLimits.getManyKeys }, (_, i) => `k${i}`);
    expect(await cache.getMany(keys)).toHaveLength(cacheLimits.getManyKeys);
    const error = await failure(cache.getMany([...keys, "one more"]));
    expect(error.code).toBe("invalid_argument");
    expect((await failure(cache.getMany("k" as never))).code).toBe("invalid_argument");
  });

  it("fails with CairnErrors that carry a code and an HTTP status", async () => {
    const { cache } = fixture();
    const error: unknown = await cache.get("").catch((e: unknown) => e);
    expect(isCairnError(error)).toBe(true);
    expect(error).toMatchObject({ code: "invalid_key", status: 400, retryable: false });
  });
}
