/**
 * The cache's operations as instances call them ("cache.<operation>" with positional arguments).
 * The instance-side client has already encoded values to JSON text and durations to milliseconds;
 * everything is checked again here, because the bounds protect the host, and then handed to the
 * driver. An operation answers synchronously when its driver does (the embedded one always does).
 *
 * | operation     | arguments                   | answer                          |
 * | ------------- | --------------------------- | ------------------------------- |
 * | `get`         | key                         | JSON text or undefined          |
 * | `getMany`     | keys                        | array of JSON text or undefined |
 * | `set`         | key, json, ttlMs?           | undefined                       |
 * | `setIfAbsent` | key, json, ttlMs?           | boolean                         |
 * | `delete`      | key                         | boolean                         |
 * | `increment`   | key, by                     | number                          |
 * | `rateLimit`   | key, limit, windowMs        | { allowed, remaining, resetAt } |
 * | `lock`        | key, ttlMs                  | { token, expiresAt } or undefined |
 * | `unlock`      | key, token                  | boolean                         |
 * | `extendLock`  | key, token, ttlMs           | { token, expiresAt } or undefined |
 */
import type { Operation } from "../host/services.js";
import type { CacheDriver } from "./driver.js";
import { checkInteger, checkKey, checkKeys, checkMs } from "./limits.js";
import { checkText } from "./values.js";

export function cacheOperations(driver: CacheDriver): Record<string, Operation> {
  return {
    get: (args) => driver.get(checkKey(args[0])),
    getMany: (args) => driver.getMany(checkKeys(args[0])),
    set: (args) => driver.set(checkKey(args[0]), checkText(args[1]), optionalTtl(args[2])),
    setIfAbsent: (args) => driver.setIfAbsent(checkKey(args[0]), checkText(args[1]), optionalTtl(args[2])),
    delete: (args) => driver.delete(checkKey(args[0])),
    increment: (args) => driver.increment(checkKey(args[0]), checkInteger(args[1], "by")),
    rateLimit: (args) =>
      driver.rateLimit(checkKey(args[0]), checkInteger(args[1], "limit", 1), checkMs(args[2], "window")),
    lock: (args) => driver.lock(checkKey(args[0]), checkMs(args[1], "ttl")),
    unlock: (args) => driver.unlock(checkKey(args[0]), checkInteger(args[1], "token")),
    extendLock: (args) =>
      driver.extendLock(checkKey(args[0]), checkInteger(args[1], "token"), checkMs(args[2], "ttl")),
  };
}

function optionalTtl(value: unknown): number | undefined {
  return value === undefined ? undefined : checkMs(value, "ttl");
}
