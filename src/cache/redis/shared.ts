import { loadIoredis, RedisConnection, type RedisConnectionOptions } from "./connection.js";

interface Shared {
  connection: RedisConnection;
  users: number;
}

const open = new Map<string, Shared>();

/**
 * The connection to one Redis URL, shared by every app (and every deployment of an app) in this
 * process: one TCP connection per node and URL, whose commands are pipelined. It closes when its
 * last user releases it. The first user's log hears about outages.
 */
export async function acquireRedisConnection(
  url: string,
  options: RedisConnectionOptions = {},
): Promise<{ connection: RedisConnection; release: () => Promise<void> }> {
  const RedisClient = await loadIoredis();
  // From here on synchronous: two acquisitions of one URL cannot both create a connection.
  const { log: _log, ...settings } = options;
  const id = `${url}\n${JSON.stringify(settings)}`;
  let shared = open.get(id);
  if (shared === undefined) {
    shared = { connection: new RedisConnection(RedisClient, url, options), users: 0 };
    open.set(id, shared);
  }
  shared.users++;
  const entry = shared;
  let released = false;
  return {
    connection: entry.connection,
    release: async () => {
      if (released) return;
      released = true;
      if (--entry.users > 0) return;
      open.delete(id);
      await entry.connection.close();
    },
  };
}
