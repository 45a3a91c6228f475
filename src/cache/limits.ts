/**
 * The cache's limits and the checks of its arguments. Pure code: the instance-side client uses it
 * as well as the host, so it imports nothing but the error class and durations.
 */
import { CairnError } from "../sdk/errors.js";
import { parseDuration } from "../shared/duration.js";

export const cacheLimits = {
  /** Longest key, in UTF-8 bytes. */
  keyBytes: 1024,
  /** Largest value, as UTF-8 bytes of its JSON text. */
  valueBytes: 1024 * 1024,
  /** Longest ttl, lock ttl or rate-limit window. */
  ttlMs: 365 * 86_400_000,
  /** Keys per getMany. */
  getManyKeys: 100,
  /** Deepest nesting of arrays and objects in a value. */
  depth: 100,
} as const;

/** Keys are 1 to 1,024 bytes of well-formed UTF-8 (no lone surrogates, so every key maps to one byte string). */
export function checkKey(key: unknown): string {
  if (typeof key !== "string") throw invalidKey(`a cache key must be a string, got ${typeName(key)}`);
  if (key.length === 0) throw invalidKey("a cache key must not be empty");
  if (key.length * 3 > cacheLimits.keyBytes) {
    const bytes = Buffer.byteLength(key);
    if (bytes > cacheLimits.keyBytes) {
      throw invalidKey(
        `a cache key may have at most ${cacheLimits.keyBytes} bytes (UTF-8), this one has ${bytes}`,
      );
    }
  }
  if (loneSurrogate.test(key))
    throw invalidKey("a cache key must be well-formed Unicode (it has a lone surrogate)");
  return key;
}

const loneSurrogate = /[\uD800-\uDFFF]/u;

function invalidKey(message: string): CairnError {
  return new CairnError("invalid_key", message);
}

/** A Duration given by a caller as whole milliseconds (fractions round up), between 1 ms and 365 days. */
export function durationMs(value: unknown, field: string): number {
  let ms: number;
  try {
    if (typeof value !== "number" && typeof value !== "string") throw new TypeError();
    ms = parseDuration(value, field);
  } catch {
    throw invalidArgument(
      `${field} must be milliseconds or a duration such as "30s", "5m" or "1d", got ${describe(value)}`,
    );
  }
  ms = Math.ceil(ms);
  if (ms < 1 || ms > cacheLimits.ttlMs) {
    throw invalidArgument(`${field} must be between 1 ms and 365 days, got ${describe(value)}`);
  }
  return ms;
}

/** The same bound for milliseconds that arrive already converted (from an instance). */
export function checkMs(value: unknown, field: string): number {
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > cacheLimits.ttlMs) {
    throw invalidArgument(`${field} must be a whole number of milliseconds from 1 to 365 days`);
  }
  return value as number;
}

/** An integer that JavaScript numbers hold exactly (|n| < 2^53). */
export function checkInteger(value: unknown, field: string, min = Number.MIN_SAFE_INTEGER): number {
  if (!Number.isSafeInteger(value) || (value as number) < min) {
    const bound = min === Number.MIN_SAFE_INTEGER ? "a safe integer" : `an integer of at least ${min}`;
    throw invalidArgument(`${field} must be ${bound}, got ${describe(value)}`);
  }
  return value as number;
}

export function checkKeys(keys: unknown): string[] {
  if (!Array.isArray(keys)) throw invalidArgument(`getMany takes an array of keys, got ${typeName(keys)}`);
  if (keys.length > cacheLimits.getManyKeys) {
    throw invalidArgument(`getMany takes at most ${cacheLimits.getManyKeys} keys, got ${keys.length}`);
  }
  for (const key of keys as unknown[]) checkKey(key);
  return keys as string[];
}

export function invalidArgument(message: string): CairnError {
  return new CairnError("invalid_argument", message);
}

export function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") {
    const name = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)?.constructor
      ?.name;
    return typeof name === "string" && name !== "Object" ? `a ${name}` : "an object";
  }
  return typeof value;
}

function describe(value: unknown): string {
  if (typeof value === "number") return String(value);
  if (typeof value === "string") return JSON.stringify(value);
  return typeName(value);
}
