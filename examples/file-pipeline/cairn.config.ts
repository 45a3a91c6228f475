import { defineConfig, table } from "cairn";
import type { FileFacts } from "./functions/_lib/inspect.js";

/** An upload the client announced with POST /files. */
export type FileRecord = {
  fileId: string;
  /** The client's name for the file (not part of the blob key). */
  name: string;
  /** What the client said it would upload; the presigned URL accepts only this Content-Type. */
  declaredType?: string;
  /** The blob the client uploads to: `uploads/<fileId>`. */
  key: string;
  createdAt: number;
  /** Set when processing gave up on an upload (its event went to the dead-letter queue). */
  failure?: { etag: string; error: string; attempts: number; failedAt: number };
};

/** One row per file: what processing found in its current bytes. */
export type FileMetadata = FileFacts & {
  fileId: string;
  name: string;
  declaredType?: string;
  /** The ETag of the bytes described (a new upload to the same URL is processed again). */
  etag: string;
  processedAt: number;
  /** The delivery attempt that wrote the row (1 unless earlier ones failed). */
  attempt: number;
};

const config = defineConfig({
  vars: {
    /** Largest upload a presigned URL accepts, in bytes. */
    MAX_UPLOAD_BYTES: String(1024 ** 3),
  },
  tables: {
    files: table<FileRecord>({ partitionKey: "fileId" }),
    metadata: table<FileMetadata>({ partitionKey: "fileId" }),
  },
  blobs: { maxObjectSize: 1024 ** 3 },
});
export default config;

declare module "cairn" {
  interface Register {
    config: typeof config;
  }
}
