/**
 * A map from small non-negative integer ids (handed out in increasing order) to the work in flight
 * under them: invocations, calls, streams. It stands in for a `Map` on paths where entries come and
 * go thousands of times a second. A `Map` that lives long enough to reach V8's old generation
 * chains every table it outgrows to the table that replaced it (so that live iterators can follow),
 * and the scavenger treats a dead old table's pointers as live: each replacement table, with the
 * entries it held, survived and was promoted, until the next full collection. Measured on the
 * host's main thread under a hello-world load, that promoted about 2 KB of every request and made
 * scavenges five times as long; a dictionary-mode object keeps no such chain.
 */
export class IdMap<V> {
  private entries: Record<number, V> = Object.create(null) as Record<number, V>;
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(id: number): V | undefined {
    return this.entries[id];
  }

  has(id: number): boolean {
    return id in this.entries;
  }

  set(id: number, value: V): this {
    if (!(id in this.entries)) this.count++;
    this.entries[id] = value;
    return this;
  }

  delete(id: number): boolean {
    if (!(id in this.entries)) return false;
    delete this.entries[id];
    this.count--;
    return true;
  }

  clear(): void {
    this.entries = Object.create(null) as Record<number, V>;
    this.count = 0;
  }

  /** In increasing order of id, which is the order they were added in. */
  *values(): IterableIterator<V> {
    for (const key in this.entries) yield this.entries[key as unknown as number]!;
  }

  *[Symbol.iterator](): IterableIterator<[number, V]> {
    for (const key in this.entries) yield [Number(key), this.entries[key as unknown as number]!];
  }
}
