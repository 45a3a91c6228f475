/**
 * Cached values travel and rest as JSON text: what Redis stores, what crosses the thread boundary
 * as one cheap string, and what the memory bound is measured on. Pure code, used by the
 * instance-side client (which encodes before posting, so nothing uncloneable reaches postMessage)
 * and by the host (which checks the size again).
 */
import { CairnError } from "../sdk/errors.js";
import { cacheLimits, invalidArgument, typeName } from "./limits.js";

/**
 * The JSON text of a value. Only what survives a JSON round trip unchanged is accepted: null,
 * booleans, finite numbers, strings, arrays and plain objects. Properties whose value is undefined
 * are left out, as JSON.stringify does; anything else (undefined, functions, bigints, NaN, Dates,
 * Maps, class instances, cycles) fails with `invalid_argument` naming where it is.
 */
export function encodeValue(value: unknown): string {
  const problem = findProblem(value, 0);
  if (problem !== undefined) {
    const where = problem.path === "" ? "the value" : `value${problem.path}`;
    throw invalidArgument(`cache values must be JSON: ${where} is ${problem.what}`);
  }
  return checkText(JSON.stringify(value));
}

/** Checks a value's JSON text against the size limit. */
export function checkText(text: unknown): string {
  if (typeof text !== "string") throw invalidArgument("expected the JSON text of a value");
  if (text.length * 3 > cacheLimits.valueBytes) {
    const bytes = Buffer.byteLength(text);
    if (bytes > cacheLimits.valueBytes) {
      throw new CairnError(
        "value_too_large",
        `a cache value may have at most ${cacheLimits.valueBytes} bytes as JSON, this one has ${bytes}`,
        { details: { limit: cacheLimits.valueBytes, size: bytes } },
      );
    }
  }
  return text;
}

export function decodeValue<T>(text: string | undefined): T | undefined {
  return text === undefined ? undefined : (JSON.parse(text) as T);
}

interface Problem {
  path: string;
  what: string;
}

/** Walks the value without allocating unless something is wrong; the path is built on the way out. */
function findProblem(value: unknown, depth: number): Problem | undefined {
  switch (typeof value) {
    case "string":
    case "boolean":
      return undefined;
    case "number":
      return Number.isFinite(value) ? undefined : { path: "", what: `${value} (not a finite number)` };
    case "object": {
      if (value === null) return undefined;
      if (depth >= cacheLimits.depth) {
        return { path: "", what: `nested more than ${cacheLimits.depth} levels deep (or circular)` };
      }
      if (Array.isArray(value)) return arrayProblem(value as unknown[], depth);
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        return { path: "", what: `${typeName(value)} (only plain objects and arrays)` };
      }
      return objectProblem(value as Record<string, unknown>, depth);
    }
    default:
      return { path: "", what: typeof value === "undefined" ? "undefined" : `a ${typeof value}` };
  }
}

function arrayProblem(array: unknown[], depth: number): Problem | undefined {
  for (let i = 0; i < array.length; i++) {
    const problem = findProblem(array[i], depth + 1);
    if (problem !== undefined) {
      problem.path = `[${i}]${problem.path}`;
      return problem;
    }
  }
  return undefined;
}

function objectProblem(object: Record<string, unknown>, depth: number): Problem | undefined {
  for (const key in object) {
    const item = object[key];
    if (item === undefined) continue;
    const problem = findProblem(item, depth + 1);
    if (problem !== undefined) {
      problem.path = `${/^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`}${problem.path}`;
      return problem;
    }
  }
  return undefined;
}
