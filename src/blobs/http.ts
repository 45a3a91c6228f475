import type { AdminApi, AdminRequest } from "../gateway/admin.js";
import { sendError } from "../gateway/respond.js";
import type { HostLogger } from "../log/logger.js";
import { CairnError, isCairnError } from "../sdk/errors.js";
import type { BlobStore } from "./blob-store.js";
import { header } from "./http-headers.js";
import { sendObject } from "./http-download.js";
import { receiveObject } from "./http-upload.js";
import { presignPathPrefix } from "./presign.js";

/** Finds the blobs of an app of the deployment serving now. */
export type BlobsLookup = (app: string) => BlobStore | undefined;

/**
 * Anyone holding a presigned URL may use it from any web page: the signature is the authorization
 * and no cookie or credential is involved, so every origin is allowed (as S3 CORS rules for
 * presigned uploads usually are).
 */
const cors = {
  "access-control-allow-origin": "*",
  "access-control-expose-headers":
    "etag, content-length, content-range, last-modified, accept-ranges, x-request-id",
};

/**
 * Presigned URLs, served by the gateway: `GET|HEAD|PUT /_cairn/blobs/<app>/<key>?...`. They need
 * no admin token (the signature is the authorization). Uploads stream from the request to the
 * driver and downloads from the driver to the response; neither is held in memory.
 */
export function registerBlobRoutes(admin: AdminApi, lookup: BlobsLookup, logger: HostLogger): void {
  const handler = (request: AdminRequest) => serve(request, lookup, logger);
  for (const method of ["GET", "HEAD", "PUT"] as const) {
    admin.route(method, "/blobs/:app/*", handler, { public: true });
  }
  admin.route("OPTIONS", "/blobs/:app/*", preflight, { public: true });
}

async function serve(
  { req, res, requestId }: AdminRequest,
  lookup: BlobsLookup,
  logger: HostLogger,
): Promise<void> {
  const upload = req.method === "PUT";
  for (const [name, value] of Object.entries(cors)) res.setHeader(name, value);
  try {
    const { app, key, query } = parseTarget(req.url ?? "");
    const blobs = lookup(app);
    if (blobs === undefined) throw new CairnError("not_found", `no app "${app}" on this server`);
    const target = blobs.verifyPresigned({ method: req.method ?? "GET", key, query });
    if (upload) await receiveObject(req, res, blobs, target, requestId);
    else await sendObject(req, res, blobs, key, requestId);
  } catch (error) {
    if (req.destroyed && !isCairnError(error)) {
      logger.debug({ err: error, req: requestId }, "blobs: the client went away during a presigned request");
      return;
    }
    const failure = isCairnError(error)
      ? error
      : new CairnError("internal_error", "internal error; the server log has the details");
    if (!isCairnError(error)) logger.error({ err: error, req: requestId }, "blobs: presigned request failed");
    // An upload refused before its body was all read: close the connection rather than read the rest.
    const extra: Record<string, string> = {};
    if (upload && !req.readableEnded) {
      res.shouldKeepAlive = false;
      extra.connection = "close";
    }
    sendError(res, failure.status, failure.code, failure.message, requestId, extra);
  }
}

/** A browser asks before a cross-origin PUT (or a GET with a Range header). */
function preflight({ req, res, requestId }: AdminRequest): void {
  res.writeHead(204, {
    ...cors,
    "access-control-allow-methods": "GET, HEAD, PUT",
    "access-control-allow-headers":
      header(req.headers, "access-control-request-headers") ??
      "content-type, range, if-match, if-none-match, if-range",
    "access-control-max-age": "3600",
    "x-request-id": requestId,
  });
  res.end();
}

function parseTarget(url: string): { app: string; key: string; query: URLSearchParams } {
  const q = url.indexOf("?");
  const path = q === -1 ? url : url.slice(0, q);
  const rest = path.slice(presignPathPrefix.length);
  const slash = rest.indexOf("/");
  try {
    return {
      app: decodeURIComponent(rest.slice(0, slash)),
      key: decodeURIComponent(rest.slice(slash + 1)),
      query: new URLSearchParams(q === -1 ? "" : url.slice(q + 1)),
    };
  } catch {
    throw new CairnError("bad_request", "the URL is not validly percent-encoded");
  }
}
