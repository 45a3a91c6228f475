/**
 * Where the bytes of blobs live. A driver stores immutable byte strings under opaque ids it
 * chooses; it knows nothing of keys, content types or metadata, which the blobs service keeps in
 * the durable store. Replacing an object writes new bytes under a new id, commits the metadata,
 * then deletes the old id, so a driver never overwrites bytes anyone may be reading.
 *
 * Presigned URLs are not a driver concern: Cairn serves them itself (src/blobs/http.ts) whatever
 * the driver, so every upload goes through the metadata commit, its conditions, the size limit and
 * the outbox event. A later S3 driver may add direct-from-S3 download URLs as an option; uploads
 * straight to S3 would bypass the metadata commit and need S3 notifications to replace it.
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
