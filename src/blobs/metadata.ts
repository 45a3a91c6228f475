import type { Stored, TableDefinition } from "../tables/types.js";
import type { BlobInfo } from "./types.js";

/**
 * Blob metadata lives in a system table of the app's durable store: one item per object in one
 * partition, sorted by key (so prefix listing is a range query), plus an index from storage id to
 * object for the orphan sweep. The presign secret, when generated, is an item of its own partition.
 */
export const blobTable = "_blobs";
export const objectPartition = "o";

export const blobTableDefinition: TableDefinition = {
  partitionKey: "p",
  sortKey: "k",
  indexes: { bySid: { partitionKey: "sid" } },
};

/** An object's metadata item. Short attribute names: a listing page reads a thousand of them. */
export interface BlobItem {
  [attribute: string]: unknown;
  p: typeof objectPartition;
  /** The blob key. */
  k: string;
  /** The driver's storage id of its bytes. */
  sid: string;
  size: number;
  etag: string;
  ct: string;
  meta: Record<string, string>;
  /** When it was written, ms since the epoch (by the service clock). */
  mod: number;
}

export function toInfo(item: Stored<BlobItem>): BlobInfo {
  return {
    key: item.k,
    size: item.size,
    etag: item.etag,
    contentType: item.ct,
    metadata: { ...item.meta },
    lastModified: new Date(item.mod),
  };
}

/** Orders the events of one key: the store's version counter, zero-padded so strings compare too. */
export function sequencer(version: number): string {
  return String(version).padStart(16, "0");
}
