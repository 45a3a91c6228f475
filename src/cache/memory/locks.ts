import { CairnError } from "../../sdk/errors.js";
import type { Clock } from "../../shared/clock.js";
import type { CacheLock } from "../types.js";
import { entryOverhead } from "./lru.js";

export interface Held {
  key: string;
  token: number;
  expiresAt: number;
  bytes: number;
}

/**
 * Leases with fencing tokens. Held locks are never evicted (that would hand the lock to a second
 * holder); they count against the memory bound, and when values cannot be evicted to make room a
 * new lock fails with `cache_full`. Tokens come from one counter that only grows.
 */
export class LockTable {
  readonly held = new Map<string, Held>();
  bytes = 0;
  private fence = 0;

  constructor(
    private readonly clock: Clock,
    /** Frees memory for `bytes` more; false when that is impossible. */
    private readonly reserve: (bytes: number) => boolean,
  ) {}

  lock(key: string, ttlMs: number): CacheLock | undefined {
    const now = this.clock.now();
    const current = this.held.get(key);
    if (current !== undefined) {
      if (current.expiresAt > now) return undefined;
      this.release(current);
    }
    const bytes = entryOverhead + 2 * key.length;
    if (!this.reserve(bytes)) {
      throw new CairnError("cache_full", "the cache is full of held locks; release some or lower their ttl", {
        retryable: true,
      });
    }
    const lock = { token: ++this.fence, expiresAt: now + ttlMs };
    this.held.set(key, { key, token: lock.token, expiresAt: lock.expiresAt, bytes });
    this.bytes += bytes;
    return lock;
  }

  unlock(key: string, token: number): boolean {
    const current = this.current(key);
    if (current === undefined || current.token !== token) return false;
    this.release(current);
    return true;
  }

  extend(key: string, token: number, ttlMs: number): CacheLock | undefined {
    const current = this.current(key);
    if (current === undefined || current.token !== token) return undefined;
    current.expiresAt = this.clock.now() + ttlMs;
    return { token, expiresAt: current.expiresAt };
  }

  /** Drops the lock if its lease ran out. */
  purge(held: Held, now: number): void {
    if (held.expiresAt <= now) this.release(held);
  }

  clear(): void {
    this.held.clear();
    this.bytes = 0;
  }

  private current(key: string): Held | undefined {
    const held = this.held.get(key);
    if (held === undefined) return undefined;
    if (held.expiresAt > this.clock.now()) return held;
    this.release(held);
    return undefined;
  }

  private release(held: Held): void {
    this.held.delete(held.key);
    this.bytes -= held.bytes;
  }
}
