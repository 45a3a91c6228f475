import type * as ClientS3 from "@aws-sdk/client-s3";
import type * as LibStorage from "@aws-sdk/lib-storage";
import type * as Presigner from "@aws-sdk/s3-request-presigner";
import type { S3Settings } from "./url.js";
import { importModule } from "../../shared/import-module.js";

/** The parts of the AWS SDK this driver uses. */
export interface S3Sdk {
  client: typeof ClientS3;
  storage: typeof LibStorage;
  presigner: typeof Presigner;
}

let sdk: Promise<S3Sdk> | undefined;

/**
 * The AWS SDK, loaded on first use: it is large, and a node without an s3:// CAIRN_BLOBS_URL never
 * needs it (dist/cli.cjs keeps it external, so a static import would load it at every start).
 */
export function loadS3Sdk(): Promise<S3Sdk> {
  return (sdk ??= Promise.all([
    importModule<typeof ClientS3>("@aws-sdk/client-s3"),
    importModule<typeof LibStorage>("@aws-sdk/lib-storage"),
    importModule<typeof Presigner>("@aws-sdk/s3-request-presigner"),
  ]).then(([client, storage, presigner]) => ({ client, storage, presigner })));
}

/** Longest wait for a TCP (and TLS) connection to the server. */
const connectTimeoutMs = 2000;

/**
 * A client set up to fail fast: a connection that does not open within 2 s or a request with no
 * byte moving for `timeout` ms fails (and is retried twice by the SDK, with backoff, as are 5xx
 * answers and throttling); sockets are kept alive between calls. Checksums are only sent where S3
 * requires them: the driver computes the MD5 of every write itself, and many S3-compatible
 * servers do not understand the newer streaming checksums.
 */
export function createS3Client(library: S3Sdk, settings: S3Settings): ClientS3.S3Client {
  return new library.client.S3Client({
    region: settings.region,
    ...(settings.endpoint !== undefined && { endpoint: settings.endpoint }),
    forcePathStyle: settings.forcePathStyle,
    ...(settings.credentials !== undefined && { credentials: settings.credentials }),
    followRegionRedirects: true,
    maxAttempts: 3,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    requestHandler: {
      connectionTimeout: connectTimeoutMs,
      socketTimeout: settings.timeoutMs,
      httpAgent: { keepAlive: true, maxSockets: 64 },
      httpsAgent: { keepAlive: true, maxSockets: 64 },
    },
  });
}
