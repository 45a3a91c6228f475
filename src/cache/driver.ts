/**
 * What a cache backend implements. The service checks every argument before a driver sees it
 * (keys, sizes, ttls, integers), so a driver only stores and answers. Values arrive and leave as
 * JSON text (`json`); a driver never parses them, except to add to an integer in `increment`.
 *
 * The contract is the one Redis can keep, so that a Redis driver passes the same conformance suite
 * (test/conformance/cache) as the memory driver:
 *
 * - Every answer may be a promise. The embedded driver answers synchronously, which spares a host
 *   call a promise; callers must accept either.
 * - Time comes from the driver's `Clock`, never from the backend: a Redis driver passes `now` into
 *   its Lua scripts and keeps each entry's absolute deadline beside it (setting PEXPIREAT as well,
 *   so Redis reclaims the memory), which is what lets the suite move time with a manual clock.
 *   Across nodes, expiry is then as exact as the nodes' clocks agree.
 * - `ttlMs` is relative to now, a whole number of milliseconds (PX semantics). `set` without a ttl
 *   removes an existing one; `increment` keeps it (as SET and INCRBY do).
 * - Values, rate-limit counters and locks are three key spaces (in Redis, three key prefixes).
 * - An expired entry is never returned, whatever its physical state.
 * - Fencing tokens come from one counter per cache that only grows (INCR of one key), so they
 *   strictly increase across acquisitions of a lock, even after it expired or was evicted. (The
 *   Redis driver restarts a counter that Redis lost from the clock, in ms × 1,000.)
 */
import type { Clock } from "../shared/clock.js";
import type { CacheLock, RateLimitResult } from "./types.js";

export type Awaitable<T> = T | Promise<T>;

export interface CacheDriver {
  /** JSON text of the value, or undefined when missing or expired. */
  get(key: string): Awaitable<string | undefined>;
  getMany(keys: string[]): Awaitable<Array<string | undefined>>;
  set(key: string, json: string, ttlMs: number | undefined): Awaitable<void>;
  /** SET NX: true when stored. */
  setIfAbsent(key: string, json: string, ttlMs: number | undefined): Awaitable<boolean>;
  delete(key: string): Awaitable<boolean>;
  /**
   * INCRBY: a missing key starts at 0 without a ttl; an existing ttl is kept. Fails with
   * `not_a_number` when the value is not a safe integer, and with `invalid_argument` when the sum
   * would leave the safe integer range; in both cases nothing changes.
   */
  increment(key: string, by: number): Awaitable<number>;
  /** Fixed window opened by the first request: allowed while the window's count is below `limit`. */
  rateLimit(key: string, limit: number, windowMs: number): Awaitable<RateLimitResult>;
  /** Take the lock if nobody holds it (or the holder's lease expired), with a fresh fencing token. */
  lock(key: string, ttlMs: number): Awaitable<CacheLock | undefined>;
  /** Release if `token` holds the lock now. */
  unlock(key: string, token: number): Awaitable<boolean>;
  /** Move the expiry to now + ttl if `token` holds the lock now. */
  extendLock(key: string, token: number, ttlMs: number): Awaitable<CacheLock | undefined>;
  close(): Awaitable<void>;
}

export interface CacheDriverOptions {
  clock: Clock;
}
