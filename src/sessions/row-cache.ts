import type { Store } from "../store/types.js";

/** A session row as stored, kept with its JSON so a hit answers without serializing anything. */
export interface CachedRow {
  json: string;
  subject: string;
  /** Epoch seconds: the row's own expiry. */
  expiresAt: number;
  /** performance.now() after which the entry must be read again. */
  until: number;
}

const maxEntries = 100_000;

/**
 * Recently read session rows of one app in this process, so that checking a busy session does not
 * read the store on every request. Entries live `cacheTtl` (1 s by default); revoke, revokeAll and
 * renew in this process remove theirs at once. Other nodes see a revocation when their entry runs
 * out, which is why the ttl is short. One cache per store, so a hot reload's old and new
 * deployments of an app share it and a revocation through either is seen by both.
 */
export class RowCache {
  private readonly rows = new Map<string, CachedRow>();

  get(id: string): CachedRow | undefined {
    const row = this.rows.get(id);
    if (row === undefined) return undefined;
    if (row.until <= performance.now()) {
      this.rows.delete(id);
      return undefined;
    }
    return row;
  }

  set(id: string, json: string, subject: string, expiresAt: number, ttlMs: number): void {
    if (ttlMs <= 0) return;
    if (this.rows.size >= maxEntries) {
      let drop = maxEntries / 10;
      for (const key of this.rows.keys()) {
        this.rows.delete(key);
        if (--drop === 0) break;
      }
    }
    this.rows.set(id, { json, subject, expiresAt, until: performance.now() + ttlMs });
  }

  delete(id: string): void {
    this.rows.delete(id);
  }
}

const caches = new WeakMap<Store, RowCache>();

/** The cache of the app whose store this is. */
export function rowCacheFor(store: Store): RowCache {
  let cache = caches.get(store);
  if (cache === undefined) {
    cache = new RowCache();
    caches.set(store, cache);
  }
  return cache;
}
