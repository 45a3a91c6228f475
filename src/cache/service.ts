import type { ServiceProvider } from "../host/services.js";
import { defaultCacheMaxBytes } from "./config.js";
import { acquireMemoryCache } from "./memory/shared.js";
import { cacheOperations } from "./operations.js";

/**
 * The cache service ("cache", `ctx.cache`): one cache per app. With CAIRN_REDIS_URL (or
 * `cairn start --redis-url`) every app's cache is in that Redis, under the key prefix
 * `<CAIRN_REDIS_PREFIX or "cairn:"><app>:`, shared by every node pointed at it. Otherwise it is the
 * embedded driver, in this process's memory: it survives reloads (see memory/shared.ts) but not a
 * restart, and it is not shared between nodes.
 */
export const cacheProvider: ServiceProvider = {
  name: "cache",
  open: async ({ app, clock, env, logger }) => {
    const url = env.CAIRN_REDIS_URL;
    if (url) {
      // Loaded only when wanted: the Redis client library is a noticeable part of start-up time.
      const [{ openRedisCache }, { appCachePrefix }] = await Promise.all([
        import("./redis/driver.js"),
        import("./redis/keys.js"),
      ]);
      const prefix = appCachePrefix(app.name, env);
      const driver = await openRedisCache({ url, prefix, clock, connection: { log: logger } });
      // Bounded by the connect timeout; an unreachable Redis is logged and does not stop the app.
      await driver.connected();
      logger.debug({ redis: driver.connection.where, prefix }, "cache: Redis");
      return {
        spec: {},
        api: {
          driver: "redis",
          stats: async () => {
            const { keys, bytes, maxBytes } = await driver.serverStats();
            return { scope: "server", entries: keys, bytes, ...(maxBytes !== undefined && { maxBytes }) };
          },
        },
        operations: cacheOperations(driver),
        close: () => driver.close(),
      };
    }
    const { driver, release } = acquireMemoryCache(app.dataDir, {
      clock,
      maxBytes: app.config.config.cache?.maxBytes ?? defaultCacheMaxBytes,
    });
    // The console and metrics read its size; hits and misses are counted where calls are served.
    const api = { driver: "memory", stats: () => driver.stats() };
    return { spec: {}, api, operations: cacheOperations(driver), close: release };
  },
};
