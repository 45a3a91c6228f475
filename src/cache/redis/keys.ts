import type { Redis } from "ioredis";

/** What every app's keys start with unless CAIRN_REDIS_PREFIX says otherwise. */
export const defaultRedisPrefix = "cairn:";

/**
 * The key prefix of one app's cache: `<CAIRN_REDIS_PREFIX or "cairn:"><app>:`. The app name is
 * URI-encoded, so a name holding ":" cannot reach into another app's keys.
 */
export function appCachePrefix(app: string, env: NodeJS.ProcessEnv): string {
  return `${env.CAIRN_REDIS_PREFIX ?? defaultRedisPrefix}${encodeURIComponent(app)}:`;
}

/**
 * Deletes every key that starts with `prefix` (SCAN + UNLINK, a batch at a time, so Redis never
 * blocks on a long walk); answers how many went. For tests and tools, never on a request's path.
 */
export async function deleteKeysWithPrefix(client: Redis, prefix: string): Promise<number> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, "\\$&")}*`;
  let cursor = "0";
  let deleted = 0;
  do {
    const [next, keys] = await client.scan(cursor, "MATCH", pattern, "COUNT", 1000);
    if (keys.length > 0) deleted += await client.unlink(...keys);
    cursor = next;
  } while (cursor !== "0");
  return deleted;
}
