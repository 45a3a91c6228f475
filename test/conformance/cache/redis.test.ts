import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, it } from "vitest";
import { openRedisCache, type RedisCacheDriver } from "../../../src/cache/redis/driver.js";
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
    keeper = openRedisCache({ url, prefix: run, clock: new ManualClock() });
    await keeper.connected();
  });
  afterAll(async () => {
    await deleteKeysWithPrefix(keeper.connection.client, run);
    await keeper.close();
  });

  cacheConformance("Redis", async () => {
    const clock = new ManualClock();
    const driver = openRedisCache({ url, prefix: `${run}${++count}:`, clock });
    const { cache, close } = await cacheOver(driver);
    return { cache, clock, close };
  });
}
