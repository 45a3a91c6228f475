import { CairnError } from "../sdk/errors.js";
import { controlCharacters } from "./keys.js";
import { blobLimits, type BlobPutOptions, type BlobRange } from "./types.js";

const metadataName = /^[A-Za-z0-9._-]+$/;

export function checkContentType(contentType: unknown): string | undefined {
  if (contentType === undefined) return undefined;
  if (
    typeof contentType !== "string" ||
    contentType.length === 0 ||
    contentType.length > blobLimits.contentTypeLength ||
    controlCharacters.test(contentType) ||
    !/^[\x20-\x7e]*$/.test(contentType)
  ) {
    throw new CairnError(
      "invalid_argument",
      `contentType must be 1 to ${blobLimits.contentTypeLength} printable ASCII characters, such as "image/png"`,
    );
  }
  return contentType;
}

/** User metadata: a flat object of string values under names of letters, digits, ".", "_" and "-". */
export function checkMetadata(metadata: unknown): Record<string, string> {
  if (metadata === undefined) return {};
  if (typeof metadata !== "object" || metadata === null || Array.isArray(metadata)) {
    throw new CairnError("invalid_argument", "metadata must be an object of string values");
  }
  let bytes = 0;
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(metadata)) {
    if (!metadataName.test(name) || name.length > blobLimits.metadataNameLength) {
      throw new CairnError(
        "invalid_argument",
        `metadata name "${name}": use 1 to ${blobLimits.metadataNameLength} letters, digits, ".", "_" and "-"`,
      );
    }
    if (typeof value !== "string")
      throw new CairnError("invalid_argument", `metadata "${name}" must be a string`);
    bytes += Buffer.byteLength(name) + Buffer.byteLength(value);
    out[name] = value;
  }
  if (bytes > blobLimits.metadataBytes) {
    throw new CairnError(
      "metadata_too_large",
      `metadata exceeds ${blobLimits.metadataBytes} bytes (names plus values, UTF-8)`,
    );
  }
  return out;
}

export interface CheckedPutOptions {
  contentType: unknown;
  metadata: unknown;
  ifMatch: string | undefined;
  /** Write only if absent. */
  ifNoneMatch: boolean;
}

export function checkPutOptions(options: BlobPutOptions | undefined): CheckedPutOptions {
  if (options === undefined || options === null) {
    return { contentType: undefined, metadata: undefined, ifMatch: undefined, ifNoneMatch: false };
  }
  if (typeof options !== "object") throw new CairnError("invalid_argument", "put options must be an object");
  if (options.ifNoneMatch !== undefined && options.ifNoneMatch !== "*") {
    throw new CairnError("invalid_argument", 'ifNoneMatch on put takes only "*" (write only if absent)');
  }
  if (options.ifMatch !== undefined && options.ifNoneMatch !== undefined) {
    throw new CairnError("invalid_argument", "put takes ifMatch or ifNoneMatch, not both");
  }
  return {
    contentType: options.contentType,
    metadata: options.metadata,
    ifMatch: checkEtag(options.ifMatch, "ifMatch"),
    ifNoneMatch: options.ifNoneMatch === "*",
  };
}

export function checkEtag(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || value.length === 0 || value.length > 1024) {
    throw new CairnError("invalid_argument", `${field} must be an ETag string such as "\\"9e107d9d...\\""`);
  }
  return value;
}

/**
 * Whether an ETag list (as in If-Match / If-None-Match: `"a", W/"b"` or `*`) names this ETag.
 * Quotes are optional on our side of the API; weak markers are ignored.
 */
export function etagMatches(list: string, etag: string): boolean {
  const bare = unquote(etag);
  for (const part of list.split(",")) {
    const candidate = part.trim();
    if (candidate === "*") return true;
    if (unquote(candidate.startsWith("W/") ? candidate.slice(2) : candidate) === bare) return true;
  }
  return false;
}

function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
}

/** A range resolved against an object's size: first and last byte, inclusive. */
export interface ResolvedRange {
  start: number;
  end: number;
}

/** Resolve a range like HTTP does: an end past the object is clamped; a start past it fails (416). */
export function resolveRange(range: BlobRange | undefined, size: number): ResolvedRange | undefined {
  if (range === undefined) return undefined;
  if (typeof range !== "object" || range === null) {
    throw new CairnError("invalid_argument", "range must be { start, end? } or { suffix }");
  }
  if ("suffix" in range) {
    const { suffix } = range;
    if (!Number.isSafeInteger(suffix) || suffix < 0) {
      throw new CairnError("invalid_argument", "range.suffix must be a non-negative integer");
    }
    if (suffix === 0 || size === 0) throw unsatisfiable(size);
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || start < 0) {
    throw new CairnError("invalid_argument", "range.start must be a non-negative integer");
  }
  if (end !== undefined && (!Number.isSafeInteger(end) || end < start)) {
    throw new CairnError("invalid_argument", "range.end must be an integer not below range.start");
  }
  if (start >= size) throw unsatisfiable(size);
  return { start, end: end === undefined ? size - 1 : Math.min(end, size - 1) };
}

function unsatisfiable(size: number): CairnError {
  return new CairnError("range_not_satisfiable", `the range lies outside the object (${size} bytes)`, {
    details: { size },
  });
}
