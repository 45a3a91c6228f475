import type { IncomingHttpHeaders } from "node:http";
import type { BlobRange, BlobInfo } from "./types.js";

/**
 * A Range header as one byte range: "bytes=0-99", "bytes=100-" or "bytes=-500". Anything else
 * (other units, several ranges, malformed) is ignored, as HTTP allows: the whole object is sent.
 */
export function parseRange(header: string | undefined): BlobRange | undefined {
  if (header === undefined) return undefined;
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (match === null) return undefined;
  const [, first, last] = match;
  if (first === "" && last === "") return undefined;
  if (first === "") return { suffix: Number(last) };
  const start = Number(first);
  if (last === "") return { start };
  const end = Number(last);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || end < start) return undefined;
  return { start, end };
}

/** Response headers describing an object (for GET and HEAD). */
export function objectHeaders(info: BlobInfo): Record<string, string> {
  return {
    "content-type": info.contentType,
    etag: info.etag,
    "last-modified": info.lastModified.toUTCString(),
    "accept-ranges": "bytes",
    "cache-control": "private, no-cache",
  };
}

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(", ") : value;
}
