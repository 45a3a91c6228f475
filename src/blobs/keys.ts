import { CairnError } from "../sdk/errors.js";
import { blobLimits } from "./types.js";

/** Control characters (C0 and DEL): never part of a key, a prefix or a content type. */
// eslint-disable-next-line no-control-regex
const control = /[\u0000-\u001f\u007f]/;
/** A surrogate without its pair: not Unicode, and not representable in UTF-8. */
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function wellFormed(text: string): boolean {
  return !loneSurrogate.test(text);
}

/**
 * A blob key: 1 to 1024 UTF-8 bytes of well-formed text without control characters, not starting
 * with "/", with no "." or ".." segment. Keys never become file names (drivers store bytes under
 * ids of their own), so these rules keep keys safe in URLs, headers and logs rather than on disk.
 */
export function checkKey(key: unknown): string {
  if (typeof key !== "string") throw invalidKey(`a blob key must be a string, not ${describe(key)}`);
  if (key.length === 0) throw invalidKey("a blob key must not be empty");
  if (Buffer.byteLength(key) > blobLimits.keyBytes) {
    throw invalidKey(`the key exceeds ${blobLimits.keyBytes} bytes (UTF-8)`);
  }
  if (!wellFormed(key)) throw invalidKey("the key holds an unpaired surrogate (not valid Unicode)");
  if (control.test(key)) throw invalidKey("the key holds a control character (such as NUL or a newline)");
  if (key.startsWith("/")) throw invalidKey('the key must not start with "/"');
  for (const segment of key.split("/")) {
    if (segment === "." || segment === "..") throw invalidKey(`the key must not have a "${segment}" segment`);
  }
  return key;
}

/** A listing prefix: like a key, but it may be empty and its segments are not checked. */
export function checkPrefix(prefix: unknown): string {
  if (prefix === undefined) return "";
  if (typeof prefix !== "string") throw invalidArgument("prefix must be a string");
  if (Buffer.byteLength(prefix) > blobLimits.keyBytes) {
    throw invalidArgument(`prefix exceeds ${blobLimits.keyBytes} bytes (UTF-8)`);
  }
  if (!wellFormed(prefix) || control.test(prefix)) {
    throw invalidArgument("prefix holds a control character or an unpaired surrogate");
  }
  return prefix;
}

export function checkDelimiter(delimiter: unknown): string | undefined {
  if (delimiter === undefined || delimiter === "") return undefined;
  if (typeof delimiter !== "string" || delimiter.length > blobLimits.delimiterLength) {
    throw invalidArgument(`delimiter must be a string of 1 to ${blobLimits.delimiterLength} characters`);
  }
  if (!wellFormed(delimiter) || control.test(delimiter)) {
    throw invalidArgument("delimiter holds a control character or an unpaired surrogate");
  }
  return delimiter;
}

/**
 * The smallest string greater than every string that starts with `prefix`, in code point order
 * (which is UTF-8 byte order, the order keys are listed in); undefined when there is none.
 */
export function successor(prefix: string): string | undefined {
  const points = Array.from(prefix, (char) => char.codePointAt(0)!);
  while (points.length > 0) {
    const last = points.pop()!;
    if (last < 0x10ffff) {
      const next = last === 0xd7ff ? 0xe000 : last + 1; // skip the surrogate range
      return String.fromCodePoint(...points, next);
    }
  }
  return undefined;
}

function invalidKey(message: string): CairnError {
  return new CairnError("invalid_key", message);
}

function invalidArgument(message: string): CairnError {
  return new CairnError("invalid_argument", message);
}

function describe(value: unknown): string {
  return value === null ? "null" : typeof value;
}

export { control as controlCharacters };
