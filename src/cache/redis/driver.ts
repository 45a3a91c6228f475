import { CairnError } from "../../sdk/errors.js";
import type { Clock } from "../../shared/clock.js";
import type { CacheDriver, CacheDriverOptions } from "../driver.js";
import { invalidArgument } from "../limits.js";
import type { CacheLock, RateLimitResult } from "../types.js";
import type { RedisConnection, RedisConnectionOptions, ScriptedRedis } from "./connection.js";
import { acquireRedisConnection } from "./shared.js";
import { checkRedisUrl } from "./url.js";

export interface RedisCacheOptions extends CacheDriverOptions {
  /** redis://[[user]:password@]host[:port][/db], or rediss:// for TLS. */
  url: string;
  /** What every key of this cache starts with, such as "cairn:shop:". */
  prefix: string;
  connection?: RedisConnectionOptions;
}

/**
 * How long after an entry's deadline Redis itself removes it (PXAT). The deadline stored with
 * the entry is what decides expiry; the backstop only reclaims memory, late enough that a Redis
 * clock running a little ahead of the nodes' never removes a live lock or rate-limit window.
 */
export const expiryGraceMs = 1000;

/** A cache in Redis, over this process's shared connection to `url`. */
export async function openRedisCache(options: RedisCacheOptions): Promise<RedisCacheDriver> {
  const url = checkRedisUrl(options.url);
  const { connection, release } = await acquireRedisConnection(url, options.connection);
  return new RedisCacheDriver(connection, release, options.prefix, options.clock);
}

/**
 * The scale-out cache: one Redis (or a primary with replicas behind one name) shared by every node.
 * Keys of a cache are `<prefix>v:<key>` (values), `<prefix>r:<key>` (rate-limit windows),
 * `<prefix>l:<key>` (locks) and `<prefix>fence` (the fencing counter). Each operation is one
 * atomic command: GET, MGET and SET directly, the others a Lua script (scripts.ts).
 */
export class RedisCacheDriver implements CacheDriver {
  private readonly client: ScriptedRedis;
  private readonly values: string;
  private readonly counters: string;
  private readonly locks: string;
  private readonly fence: string;
  private readonly fail: (error: unknown) => never;
  private closed = false;

  constructor(
    readonly connection: RedisConnection,
    private readonly release: () => Promise<void>,
    readonly prefix: string,
    private readonly clock: Clock,
  ) {
    this.client = connection.client;
    this.fail = connection.fail;
    this.values = `${prefix}v:`;
    this.counters = `${prefix}r:`;
    this.locks = `${prefix}l:`;
    this.fence = `${prefix}fence`;
  }

  /** Settles once the first connection attempt ended, whether or not it succeeded. */
  connected(): Promise<void> {
    return this.connection.started;
  }

  get(key: string): Promise<string | undefined> {
    const wait = this.wait();
    if (wait !== undefined) return wait.then(() => this.get(key));
    const now = this.clock.now();
    return this.client.get(this.values + key).then((raw) => liveText(raw, now), this.fail);
  }

  getMany(keys: string[]): Promise<Array<string | undefined>> {
    const wait = this.wait();
    if (wait !== undefined) return wait.then(() => this.getMany(keys));
    if (keys.length === 0) return Promise.resolve([]);
    const now = this.clock.now();
    return this.client
      .mget(keys.map((key) => this.values + key))
      .then((raws) => raws.map((raw) => liveText(raw, now)), this.fail);
  }

  set(key: string, json: string, ttlMs: number | undefined): Promise<void> {
    const wait = this.wait();
    if (wait !== undefined) return wait.then(() => this.set(key, json, ttlMs));
    const done = () => undefined;
    if (ttlMs === undefined) return this.client.set(this.values + key, `0:${json}`).then(done, this.fail);
    const deadline = this.clock.now() + ttlMs;
    return this.client
      .set(this.values + key, `${deadline}:${json}`, "PXAT", deadline + expiryGraceMs)
      .then(done, this.fail);
  }

  setIfAbsent(key: string, json: string, ttlMs: number | undefined): Promise<boolean> {
    const wait = this.wait();
    if (wait !== undefined) return wait.then(() => this.setIfAbsent(key, json, ttlMs));
    const now = this.clock.now();
    const deadline = ttlMs === undefined ? 0 : now + ttlMs;
    const pxat = ttlMs === undefined ? "" : deadline + expiryGraceMs;
    return this.client
      .cairnSetIfAbsent(this.values + key, now, `${deadline}:${json}`, pxat)
      .then((stored) => stored === 1, this.fail);
  }

  delete(key: string): Promise<boolean> {
    const wait = this.wait();
    if (wait !== undefined) return wait.then(() => this.delete(key));
    return this.client
      .cairnDelete(this.values + key, this.clock.now())
      .then((deleted) => deleted === 1, this.fail);
  }

  increment(key: string, by: number): Promise<number> {
    const wait = this.wait();
    if (wait !== undefined) return wait.then(() => this.increment(key, by));
    return this.client.cairnIncrement(this.values + key, this.clock.now(), by).then(([status, sum]) => {
      if (status === 1) return Number(sum);
      if (status === 0) {
        throw new CairnError(
          "not_a_number",
          `the value at "${key}" is not an integer, so it cannot be incremented`,
        );
      }
      throw invalidArgument(`incrementing "${key}" by ${by} would leave the safe integer range (±2^53)`);
    }, this.fail);
  }

  rateLimit(key: string, limit: number, windowMs: number): Promise<RateLimitResult> {
    const wait = this.wait();
    if (wait !== undefined) return wait.then(() => this.rateLimit(key, limit, windowMs));
    const now = this.clock.now();
    return this.client.cairnRateLimit(this.counters + key, now, limit, now + windowMs, expiryGraceMs).then(
      ([allowed, count, resetAt]) => ({
        allowed: allowed === 1,
        remaining: Math.max(0, limit - count),
        resetAt,
      }),
      this.fail,
    );
  }

  lock(key: string, ttlMs: number): Promise<CacheLock | undefined> {
    const wait = this.wait();
    if (wait !== undefined) return wait.then(() => this.lock(key, ttlMs));
    const now = this.clock.now();
    const expiresAt = now + ttlMs;
    return this.client
      .cairnLock(this.locks + key, this.fence, now, expiresAt, expiresAt + expiryGraceMs)
      .then((token) => (token === null ? undefined : { token: Number(token), expiresAt }), this.fail);
  }

  unlock(key: string, token: number): Promise<boolean> {
    const wait = this.wait();
    if (wait !== undefined) return wait.then(() => this.unlock(key, token));
    return this.client
      .cairnUnlock(this.locks + key, this.clock.now(), token)
      .then((released) => released === 1, this.fail);
  }

  extendLock(key: string, token: number, ttlMs: number): Promise<CacheLock | undefined> {
    const wait = this.wait();
    if (wait !== undefined) return wait.then(() => this.extendLock(key, token, ttlMs));
    const now = this.clock.now();
    const expiresAt = now + ttlMs;
    return this.client
      .cairnExtendLock(this.locks + key, now, token, expiresAt, expiresAt + expiryGraceMs)
      .then((extended) => (extended === 1 ? { token, expiresAt } : undefined), this.fail);
  }

  /**
   * The Redis server's size as operators see it: keys in the database and memory in use (shared by
   * every app on that Redis; counting one app's keys would mean scanning them all).
   */
  async serverStats(): Promise<{ keys: number; bytes: number; maxBytes?: number }> {
    const [keys, info] = await Promise.all([this.client.dbsize(), this.client.info("memory")]);
    const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, "m").exec(info)?.[1] ?? NaN);
    const maxBytes = field("maxmemory");
    return { keys, bytes: field("used_memory"), ...(maxBytes > 0 && { maxBytes }) };
  }

  /** Releases this cache's share of the connection (which closes with its last user). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.release();
  }

  /**
   * Undefined when a command can go out now. Until the first connection attempt ends, calls wait
   * for it (a node that just started should not fail its first requests); after that, a call
   * while Redis is unreachable fails at once, because the client keeps no offline queue.
   */
  private wait(): Promise<void> | undefined {
    if (this.closed) return Promise.reject(new CairnError("shutting_down", "this cache is closed"));
    return this.connection.starting ? this.connection.started : undefined;
  }
}

/** The JSON text of a stored `<deadline>:<json>` that has not expired at `now`. */
function liveText(raw: string | null, now: number): string | undefined {
  if (raw === null) return undefined;
  const colon = raw.indexOf(":");
  if (colon === 1 && raw.charCodeAt(0) === 48) return raw.slice(2); // "0:": no deadline
  if (colon < 1) return undefined;
  return Number(raw.slice(0, colon)) > now ? raw.slice(colon + 1) : undefined;
}
