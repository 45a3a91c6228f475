/**
 * Where the bytes of blobs live. A driver stores immutable byte strings under opaque ids it
 * chooses; it knows nothing of keys, content types or metadata, which the blobs service keeps in
 * the durable store. Replacing an object writes new bytes under a new id, commits the metadata,
 * then deletes the old id, so a driver never overwrites bytes anyone may be reading.
 *
 * Presigned URLs are served by Cairn itself (src/blobs/http.ts) whatever the driver, so every
 * upload goes through the metadata commit, its conditions, the size limit and the outbox event.
 * A driver may offer download URLs of its own (`presignRead`, the S3 driver's opt-in direct
 * downloads); uploads straight to the backend would bypass the metadata commit, so there are none.
 */
export interface BlobDriver {
  readonly name: string;
  /**
   * Store a stream of bytes under a new id, atomically: the id exists only once every byte is
   * durable (a reader never sees part of it). Fails with `payload_too_large` past `maxSize` bytes,
   * leaving nothing behind.
   */
  write(body: Chunks, options: { maxSize: number }): Promise<WrittenBytes>;
  /** The bytes of an id (or one inclusive range of them), or undefined when the id does not exist. */
  read(id: string, range?: { start: number; end: number }): Promise<ReadableStream<Uint8Array> | undefined>;
  /** Remove an id; removing one that does not exist is not an error. */
  delete(id: string): Promise<void>;
  /** Every stored id with the time it was written (ms since the epoch), for the orphan sweep. */
  list(): AsyncIterable<{ id: string; created: number }>;
  /**
   * A URL of the backend's own that serves the bytes of an id for `expiresIn` seconds with the
   * given Content-Type, or undefined when the driver is not set up to hand such URLs out.
   */
  presignRead?(id: string, options: { expiresIn: number; contentType: string }): Promise<string | undefined>;
  /** Optional housekeeping of the driver's own, run with the orphan sweep (stale partial writes). */
  sweep?(): Promise<void>;
  close(): Promise<void>;
}

/** Bytes to store, a chunk at a time (read only as fast as they are written). */
export type Chunks = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

export interface WrittenBytes {
  id: string;
  size: number;
  /** Quoted, as HTTP ETags are. */
  etag: string;
}
