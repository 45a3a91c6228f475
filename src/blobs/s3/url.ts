import { CairnError } from "../../sdk/errors.js";

/**
 * CAIRN_BLOBS_URL for the S3 driver:
 *
 *   s3://<bucket>[/<prefix>][?endpoint=<url>&region=<region>&forcePathStyle=true|false
 *     &accessKeyId=<id>&secretAccessKey=<secret>&sessionToken=<token>
 *     &partSize=<MiB>&queueSize=<n>&timeout=<ms>&directDownloads=true|false]
 *
 * Credentials come from the URL, else from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and
 * AWS_SESSION_TOKEN) of the node's environment, else from the AWS SDK's default chain (shared
 * config files, SSO, container and instance roles). Secrets never appear in messages: `where` is
 * the URL with them masked, and errors about a malformed URL do not echo it.
 */
export interface S3Settings {
  bucket: string;
  /** Key prefix of the deployment in the bucket: "" or "a/b/" (each app adds "<app>/"). */
  prefix: string;
  /** An S3-compatible server (MinIO, R2, Ceph...); absent for AWS S3. */
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  /** Bytes per part of a multipart upload (objects larger than one part are uploaded in parts). */
  partSize: number;
  /** Parts of one upload in flight at once (each holds a part in memory). */
  queueSize: number;
  /** Longest a request may wait without a byte moving, in ms. */
  timeoutMs: number;
  /** Presigned GET URLs of existing objects are signed by S3 for their bytes (uploads stay with Cairn). */
  directDownloads: boolean;
  /** The URL with its secrets masked, for messages and logs. */
  where: string;
}

const mib = 1024 * 1024;
export const s3Defaults = { partSizeMib: 5, queueSize: 2, timeoutMs: 10_000 } as const;

const known = [
  "endpoint",
  "region",
  "forcePathStyle",
  "accessKeyId",
  "secretAccessKey",
  "sessionToken",
  "partSize",
  "queueSize",
  "timeout",
  "directDownloads",
] as const;
const secretParams = new Set(["secretAccessKey", "sessionToken"]);

export function isS3Url(url: string): boolean {
  return /^s3:/i.test(url);
}

export function parseS3Url(url: string, env: NodeJS.ProcessEnv, name = "CAIRN_BLOBS_URL"): S3Settings {
  const bad = (why: string) => new CairnError("invalid_config", `${name}: ${why}`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw bad("not a URL; expected s3://bucket/prefix?endpoint=…&region=…");
  }
  if (parsed.protocol !== "s3:") throw bad(`expected s3://, not ${parsed.protocol}//`);
  if (parsed.username !== "" || parsed.password !== "") {
    throw bad(
      "credentials do not go before the bucket name; use the accessKeyId and secretAccessKey parameters " +
        "or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
    );
  }
  if (parsed.port !== "") throw bad("a bucket has no port; give the server as endpoint=http://host:port");
  const bucket = decodeURIComponent(parsed.hostname);
  if (!/^[a-z0-9][a-z0-9._-]{1,253}[a-z0-9]$/i.test(bucket)) {
    throw bad("name a bucket after s3:// (3 to 255 letters, digits, '.', '-' and '_')");
  }
  const prefix = prefixOf(parsed.pathname, bad);

  const params = new Map<string, string>();
  for (const [key, value] of parsed.searchParams) {
    if (!(known as readonly string[]).includes(key)) {
      throw bad(`unknown parameter "${key}"; the parameters are ${known.join(", ")}`);
    }
    if (params.has(key)) throw bad(`the parameter "${key}" is given twice`);
    params.set(key, value);
  }

  let endpoint: string | undefined;
  const endpointParam = params.get("endpoint");
  if (endpointParam !== undefined) {
    let value: URL;
    try {
      value = new URL(endpointParam);
    } catch {
      throw bad("endpoint must be an http:// or https:// URL, such as endpoint=http://127.0.0.1:9000");
    }
    if (value.protocol !== "http:" && value.protocol !== "https:") {
      throw bad("endpoint must be an http:// or https:// URL, such as endpoint=http://127.0.0.1:9000");
    }
    if (value.username !== "" || value.password !== "" || value.search !== "" || value.hash !== "") {
      throw bad("endpoint must be a plain http(s)://host[:port] URL, without credentials or a query");
    }
    endpoint = value.toString().replace(/\/+$/, "");
  }

  const region = params.get("region") ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? "us-east-1";
  if (!/^[a-z0-9-]{1,64}$/i.test(region)) throw bad(`region "${region}" is not a region name`);

  const pathStyle = params.get("forcePathStyle");
  if (pathStyle !== undefined && pathStyle !== "true" && pathStyle !== "false") {
    throw bad("forcePathStyle must be true or false");
  }
  // S3-compatible servers mostly want path-style requests; AWS S3 wants virtual-hosted ones.
  const forcePathStyle = pathStyle === undefined ? endpoint !== undefined : pathStyle === "true";

  const direct = params.get("directDownloads");
  if (direct !== undefined && direct !== "true" && direct !== "false") {
    throw bad("directDownloads must be true or false");
  }

  const settings: S3Settings = {
    bucket,
    prefix,
    region,
    forcePathStyle,
    partSize:
      integer(params.get("partSize"), s3Defaults.partSizeMib, 5, 5 * 1024, "partSize (MiB)", bad) * mib,
    queueSize: integer(params.get("queueSize"), s3Defaults.queueSize, 1, 16, "queueSize", bad),
    timeoutMs: integer(params.get("timeout"), s3Defaults.timeoutMs, 100, 600_000, "timeout (ms)", bad),
    directDownloads: direct === "true",
    where: maskS3Url(url),
  };
  if (endpoint !== undefined) settings.endpoint = endpoint;
  const credentials = credentialsOf(params, env, bad);
  if (credentials !== undefined) settings.credentials = credentials;
  return settings;
}

/** The URL with secretAccessKey and sessionToken masked (and nothing at all if it is malformed). */
export function maskS3Url(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "s3://…";
  }
  if (parsed.password !== "") parsed.password = "***";
  const query = [...parsed.searchParams].map(
    ([key, value]) =>
      `${encodeURIComponent(key)}=${secretParams.has(key) ? "***" : encodeURIComponent(value).replace(/%3A/gi, ":").replace(/%2F/gi, "/")}`,
  );
  parsed.search = "";
  return query.length === 0 ? parsed.toString() : `${parsed.toString()}?${query.join("&")}`;
}

function prefixOf(pathname: string, bad: (why: string) => CairnError): string {
  let path: string;
  try {
    path = decodeURIComponent(pathname);
  } catch {
    throw bad("the prefix is not validly percent-encoded");
  }
  path = path.replace(/^\/+|\/+$/g, "");
  if (path === "") return "";
  const control = /[\p{Cc}]/u;
  if (control.test(path) || path.split("/").some((s) => s === "" || s === "." || s === "..")) {
    throw bad(
      "the prefix must be plain path segments (no empty, '.' or '..' segment, no control characters)",
    );
  }
  if (Buffer.byteLength(path) > 512) throw bad("the prefix is longer than 512 bytes");
  return `${path}/`;
}

function integer(
  value: string | undefined,
  fallback: number,
  min: number,
  max: number,
  what: string,
  bad: (why: string) => CairnError,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max)
    throw bad(`${what} must be an integer from ${min} to ${max}`);
  return n;
}

function credentialsOf(
  params: Map<string, string>,
  env: NodeJS.ProcessEnv,
  bad: (why: string) => CairnError,
): S3Settings["credentials"] {
  const id = params.get("accessKeyId");
  const secret = params.get("secretAccessKey");
  const token = params.get("sessionToken");
  if (id !== undefined || secret !== undefined || token !== undefined) {
    if (id === undefined || id === "" || secret === undefined || secret === "") {
      throw bad("give accessKeyId and secretAccessKey together (or neither, to use AWS_ACCESS_KEY_ID…)");
    }
    return { accessKeyId: id, secretAccessKey: secret, ...(token !== undefined && { sessionToken: token }) };
  }
  const envId = env.AWS_ACCESS_KEY_ID;
  const envSecret = env.AWS_SECRET_ACCESS_KEY;
  if (envId !== undefined && envId !== "" && envSecret !== undefined && envSecret !== "") {
    const envToken = env.AWS_SESSION_TOKEN;
    return {
      accessKeyId: envId,
      secretAccessKey: envSecret,
      ...(envToken !== undefined && envToken !== "" && { sessionToken: envToken }),
    };
  }
  return undefined; // the SDK's default chain: profiles, SSO, container or instance roles
}
