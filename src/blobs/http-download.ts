import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { sendError } from "../gateway/respond.js";
import { CairnError, isCairnError } from "../sdk/errors.js";
import type { BlobStore } from "./blob-store.js";
import { header, objectHeaders, parseRange } from "./http-headers.js";

/**
 * A presigned GET or HEAD: the object streams from the driver to the response, with Range (206,
 * 416), If-Range, If-Match (412) and If-None-Match (304).
 */
export async function sendObject(
  req: IncomingMessage,
  res: ServerResponse,
  blobs: BlobStore,
  key: string,
  requestId: string,
): Promise<void> {
  const conditions = {
    ...(header(req.headers, "if-match") !== undefined && { ifMatch: header(req.headers, "if-match") }),
    ...(header(req.headers, "if-none-match") !== undefined && {
      ifNoneMatch: header(req.headers, "if-none-match"),
    }),
  };
  try {
    if (req.method === "HEAD") {
      const info = await blobs.head(key, conditions);
      if (info === undefined) throw missing(key);
      res.writeHead(200, { ...objectHeaders(info), "content-length": info.size, "x-request-id": requestId });
      res.end();
      return;
    }
    let range = parseRange(header(req.headers, "range"));
    const ifRange = header(req.headers, "if-range");
    if (range !== undefined && ifRange !== undefined) {
      const info = await blobs.head(key);
      if (info === undefined || info.etag !== ifRange.trim()) range = undefined; // changed: send it all
    }
    const found = await blobs.open(key, { ...conditions, ...(range !== undefined && { range }) });
    if (found === undefined) throw missing(key);
    const { info, body } = found;
    const headers: Record<string, string | number> = { ...objectHeaders(info), "x-request-id": requestId };
    if (found.range === undefined) {
      headers["content-length"] = info.size;
      res.writeHead(200, headers);
    } else {
      headers["content-length"] = found.range.end - found.range.start + 1;
      headers["content-range"] = `bytes ${found.range.start}-${found.range.end}/${info.size}`;
      res.writeHead(206, headers);
    }
    await pipeline(Readable.fromWeb(body as NodeReadableStream<Uint8Array>), res).catch(() => {
      // The client went away mid-download: the pipeline closed the file; nothing else to do.
    });
  } catch (error) {
    if (isCairnError(error) && error.code === "not_modified") {
      const etag = error.details?.etag;
      res.writeHead(304, { ...(typeof etag === "string" && { etag }), "x-request-id": requestId });
      res.end();
      return;
    }
    if (isCairnError(error) && error.code === "range_not_satisfiable") {
      const size = error.details?.size;
      sendError(
        res,
        416,
        error.code,
        error.message,
        requestId,
        typeof size === "number" ? { "content-range": `bytes */${size}` } : undefined,
      );
      return;
    }
    throw error;
  }
}

function missing(key: string): CairnError {
  return new CairnError("not_found", `no blob "${key}"`);
}
