/**
 * `ctx.cache` inside an instance. Each method is one host call: values are encoded to JSON text
 * here, so only strings and numbers cross the thread boundary (nothing that postMessage could fail
 * to clone) and the host never parses a value; `get` parses the text it gets back.
 */
import { checkInteger, checkKeys, durationMs } from "../../cache/limits.js";
import type {
  Cache,
  CacheLock,
  CacheLockOptions,
  RateLimitOptions,
  RateLimitResult,
  CacheSetOptions,
} from "../../cache/types.js";
import { encodeValue } from "../../cache/values.js";
import { CairnError } from "../../sdk/errors.js";
import { registerClient, type HostCall } from "./index.js";

export function createCacheClient(call: HostCall): Cache {
  return {
    get<T>(key: string): Promise<T | undefined> {
      if (typeof key !== "string") return Promise.reject(notAKey(key));
      return call("cache.get", [key]).then(decode) as Promise<T | undefined>;
    },

    getMany<T>(keys: readonly string[]): Promise<Array<T | undefined>> {
      try {
        return call("cache.getMany", [checkKeys(keys)]).then(decodeAll) as Promise<Array<T | undefined>>;
      } catch (error) {
        return rejected(error);
      }
    },

    set(key: string, value: unknown, options?: CacheSetOptions): Promise<void> {
      return write(call, "cache.set", key, value, options) as Promise<void>;
    },

    setIfAbsent(key: string, value: unknown, options?: CacheSetOptions): Promise<boolean> {
      return write(call, "cache.setIfAbsent", key, value, options) as Promise<boolean>;
    },

    delete(key: string): Promise<boolean> {
      if (typeof key !== "string") return Promise.reject(notAKey(key));
      return call("cache.delete", [key]) as Promise<boolean>;
    },

    increment(key: string, by = 1): Promise<number> {
      if (typeof key !== "string") return Promise.reject(notAKey(key));
      try {
        return call("cache.increment", [key, checkInteger(by, "by")]) as Promise<number>;
      } catch (error) {
        return rejected(error);
      }
    },

    rateLimit(key: string, options: RateLimitOptions): Promise<RateLimitResult> {
      if (typeof key !== "string") return Promise.reject(notAKey(key));
      try {
        const limit = checkInteger(options?.limit, "limit", 1);
        const windowMs = durationMs(options?.window, "window");
        return call("cache.rateLimit", [key, limit, windowMs]) as Promise<RateLimitResult>;
      } catch (error) {
        return rejected(error);
      }
    },

    lock(key: string, options: CacheLockOptions): Promise<CacheLock | undefined> {
      if (typeof key !== "string") return Promise.reject(notAKey(key));
      try {
        return call("cache.lock", [key, durationMs(options?.ttl, "ttl")]) as Promise<CacheLock | undefined>;
      } catch (error) {
        return rejected(error);
      }
    },

    unlock(key: string, token: number): Promise<boolean> {
      if (typeof key !== "string") return Promise.reject(notAKey(key));
      try {
        return call("cache.unlock", [key, checkInteger(token, "token")]) as Promise<boolean>;
      } catch (error) {
        return rejected(error);
      }
    },

    extendLock(key: string, token: number, options: CacheLockOptions): Promise<CacheLock | undefined> {
      if (typeof key !== "string") return Promise.reject(notAKey(key));
      try {
        const args = [key, checkInteger(token, "token"), durationMs(options?.ttl, "ttl")];
        return call("cache.extendLock", args) as Promise<CacheLock | undefined>;
      } catch (error) {
        return rejected(error);
      }
    },
  };
}

function write(
  call: HostCall,
  operation: string,
  key: string,
  value: unknown,
  options: CacheSetOptions | undefined,
): Promise<unknown> {
  if (typeof key !== "string") return Promise.reject(notAKey(key));
  try {
    const json = encodeValue(value);
    const ttl = options?.ttl;
    return call(operation, ttl === undefined ? [key, json] : [key, json, durationMs(ttl, "ttl")]);
  } catch (error) {
    return rejected(error);
  }
}

function decode(text: unknown): unknown {
  return text === undefined ? undefined : JSON.parse(text as string);
}

function decodeAll(texts: unknown): unknown {
  const list = texts as Array<string | undefined>;
  for (let i = 0; i < list.length; i++) list[i] = decode(list[i]) as string | undefined;
  return list;
}

function rejected(error: unknown): Promise<never> {
  return Promise.reject(error instanceof Error ? error : new Error(String(error)));
}

function notAKey(key: unknown): CairnError {
  const what = key === null ? "null" : Array.isArray(key) ? "an array" : typeof key;
  return new CairnError("invalid_key", `a cache key must be a string, got ${what}`);
}

registerClient("cache", (_spec, call) => createCacheClient(call));
