import { CairnError } from "../sdk/errors.js";
import type { KeyValue } from "./types.js";

/**
 * Key values as bytes that sort the way the values do, under plain byte comparison (SQLite BLOB,
 * PostgreSQL BYTEA): a type tag, then a number as an order-preserving float64, or a string as UTF-8.
 * Numbers sort before strings.
 */
const NUMBER = 0x01;
const STRING = 0x02;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export const emptyKey = new Uint8Array(0);

export function encodeKey(value: unknown, attribute: string): Uint8Array {
  if (typeof value === "string") {
    const bytes = encoder.encode(value);
    const out = new Uint8Array(bytes.length + 1);
    out[0] = STRING;
    out.set(bytes, 1);
    return out;
  }
  if (typeof value === "number") {
    if (!Number.isFinite(value)) {
      throw new CairnError("invalid_key", `key attribute "${attribute}" must be a finite number or a string`);
    }
    const out = new Uint8Array(9);
    out[0] = NUMBER;
    const view = new DataView(out.buffer);
    view.setFloat64(1, value === 0 ? 0 : value); // -0 and 0 are one key
    if (out[1]! & 0x80) for (let i = 1; i < 9; i++) out[i] = ~out[i]! & 0xff;
    else out[1] = out[1]! | 0x80;
    return out;
  }
  throw new CairnError(
    "invalid_key",
    value === undefined
      ? `the key attribute "${attribute}" is missing`
      : `key attribute "${attribute}" must be a string or a number, not ${typeof value}`,
  );
}

export function decodeKey(bytes: Uint8Array): KeyValue {
  if (bytes[0] === STRING) return decoder.decode(bytes.subarray(1));
  if (bytes[0] === NUMBER && bytes.length === 9) {
    const copy = bytes.slice(1);
    if (copy[0]! & 0x80) copy[0] = copy[0]! & 0x7f;
    else for (let i = 0; i < 8; i++) copy[i] = ~copy[i]! & 0xff;
    return new DataView(copy.buffer).getFloat64(0);
  }
  throw new CairnError("internal_error", "an unreadable key was found in the store");
}

/** The smallest byte string greater than every string starting with `prefix`. */
export function prefixEnd(prefix: Uint8Array): Uint8Array | undefined {
  const end = prefix.slice();
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i] = end[i]! + 1;
      return end.subarray(0, i + 1);
    }
  }
  return undefined;
}

/** Bounds for string keys beginning with `prefix`. */
export function prefixRange(prefix: string): [Uint8Array, Uint8Array | undefined] {
  const start = encodeKey(prefix, "beginsWith");
  return [start, prefixEnd(start)];
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

export function fromHex(hex: string): Uint8Array {
  if (!/^(?:[0-9a-f]{2})*$/.test(hex)) throw new CairnError("invalid_argument", "the cursor is not valid");
  return new Uint8Array(Buffer.from(hex, "hex"));
}
