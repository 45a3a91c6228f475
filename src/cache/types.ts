/**
 * The cache API (the Redis / ElastiCache role), as functions see it on `ctx.cache`. A cache is never
 * the only copy of anything: an entry may disappear at any moment (eviction under the memory bound,
 * a restart of the embedded cache), so every value must be recomputable from durable state.
 *
 * Values are JSON: null, booleans, finite numbers, strings, arrays and plain objects. What `get`
 * returns is a fresh copy, never the object that was `set`. Values, rate-limit counters and locks
 * are three separate key spaces: `lock("a")` never touches the value stored at "a".
 */
import type { Duration } from "../shared/duration.js";

export interface CacheSetOptions {
  /** Time to live; omit it for no expiry. A `set` without a ttl removes an earlier one. */
  ttl?: Duration;
}

export interface RateLimitOptions {
  /** Requests allowed per window (an integer of at least 1). */
  limit: number;
  /** Length of the window. */
  window: Duration;
}

export interface RateLimitResult {
  /** Whether this request fits in the window (a refused request is not counted). */
  allowed: boolean;
  /** Requests still allowed in the current window. */
  remaining: number;
  /** When the current window closes and the count starts again, in ms since the epoch. */
  resetAt: number;
}

export interface CacheLockOptions {
  /** How long the lock is held unless it is released or extended first. */
  ttl: Duration;
}

export interface CacheLock {
  /**
   * Fencing token: strictly greater than every token handed out before for the same key. Pass it
   * to the resource the lock protects, which refuses writes carrying a token lower than one it saw.
   */
  token: number;
  /** When the lock expires, in ms since the epoch. */
  expiresAt: number;
}

export interface Cache {
  /** The value, or undefined when the key is missing or expired. */
  get<T = unknown>(key: string): Promise<T | undefined>;
  /** Values in the order of `keys` (at most 100), undefined for each miss. */
  getMany<T = unknown>(keys: readonly string[]): Promise<Array<T | undefined>>;
  /** Store a value; without `ttl` the key never expires (and loses any ttl it had). */
  set(key: string, value: unknown, options?: CacheSetOptions): Promise<void>;
  /** Store a value only if the key is missing (or expired); true when this call stored it. */
  setIfAbsent(key: string, value: unknown, options?: CacheSetOptions): Promise<boolean>;
  /** Remove a key; true when it existed. */
  delete(key: string): Promise<boolean>;
  /**
   * Add `by` (an integer, default 1) to the integer at `key` atomically and return the new value.
   * A missing key counts as 0 and gets no ttl; an existing ttl is kept. A value that is not an
   * integer fails with `not_a_number`.
   */
  increment(key: string, by?: number): Promise<number>;
  /**
   * Count one request against a fixed window of `limit` requests. The window opens with the first
   * request and lasts `window`; when it closes the count starts again from zero.
   */
  rateLimit(key: string, options: RateLimitOptions): Promise<RateLimitResult>;
  /** Take the lock `key` for `ttl`; undefined while someone else holds it. */
  lock(key: string, options: CacheLockOptions): Promise<CacheLock | undefined>;
  /** Release the lock if `token` is the current holder's; false otherwise (expired or taken over). */
  unlock(key: string, token: number): Promise<boolean>;
  /** Push the expiry of a held lock to `ttl` from now; undefined if `token` no longer holds it. */
  extendLock(key: string, token: number, options: CacheLockOptions): Promise<CacheLock | undefined>;
}

/** The optional `cache` section of cairn.config.ts. */
export interface CacheConfig {
  /**
   * Memory the embedded cache may use, by an estimate of bytes (default 64 MB, at least 4 MB).
   * Beyond it the least recently used entries are evicted. A cache on Redis (CAIRN_REDIS_URL)
   * ignores it: Redis's maxmemory settings govern there.
   */
  maxBytes?: number;
}
