import * as v from "valibot";
import type { CacheConfig } from "./types.js";

/** The embedded cache's default memory bound per app. */
export const defaultCacheMaxBytes = 64 * 1024 * 1024;
/** Smallest bound: room for the largest value (1 MB of JSON, estimated at two bytes a character). */
export const minCacheMaxBytes = 4 * 1024 * 1024;

/** The optional `cache` section of cairn.config.ts. */
export const cacheConfigSchema = v.strictObject({
  maxBytes: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(minCacheMaxBytes, `expected at least ${minCacheMaxBytes} (4 MB)`),
      v.maxValue(Number.MAX_SAFE_INTEGER),
    ),
  ),
}) satisfies v.GenericSchema<CacheConfig, CacheConfig>;
