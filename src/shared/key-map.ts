/**
 * A map from string keys to values that come and go many times a second on a long-lived host
 * object (a run's write chain, the callers waiting for a run). Backed by a dictionary-mode object
 * instead of a `Map` for the reason given at IdMap: a long-lived `Map` with that much churn kept
 * every table it outgrew, and their entries, alive through every scavenge. Not iterable: its users
 * only look keys up.
 */
export class KeyMap<V> {
  private readonly entries: Record<string, V> = Object.create(null) as Record<string, V>;

  get(key: string): V | undefined {
    return this.entries[key];
  }

  set(key: string, value: V): this {
    this.entries[key] = value;
    return this;
  }

  delete(key: string): boolean {
    if (!(key in this.entries)) return false;
    delete this.entries[key];
    return true;
  }
}
