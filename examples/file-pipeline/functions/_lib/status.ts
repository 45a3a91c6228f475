import type { Context } from "cairn";
import type { FileMetadata } from "../../cairn.config.js";

/**
 * Where a file is: announced but not uploaded yet, uploaded and waiting for (or between) processing
 * attempts, being processed, processed, or given up on (its event is in the dead-letter queue).
 */
export type FileStatus = "awaiting_upload" | "queued" | "processing" | "done" | "failed";

/** What GET /files/:fileId answers, and what the cache holds under `file:<fileId>`. */
export interface StatusView {
  fileId: string;
  status: FileStatus;
  metadata: FileMetadata | null;
  /** The last processing error (while retrying, or why it failed). */
  error?: string;
  /** The processing attempt the status is from, out of `maxAttempts`. */
  attempt?: number;
  maxAttempts?: number;
}

const uploadPrefix = "uploads/";
export const blobKeyOf = (fileId: string) => `${uploadPrefix}${fileId}`;
export const fileIdOf = (key: string) =>
  key.startsWith(uploadPrefix) ? key.slice(uploadPrefix.length) : undefined;

const statusKey = (fileId: string) => `file:${fileId}`;
/** Long enough for a client to poll; the tables answer after that. */
const statusTtl = "1d";

/** The metadata row without its `_version`. */
export function plain(row: FileMetadata & { _version?: number }): FileMetadata {
  const { _version, ...metadata } = row;
  return metadata;
}

export async function setStatus(ctx: Context, view: StatusView): Promise<void> {
  await ctx.cache.set(statusKey(view.fileId), view, { ttl: statusTtl });
}

/**
 * The file's status: from the cache when it has one, else from the tables (the metadata row, or
 * the failure recorded on the file's row), else from whether its bytes have arrived. Undefined for
 * a file nobody announced.
 */
export async function readStatus(ctx: Context, fileId: string): Promise<StatusView | undefined> {
  const cached = await ctx.cache.get<StatusView>(statusKey(fileId));
  if (cached !== undefined && cached.status !== "awaiting_upload") return cached;

  const view = cached ?? (await durableStatus(ctx, fileId));
  if (view === undefined) return undefined;
  if (view.status === "awaiting_upload" && (await ctx.blobs.head(blobKeyOf(fileId))) !== undefined) {
    // Uploaded, and processing has not started yet.
    return { ...view, status: "queued" };
  }
  if (cached === undefined && (view.status === "done" || view.status === "failed")) {
    // Only if still absent: a status the processor wrote meanwhile is newer than this one.
    await ctx.cache.setIfAbsent(statusKey(fileId), view, { ttl: statusTtl });
  }
  return view;
}

async function durableStatus(ctx: Context, fileId: string): Promise<StatusView | undefined> {
  const [file, metadata] = await Promise.all([
    ctx.tables.files.get({ fileId }),
    ctx.tables.metadata.get({ fileId }),
  ]);
  if (file === undefined) return undefined;
  const failure = file.failure;
  if (failure !== undefined && (metadata === undefined || failure.failedAt > metadata.processedAt)) {
    return {
      fileId,
      status: "failed",
      metadata: null,
      error: failure.error,
      attempt: failure.attempts,
      maxAttempts: failure.attempts,
    };
  }
  if (metadata !== undefined) return { fileId, status: "done", metadata: plain(metadata) };
  return { fileId, status: "awaiting_upload", metadata: null };
}
