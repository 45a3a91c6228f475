import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { CairnError } from "../sdk/errors.js";
import { parseDuration } from "../shared/duration.js";
import type { TablesHost } from "../tables/service.js";
import { checkContentType } from "./options.js";
import { blobLimits, type PresignOptions } from "./types.js";

/**
 * Presigned URLs: `/_cairn/blobs/<app>/<key>?method=GET&expires=<epoch s>&signature=<hex>`, plus
 * `content-type` and `max-size` when a PUT URL binds them. The signature is an HMAC-SHA256 over
 * all of those fields, so changing any of them (or using the URL for another app, key or method)
 * breaks it. The HMAC key comes from CAIRN_SECRET, or is generated once and kept in the store.
 */
export interface PresignedTarget {
  method: "GET" | "PUT";
  app: string;
  key: string;
  /** Epoch seconds after which the URL no longer works. */
  expires: number;
  contentType?: string;
  maxSize?: number;
}

export const presignPathPrefix = "/_cairn/blobs/";
const minSecretLength = 16;

/** The HMAC key for presigned URLs: derived from CAIRN_SECRET, else the app's stored secret. */
export async function loadSigningKey(
  env: NodeJS.ProcessEnv,
  tables: TablesHost,
  table: string,
): Promise<Buffer> {
  const configured = env.CAIRN_SECRET;
  if (configured !== undefined && configured !== "") {
    if (configured.length < minSecretLength) {
      throw new CairnError(
        "invalid_config",
        `CAIRN_SECRET must be at least ${minSecretLength} characters (use a long random string, e.g. openssl rand -hex 32)`,
      );
    }
    return derive(configured);
  }
  const key = { p: "secret", k: "presign" };
  let stored = await tables.tables.get(table, key);
  if (stored === undefined) {
    try {
      stored = await tables.tables.put(
        table,
        { ...key, value: randomBytes(32).toString("hex") },
        { ifNotExists: true },
      );
    } catch (error) {
      // Another node (or deployment) created it first: use theirs.
      if (!(error instanceof CairnError && error.code === "condition_failed")) throw error;
      stored = await tables.tables.get(table, key);
    }
  }
  if (typeof stored?.value !== "string")
    throw new CairnError("internal_error", "the stored presign secret is unreadable");
  return derive(stored.value);
}

function derive(secret: string): Buffer {
  return createHmac("sha256", secret).update("cairn:blobs:presign:v1").digest();
}

export function signature(signingKey: Buffer, target: PresignedTarget): string {
  const fields = [
    "cairn-blobs-v1",
    target.method,
    target.app,
    target.key,
    String(target.expires),
    target.contentType ?? "",
    target.maxSize === undefined ? "" : String(target.maxSize),
  ];
  return createHmac("sha256", signingKey).update(fields.join("\n")).digest("hex");
}

/** The path and query of a presigned URL (the caller puts the public origin in front). */
export function presignedPath(signingKey: Buffer, target: PresignedTarget): string {
  const query = new URLSearchParams({ method: target.method, expires: String(target.expires) });
  if (target.contentType !== undefined) query.set("content-type", target.contentType);
  if (target.maxSize !== undefined) query.set("max-size", String(target.maxSize));
  query.set("signature", signature(signingKey, target));
  return `${presignPathPrefix}${encodeURIComponent(target.app)}/${encodeKeyPath(target.key)}?${query.toString()}`;
}

/** Each "/"-separated segment percent-encoded, so the key survives any URL handling intact. */
export function encodeKeyPath(key: string): string {
  return key.split("/").map(encodeURIComponent).join("/");
}

/**
 * Check a presigned request: the signature over what the URL says, then that the request is what
 * it allows, then the time. Anything wrong is 403: `invalid_signature` or `url_expired`.
 */
export function verifyPresigned(
  signingKey: Buffer,
  request: { method: string; app: string; key: string; query: URLSearchParams },
  nowMs: number,
): PresignedTarget {
  const { query } = request;
  const method = query.get("method");
  const expires = Number(query.get("expires"));
  const given = query.get("signature") ?? "";
  if (
    (method !== "GET" && method !== "PUT") ||
    !Number.isSafeInteger(expires) ||
    !/^[0-9a-f]{64}$/.test(given)
  ) {
    throw invalidSignature("this is not a presigned URL: it needs method, expires and signature");
  }
  const target: PresignedTarget = { method, app: request.app, key: request.key, expires };
  const contentType = query.get("content-type");
  if (contentType !== null) target.contentType = contentType;
  const maxSize = query.get("max-size");
  if (maxSize !== null) target.maxSize = Number(maxSize);
  const expected = Buffer.from(signature(signingKey, target), "hex");
  if (!timingSafeEqual(expected, Buffer.from(given, "hex"))) {
    throw invalidSignature(
      "the signature does not match this URL: it was altered, or signed by another server secret",
    );
  }
  const asked = request.method === "HEAD" ? "GET" : request.method;
  if (asked !== method) throw invalidSignature(`this URL allows ${method}, not ${request.method}`);
  if (nowMs >= expires * 1000) {
    throw new CairnError("url_expired", `this URL expired at ${new Date(expires * 1000).toISOString()}`);
  }
  return target;
}

/** What a new URL allows, from `presign` options (checked). */
export function presignTarget(
  app: string,
  key: string,
  options: PresignOptions,
  nowMs: number,
  maxObjectSize: number,
): PresignedTarget {
  if (typeof options !== "object" || options === null) {
    throw new CairnError("invalid_argument", "presign options must be an object");
  }
  const method = options.method ?? "GET";
  if (method !== "GET" && method !== "PUT")
    throw new CairnError("invalid_argument", 'method must be "GET" or "PUT"');
  if (method === "GET" && (options.contentType !== undefined || options.maxSize !== undefined)) {
    throw new CairnError("invalid_argument", "contentType and maxSize apply to PUT URLs only");
  }
  let expiresInMs: number;
  try {
    expiresInMs = parseDuration(options.expiresIn ?? blobLimits.defaultPresignExpiryMs, "expiresIn");
  } catch (error) {
    throw new CairnError("invalid_argument", (error as Error).message);
  }
  const target: PresignedTarget = { method, app, key, expires: expiryOf(nowMs, expiresInMs) };
  const contentType = checkContentType(options.contentType);
  if (contentType !== undefined) target.contentType = contentType;
  if (options.maxSize !== undefined) {
    const { maxSize } = options;
    if (!Number.isSafeInteger(maxSize) || maxSize < 0 || maxSize > maxObjectSize) {
      throw new CairnError("invalid_argument", `maxSize must be an integer from 0 to ${maxObjectSize}`);
    }
    target.maxSize = maxSize;
  }
  return target;
}

/** The expiry of a new URL in epoch seconds, from `expiresIn` in ms. */
export function expiryOf(nowMs: number, expiresInMs: number): number {
  if (!(expiresInMs >= 1000) || expiresInMs > blobLimits.maxPresignExpiryMs) {
    throw new CairnError("invalid_argument", "expiresIn must be from 1s to 7d");
  }
  return Math.floor((nowMs + expiresInMs) / 1000);
}

function invalidSignature(message: string): CairnError {
  return new CairnError("invalid_signature", message);
}
