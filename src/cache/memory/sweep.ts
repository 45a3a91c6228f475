/**
 * Visits a few entries of some maps per call, continuing where the last call stopped, so expired
 * entries nobody reads again are found without ever walking everything at once. Map iterators stay
 * valid while entries are deleted and added, which is what makes resuming safe.
 */
export class Sweeper<T> {
  private index = 0;
  private cursor: Iterator<T> | undefined = undefined;

  constructor(private readonly maps: ReadonlyArray<Map<string, T>>) {}

  /** Calls `visit` on up to `limit` entries; one call makes at most one pass over all maps. */
  visit(limit: number, visit: (item: T) => void): number {
    let seen = 0;
    while (seen < limit) {
      this.cursor ??= this.maps[this.index]!.values();
      const next = this.cursor.next();
      if (next.done === true) {
        this.cursor = undefined;
        this.index = (this.index + 1) % this.maps.length;
        if (this.index === 0) break;
        continue;
      }
      seen++;
      visit(next.value);
    }
    return seen;
  }
}
