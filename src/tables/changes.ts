import { CairnError } from "../sdk/errors.js";
import type { Item, UpdateChanges } from "./types.js";

const forbidden = new Set(["__proto__", "constructor", "prototype"]);

/**
 * Apply an update to a copy of an item. Paths are attribute names or dotted paths into nested
 * objects; key attributes and `_version` cannot be changed.
 */
export function applyChanges(item: Item, changes: UpdateChanges, keyAttributes: string[]): Item {
  const out = structuredClone(item);
  const seen = new Set<string>();
  const claim = (path: string, clause: string): string[] => {
    if (typeof path !== "string" || path.length === 0) {
      throw new CairnError("invalid_argument", `update.${clause}: paths must be non-empty strings`);
    }
    const segments = path.split(".");
    if (segments.some((segment) => segment.length === 0 || forbidden.has(segment))) {
      throw new CairnError("invalid_argument", `update.${clause}: "${path}" is not a valid attribute path`);
    }
    if (keyAttributes.includes(segments[0]!) || segments[0] === "_version") {
      throw new CairnError(
        "invalid_argument",
        `update.${clause}: "${segments[0]}" is a key or reserved attribute and cannot change`,
      );
    }
    if (seen.has(path))
      throw new CairnError("invalid_argument", `update: "${path}" appears in more than one clause`);
    seen.add(path);
    return segments;
  };
  const known = new Set(["set", "remove", "increment", "append"]);
  for (const clause of Object.keys(changes)) {
    if (!known.has(clause)) {
      throw new CairnError(
        "invalid_argument",
        `update: unknown clause "${clause}"; use set, remove, increment or append`,
      );
    }
  }
  for (const [path, value] of Object.entries(changes.set ?? {})) {
    const segments = claim(path, "set");
    if (value === undefined)
      throw new CairnError("invalid_argument", `update.set: "${path}" is undefined; use remove`);
    const [parent, last] = walk(out, segments, true, "set");
    parent[last] = value;
  }
  for (const path of changes.remove ?? []) {
    const segments = claim(path, "remove");
    const found = walk(out, segments, false, "remove");
    if (found) delete found[0][found[1]];
  }
  for (const [path, by] of Object.entries(changes.increment ?? {})) {
    const segments = claim(path, "increment");
    if (typeof by !== "number" || !Number.isFinite(by)) {
      throw new CairnError(
        "invalid_argument",
        `update.increment: "${path}" must be increased by a finite number`,
      );
    }
    const [parent, last] = walk(out, segments, true, "increment");
    const current = parent[last] ?? 0;
    if (typeof current !== "number") {
      throw new CairnError(
        "invalid_argument",
        `update.increment: "${path}" holds ${typeof current}, not a number`,
      );
    }
    parent[last] = current + by;
  }
  for (const [path, values] of Object.entries(changes.append ?? {})) {
    const segments = claim(path, "append");
    if (!Array.isArray(values))
      throw new CairnError("invalid_argument", `update.append: "${path}" needs an array of values`);
    const [parent, last] = walk(out, segments, true, "append");
    const current = parent[last] ?? [];
    if (!Array.isArray(current)) {
      throw new CairnError(
        "invalid_argument",
        `update.append: "${path}" holds ${typeof current}, not a list`,
      );
    }
    parent[last] = [...(current as unknown[]), ...values];
  }
  return out;
}

function walk(
  item: Item,
  segments: string[],
  create: true,
  clause: string,
): [Record<string, unknown>, string];
function walk(
  item: Item,
  segments: string[],
  create: false,
  clause: string,
): [Record<string, unknown>, string] | undefined;
function walk(
  item: Item,
  segments: string[],
  create: boolean,
  clause: string,
): [Record<string, unknown>, string] | undefined {
  let node: Record<string, unknown> = item;
  for (let i = 0; i < segments.length - 1; i++) {
    const segment = segments[i]!;
    let next = node[segment];
    if (next === undefined) {
      if (!create) return undefined;
      next = {};
      node[segment] = next;
    }
    if (typeof next !== "object" || next === null || Array.isArray(next)) {
      throw new CairnError(
        "invalid_argument",
        `update.${clause}: "${segments.slice(0, i + 1).join(".")}" is not an object, so "${segments.join(".")}" cannot be reached`,
      );
    }
    node = next as Record<string, unknown>;
  }
  return [node, segments[segments.length - 1]!];
}
