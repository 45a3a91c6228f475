/**
 * The blobs API (the S3 / Azure Blob role): objects of bytes under string keys, streamed in and
 * out, with a content type, user metadata and an ETag; conditional writes and reads; byte ranges;
 * listing by prefix with a delimiter; presigned URLs. The same shapes are used inside functions
 * (ctx.blobs) and on the host. Only types and constants live here: instances import this file.
 */
import type { Duration } from "../shared/duration.js";

/** What `put` accepts as the object's bytes. Strings are stored as UTF-8. */
export type BlobBody =
  string | ArrayBuffer | ArrayBufferView | Blob | ReadableStream<Uint8Array> | null | undefined;

/** An object's description, as `head`, `list` and `put` return it. */
export interface BlobInfo {
  key: string;
  /** Size in bytes of the whole object. */
  size: number;
  /** Quoted, as in an HTTP ETag header: `"9e107d9d372bb6826bd81d3542a419d6"`. */
  etag: string;
  contentType: string;
  /** User metadata given to `put`. */
  metadata: Record<string, string>;
  lastModified: Date;
}

/** An object with its bytes (from `get`). The body can be read once, by one of these ways. */
export interface BlobObject extends BlobInfo {
  body: ReadableStream<Uint8Array>;
  /** The bytes returned when a range was asked for: first and last byte offsets, inclusive. */
  range?: { start: number; end: number };
  text(): Promise<string>;
  json<T = unknown>(): Promise<T>;
  bytes(): Promise<Uint8Array>;
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** A byte range, as in HTTP: `{ start, end }` (end inclusive, optional) or the last `suffix` bytes. */
export type BlobRange = { start: number; end?: number } | { suffix: number };

export interface BlobPutOptions {
  /** Default: the Blob's type, "text/plain;charset=utf-8" for a string, else "application/octet-stream". */
  contentType?: string;
  /** Names of letters, digits, "-", "_" and "."; values are strings. */
  metadata?: Record<string, string>;
  /** Write only if the object exists with this ETag; else `precondition_failed`. */
  ifMatch?: string;
  /** `"*"`: write only if there is no object under the key yet; else `precondition_failed`. */
  ifNoneMatch?: "*";
}

export interface BlobConditions {
  /** Fail with `precondition_failed` unless the object's ETag is one of these (comma-separated). */
  ifMatch?: string;
  /** Fail with `not_modified` if the object's ETag is one of these, or any ETag for "*". */
  ifNoneMatch?: string;
}

export interface BlobGetOptions extends BlobConditions {
  range?: BlobRange;
}

export interface BlobDeleteOptions {
  /** Delete only if the object exists with this ETag; else `precondition_failed`. */
  ifMatch?: string;
}

export interface BlobListOptions {
  /** Only keys that start with this. */
  prefix?: string;
  /**
   * Group keys that contain the delimiter after the prefix: each group appears once in
   * `prefixes` (the key up to and including the delimiter) instead of its objects.
   */
  delimiter?: string;
  /** Objects plus prefixes per page (default and most: 1000). */
  limit?: number;
  /** From the previous page's `cursor`, with the same prefix and delimiter. */
  cursor?: string;
}

export interface BlobList {
  /** In key order (UTF-8 byte order). */
  objects: BlobInfo[];
  /** Common prefixes, in order, when a delimiter was given. */
  prefixes: string[];
  /** Present when there is more: pass it to get the next page. */
  cursor?: string;
}

export interface PresignOptions {
  /** What the URL allows (default "GET"; a GET URL also answers HEAD). */
  method?: "GET" | "PUT";
  /** How long the URL works (default "1h", at most "7d"). */
  expiresIn?: Duration;
  /** PUT only: the upload must carry exactly this Content-Type. */
  contentType?: string;
  /** PUT only: the largest upload in bytes the URL accepts (default and most: the object size limit). */
  maxSize?: number;
}

export interface Blobs {
  /** Store an object (streamed); resolves once its bytes and metadata are durable. */
  put(key: string, body: BlobBody, options?: BlobPutOptions): Promise<BlobInfo>;
  /** An object and its bytes (streamed), or undefined when there is none. */
  get(key: string, options?: BlobGetOptions): Promise<BlobObject | undefined>;
  /** An object's description without its bytes, or undefined when there is none. */
  head(key: string, options?: BlobConditions): Promise<BlobInfo | undefined>;
  /** Resolves true when an object was deleted, false when there was none. */
  delete(key: string, options?: BlobDeleteOptions): Promise<boolean>;
  list(options?: BlobListOptions): Promise<BlobList>;
  /** An absolute URL that lets anyone holding it GET (or PUT) this one key until it expires. */
  presign(key: string, options?: PresignOptions): Promise<string>;
}

/** The optional `blobs` section of cairn.config.ts. */
export interface BlobsConfig {
  /** Largest object in bytes (default 5 GiB); larger puts fail with `payload_too_large`. */
  maxObjectSize?: number;
}

/** Limits, documented in the README and enforced by every driver. */
export const blobLimits = {
  /** Key length in UTF-8 bytes. */
  keyBytes: 1024,
  /** User metadata: names plus values, in UTF-8 bytes. */
  metadataBytes: 2048,
  metadataNameLength: 128,
  contentTypeLength: 256,
  /** Default largest object. */
  maxObjectSize: 5 * 1024 ** 3,
  listLimit: 1000,
  delimiterLength: 16,
  /** Bodies up to this size cross between an instance and the host in one message. */
  inlineBytes: 64 * 1024,
  defaultPresignExpiryMs: 3_600_000,
  maxPresignExpiryMs: 7 * 86_400_000,
} as const;
