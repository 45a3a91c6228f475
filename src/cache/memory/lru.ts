/**
 * Entries of the embedded cache in least-recently-used order: a doubly linked list threaded
 * through the entries themselves, so a read moves its entry to the front without allocating.
 */
export class Entry {
  /** Toward the least recently used end. */
  older: Entry | undefined = undefined;
  /** Toward the most recently used end. */
  newer: Entry | undefined = undefined;

  constructor(
    /** The key space that holds the entry (values or rate-limit counters). */
    readonly space: Map<string, Entry>,
    readonly key: string,
    /** JSON text of a value ("" for a counter). */
    public text: string,
    /** A rate-limit counter's count in its window (0 for a value). */
    public count: number,
    /** Deadline in ms since the epoch; 0 for none. */
    public expiresAt: number,
    public bytes: number,
  ) {}
}

/** Rough cost of an entry beyond its strings: the object, its map slot and the list links. */
export const entryOverhead = 128;

/** Estimated bytes of an entry: strings count two bytes per code unit (V8's wide form). */
export function entryBytes(key: string, text: string): number {
  return entryOverhead + 2 * (key.length + text.length);
}

export class Lru {
  /** Sum of the entries' estimated bytes. */
  bytes = 0;
  private newest: Entry | undefined = undefined;
  private oldest: Entry | undefined = undefined;

  add(entry: Entry): void {
    this.bytes += entry.bytes;
    this.linkNewest(entry);
  }

  remove(entry: Entry): void {
    this.bytes -= entry.bytes;
    this.unlink(entry);
  }

  resize(entry: Entry, bytes: number): void {
    this.bytes += bytes - entry.bytes;
    entry.bytes = bytes;
  }

  /** Mark as just used. */
  touch(entry: Entry): void {
    if (this.newest === entry) return;
    this.unlink(entry);
    this.linkNewest(entry);
  }

  leastRecent(): Entry | undefined {
    return this.oldest;
  }

  clear(): void {
    this.newest = this.oldest = undefined;
    this.bytes = 0;
  }

  private linkNewest(entry: Entry): void {
    entry.older = this.newest;
    entry.newer = undefined;
    if (this.newest !== undefined) this.newest.newer = entry;
    else this.oldest = entry;
    this.newest = entry;
  }

  private unlink(entry: Entry): void {
    if (entry.older !== undefined) entry.older.newer = entry.newer;
    else this.oldest = entry.newer;
    if (entry.newer !== undefined) entry.newer.older = entry.older;
    else this.newest = entry.older;
    entry.older = entry.newer = undefined;
  }
}
