import type { IncomingMessage, ServerResponse } from "node:http";
import { CairnError } from "../sdk/errors.js";
import type { BlobStore } from "./blob-store.js";
import { header } from "./http-headers.js";
import type { PresignedTarget } from "./presign.js";

/**
 * A presigned PUT: the request body streams to the driver (never buffered), within the smaller of
 * the URL's max-size and the app's object size limit; If-Match and If-None-Match: * make it
 * conditional. Answers 201 (new key) or 200 (replaced) with the ETag and the object's description.
 */
export async function receiveObject(
  req: IncomingMessage,
  res: ServerResponse,
  blobs: BlobStore,
  target: PresignedTarget,
  requestId: string,
): Promise<void> {
  const contentType = header(req.headers, "content-type") ?? "application/octet-stream";
  if (target.contentType !== undefined && contentType !== target.contentType) {
    throw new CairnError(
      "forbidden",
      `this URL only accepts uploads with Content-Type: ${target.contentType}`,
    );
  }
  const limit = Math.min(target.maxSize ?? Infinity, blobs.maxObjectSize);
  const declared = Number(header(req.headers, "content-length") ?? NaN);
  if (declared > limit) {
    throw new CairnError("payload_too_large", `the upload exceeds the limit of ${limit} bytes`, {
      details: { limit },
    });
  }
  const ifNoneMatch = header(req.headers, "if-none-match");
  if (ifNoneMatch !== undefined && ifNoneMatch.trim() !== "*") {
    throw new CairnError("invalid_argument", "uploads take only If-None-Match: * (write only if absent)");
  }
  const ifMatch = header(req.headers, "if-match");
  const { info, created } = await blobs.write(
    target.key,
    req,
    {
      contentType,
      ...(ifMatch !== undefined && { ifMatch }),
      ...(ifNoneMatch !== undefined && { ifNoneMatch: "*" as const }),
    },
    limit,
  );
  const body = JSON.stringify({ ...info, lastModified: info.lastModified.toISOString() });
  res.writeHead(created ? 201 : 200, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(body),
    etag: info.etag,
    "x-request-id": requestId,
  });
  res.end(body);
}
