import { afterEach, beforeEach, describe } from "vitest";
import { basicCases } from "./basics.js";
import { counterCases } from "./counters.js";
import { expiryCases } from "./expiry.js";
import type { CacheFixture } from "./harness.js";
import { limitCases } from "./limits.js";
import { lockCases } from "./locks.js";

export type { CacheFixture } from "./harness.js";

/**
 * The cache conformance suite: every driver runs it unchanged. `open` gives a fresh, empty cache
 * whose time is the fixture's manual clock (build it with `cacheOver(driver)` from harness.ts).
 * Behaviour only one driver has (the memory driver's LRU bound) is tested in that driver's file.
 */
export function cacheConformance(name: string, open: () => Promise<CacheFixture>): void {
  describe(`cache conformance: ${name}`, () => {
    let current: CacheFixture | undefined;
    const fixture = (): CacheFixture => {
      if (current === undefined) throw new Error("no cache open");
      return current;
    };
    beforeEach(async () => {
      current = await open();
    });
    afterEach(async () => {
      await current?.close();
      current = undefined;
    });

    describe("get, set, delete, getMany", () => basicCases(fixture));
    describe("ttl", () => expiryCases(fixture));
    describe("increment and rate limits", () => counterCases(fixture));
    describe("locks and fencing tokens", () => lockCases(fixture));
    describe("limits and errors", () => limitCases(fixture));
  });
}
