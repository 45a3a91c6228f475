import { isCairnError, on } from "cairn";
import { CorruptFileError } from "./_lib/images.js";
import { inspect } from "./_lib/inspect.js";
import { fileIdOf, plain, setStatus, type StatusView } from "./_lib/status.js";

/**
 * Runs for every upload under uploads/ (the `blob.created` event of the presigned PUT). Delivery
 * is at least once, so every step may be repeated: the metadata row is keyed by file id and
 * written whole (a repeat writes the same row), and a delivery for bytes already processed only
 * refreshes the status. A file that keeps failing (a corrupt image, say) is retried with backoff;
 * the last attempt records the failure on the file's row before the event goes to the dead-letter
 * queue.
 */
export const processUpload = on.blobCreated(
  { prefix: "uploads/" },
  async (event, ctx) => {
    const { key, etag } = event.payload;
    const fileId = fileIdOf(key)!;
    const file = await ctx.tables.files.get({ fileId });
    if (file === undefined) {
      ctx.log.warn("an upload nobody announced with POST /files; ignored", { key });
      return;
    }
    const done = await ctx.tables.metadata.get({ fileId });
    if (done?.etag === etag) {
      // A repeated delivery (the node died before it was recorded, say): the work is done.
      await setStatus(ctx, { fileId, status: "done", metadata: plain(done) });
      return;
    }
    const attempt = { attempt: event.attempt, maxAttempts: event.maxAttempts };
    await setStatus(ctx, { fileId, status: "processing", metadata: null, ...attempt });

    try {
      // Exactly the bytes this event announced: if they were replaced since, a later event has the new ones.
      const object = await ctx.blobs.get(key, { ifMatch: etag });
      if (object === undefined) {
        // Deleted since the upload: nothing to process until bytes arrive again.
        await setStatus(ctx, { fileId, status: "awaiting_upload", metadata: null });
        return;
      }
      const facts = await inspect(object.body);
      const row = await ctx.tables.metadata.put({
        fileId,
        name: file.name,
        ...(file.declaredType !== undefined && { declaredType: file.declaredType }),
        etag,
        ...facts,
        processedAt: Date.now(),
        attempt: event.attempt,
      });
      if (file.failure !== undefined) await ctx.tables.files.update({ fileId }, { remove: ["failure"] });
      await setStatus(ctx, { fileId, status: "done", metadata: plain(row) });
      ctx.log.info("processed", { fileId, contentType: facts.contentType, size: facts.size });
    } catch (error) {
      if (isCairnError(error) && error.code === "precondition_failed") return;
      const message =
        error instanceof CorruptFileError
          ? error.message
          : `${(error as Error).name}: ${(error as Error).message}`;
      const view: StatusView = { fileId, status: "queued", metadata: null, error: message, ...attempt };
      if (event.attempt >= event.maxAttempts) {
        // The last attempt: after this throw the event moves to the dead-letter queue.
        const failure = { etag, error: message, attempts: event.attempt, failedAt: Date.now() };
        await ctx.tables.files.update({ fileId }, { set: { failure } });
        view.status = "failed";
      }
      await setStatus(ctx, view);
      throw error;
    }
  },
  { maxAttempts: 3, backoff: "500ms", timeout: "5m" },
);
