import { CairnError } from "../../sdk/errors.js";
import type { Clock } from "../../shared/clock.js";
import type { CacheDriver, CacheDriverOptions } from "../driver.js";
import { invalidArgument } from "../limits.js";
import type { CacheLock, RateLimitResult } from "../types.js";
import { LockTable, type Held } from "./locks.js";
import { Entry, entryBytes, Lru } from "./lru.js";
import { Sweeper } from "./sweep.js";

export interface MemoryCacheOptions extends CacheDriverOptions {
  /** Memory bound by an estimate of bytes; least recently used entries go first beyond it. */
  maxBytes: number;
  /** How often a slice of the entries is checked for expiry (ms; 0: only on access). Default 1 s. */
  sweepIntervalMs?: number;
}

/** Entries a periodic sweep looks at. */
const sweepSlice = 1000;

/**
 * The embedded cache: in this process's memory, bounded by `maxBytes`, answering synchronously.
 * Expiry is checked on every access; a periodic sweep removes expired entries nobody reads.
 */
export class MemoryCacheDriver implements CacheDriver {
  private maxBytes: number;
  private readonly clock: Clock;
  private readonly values = new Map<string, Entry>();
  private readonly counters = new Map<string, Entry>();
  private readonly lru = new Lru();
  private readonly locks: LockTable;
  private readonly entrySweeper = new Sweeper([this.values, this.counters]);
  private readonly lockSweeper: Sweeper<Held>;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(options: MemoryCacheOptions) {
    this.clock = options.clock;
    this.maxBytes = options.maxBytes;
    this.locks = new LockTable(this.clock, (bytes) => this.reserve(bytes));
    this.lockSweeper = new Sweeper([this.locks.held]);
    const interval = options.sweepIntervalMs ?? 1000;
    if (interval > 0) {
      this.timer = setInterval(() => this.purgeExpired(sweepSlice), interval);
      this.timer.unref();
    }
  }

  get(key: string): string | undefined {
    const entry = this.live(this.values, key);
    if (entry === undefined) return undefined;
    this.lru.touch(entry);
    return entry.text;
  }

  getMany(keys: string[]): Array<string | undefined> {
    return keys.map((key) => this.get(key));
  }

  set(key: string, json: string, ttlMs: number | undefined): void {
    const expiresAt = ttlMs === undefined ? 0 : this.clock.now() + ttlMs;
    const entry = this.values.get(key);
    if (entry === undefined) {
      this.insert(new Entry(this.values, key, json, 0, expiresAt, entryBytes(key, json)));
      return;
    }
    entry.text = json;
    entry.expiresAt = expiresAt;
    this.lru.resize(entry, entryBytes(key, json));
    this.lru.touch(entry);
    this.fit();
  }

  setIfAbsent(key: string, json: string, ttlMs: number | undefined): boolean {
    if (this.live(this.values, key) !== undefined) return false;
    this.set(key, json, ttlMs);
    return true;
  }

  delete(key: string): boolean {
    const entry = this.live(this.values, key);
    if (entry === undefined) return false;
    this.drop(entry);
    return true;
  }

  increment(key: string, by: number): number {
    const entry = this.live(this.values, key);
    if (entry === undefined) {
      this.set(key, String(by), undefined);
      return by;
    }
    const current = integerOf(entry.text);
    if (current === undefined) {
      throw new CairnError(
        "not_a_number",
        `the value at "${key}" is not an integer, so it cannot be incremented`,
      );
    }
    const next = current + by;
    if (!Number.isSafeInteger(next)) {
      throw invalidArgument(`incrementing "${key}" by ${by} would leave the safe integer range (±2^53)`);
    }
    entry.text = String(next);
    this.lru.resize(entry, entryBytes(key, entry.text));
    this.lru.touch(entry);
    this.fit();
    return next;
  }

  rateLimit(key: string, limit: number, windowMs: number): RateLimitResult {
    let entry = this.live(this.counters, key);
    if (entry === undefined) {
      entry = new Entry(this.counters, key, "", 0, this.clock.now() + windowMs, entryBytes(key, ""));
      this.insert(entry);
    } else {
      this.lru.touch(entry);
    }
    const allowed = entry.count < limit;
    if (allowed) entry.count++;
    return { allowed, remaining: Math.max(0, limit - entry.count), resetAt: entry.expiresAt };
  }

  lock(key: string, ttlMs: number): CacheLock | undefined {
    return this.locks.lock(key, ttlMs);
  }

  unlock(key: string, token: number): boolean {
    return this.locks.unlock(key, token);
  }

  extendLock(key: string, token: number, ttlMs: number): CacheLock | undefined {
    return this.locks.extend(key, token, ttlMs);
  }

  /** Changes the memory bound, evicting at once if it shrank. */
  resize(maxBytes: number): void {
    this.maxBytes = maxBytes;
    this.fit();
  }

  /** Removes expired entries among the next `limit` of each kind; returns how many were looked at. */
  purgeExpired(limit = Number.POSITIVE_INFINITY): number {
    const now = this.clock.now();
    const seen = this.entrySweeper.visit(limit, (entry) => {
      if (entry.expiresAt !== 0 && entry.expiresAt <= now) this.drop(entry);
    });
    return seen + this.lockSweeper.visit(limit, (held) => this.locks.purge(held, now));
  }

  /** What the cache holds now (expired entries not yet purged included). */
  stats(): { entries: number; locks: number; bytes: number; maxBytes: number } {
    return {
      entries: this.values.size + this.counters.size,
      locks: this.locks.held.size,
      bytes: this.lru.bytes + this.locks.bytes,
      maxBytes: this.maxBytes,
    };
  }

  close(): void {
    clearInterval(this.timer);
    this.values.clear();
    this.counters.clear();
    this.lru.clear();
    this.locks.clear();
  }

  /** The entry at `key` unless it expired (an expired one is removed on the way). */
  private live(space: Map<string, Entry>, key: string): Entry | undefined {
    const entry = space.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt !== 0 && entry.expiresAt <= this.clock.now()) {
      this.drop(entry);
      return undefined;
    }
    return entry;
  }

  private insert(entry: Entry): void {
    entry.space.set(entry.key, entry);
    this.lru.add(entry);
    this.fit();
  }

  private drop(entry: Entry): void {
    entry.space.delete(entry.key);
    this.lru.remove(entry);
  }

  /** Evicts least recently used entries until the bound holds (an entry larger than it is not kept). */
  private fit(): void {
    while (this.lru.bytes + this.locks.bytes > this.maxBytes) {
      const oldest = this.lru.leastRecent();
      if (oldest === undefined) return;
      this.drop(oldest);
    }
  }

  /** Makes room for `bytes` more outside the LRU list (a lock); false when values cannot free it. */
  private reserve(bytes: number): boolean {
    while (this.lru.bytes + this.locks.bytes + bytes > this.maxBytes) {
      const oldest = this.lru.leastRecent();
      if (oldest === undefined) return false;
      this.drop(oldest);
    }
    return true;
  }
}

/** The number a value's JSON text holds, if it is a safe integer (as INCRBY would accept). */
function integerOf(text: string): number | undefined {
  if (!/^-?(?:0|[1-9]\d{0,15})$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}
