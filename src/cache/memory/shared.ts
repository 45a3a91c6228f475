import type { Clock } from "../../shared/clock.js";
import { MemoryCacheDriver } from "./driver.js";

interface Shared {
  driver: MemoryCacheDriver;
  users: number;
}

const open = new Map<string, Shared>();

/**
 * The embedded cache of one app's data folder, shared by every deployment of the app in this
 * process. A reload opens the new deployment's services before the old ones close, so the cache
 * (its values, its held locks and its fencing counter) carries over instead of starting empty
 * beside the old one. The driver closes when its last user releases it.
 */
export function acquireMemoryCache(
  id: string,
  options: { clock: Clock; maxBytes: number },
): { driver: MemoryCacheDriver; release: () => void } {
  let shared = open.get(id);
  if (shared === undefined) {
    shared = { driver: new MemoryCacheDriver(options), users: 0 };
    open.set(id, shared);
  } else {
    shared.driver.resize(options.maxBytes);
  }
  shared.users++;
  const entry = shared;
  let released = false;
  return {
    driver: entry.driver,
    release: () => {
      if (released) return;
      released = true;
      if (--entry.users > 0) return;
      open.delete(id);
      entry.driver.close();
    },
  };
}
