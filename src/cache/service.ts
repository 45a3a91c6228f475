import type { ServiceProvider } from "../host/services.js";
import { defaultCacheMaxBytes } from "./config.js";
import { acquireMemoryCache } from "./memory/shared.js";
import { cacheOperations } from "./operations.js";

/**
 * The cache service ("cache", `ctx.cache`): one cache per app. Today every app gets the embedded
 * driver, in this process's memory: it survives reloads (see memory/shared.ts) but not a restart,
 * and it is not shared between nodes; a Redis driver will take over when a Redis URL is configured.
 */
export const cacheProvider: ServiceProvider = {
  name: "cache",
  open: ({ app, clock }) => {
    const { driver, release } = acquireMemoryCache(app.dataDir, {
      clock,
      maxBytes: app.config.config.cache?.maxBytes ?? defaultCacheMaxBytes,
    });
    return Promise.resolve({ spec: {}, operations: cacheOperations(driver), close: release });
  },
};
