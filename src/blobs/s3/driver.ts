import type { S3Client } from "@aws-sdk/client-s3";
import type { Readable } from "node:stream";
import type { HostLogger } from "../../log/logger.js";
import { CairnError } from "../../sdk/errors.js";
import type { Clock } from "../../shared/clock.js";
import type { BlobDriver, Chunks, WrittenBytes } from "../driver.js";
import { createdOf, isId, newId } from "../ids.js";
import { createS3Client, loadS3Sdk, type S3Sdk } from "./client.js";
import { httpStatusOf, isUnreachable, s3ErrorName, s3Failure } from "./errors.js";
import { measured, rangeWindow, webStreamOf } from "./streams.js";
import type { S3Settings } from "./url.js";

/** Multipart uploads a crash left unfinished are aborted once this old. */
const staleUploadMs = 24 * 3_600_000;
const minPartSize = 5 * 1024 * 1024;
const maxParts = 10_000;
/** The bucket check at start waits this long at most (a server that does not answer only warns). */
const startCheckMs = 5000;

export interface S3DriverOptions {
  settings: S3Settings;
  /** The app: its bytes live under `<prefix><app>/` in the bucket. */
  app: string;
  clock: Clock;
  logger?: HostLogger;
}

/**
 * The scale-out driver: bytes are objects of an S3 bucket (or any S3-compatible server), one per
 * storage id, under the app's own prefix. A write streams through an MD5 hash into a plain PUT
 * when it fits in one part, else into a multipart upload (parts of `partSize`, `queueSize` of them
 * in flight, aborted on failure); S3 makes an object visible only once complete, so an id either
 * holds every byte or does not exist. Reads are ranged GETs streamed to the caller.
 */
export class S3Driver implements BlobDriver {
  readonly name = "s3";
  /** Key prefix of this app's objects: `<prefix><app>/`. */
  readonly base: string;
  private readonly bucket: string;
  private readonly where: string;
  /** Whether an outage was logged (and its end is still to be). */
  private down = false;

  private constructor(
    private readonly sdk: S3Sdk,
    readonly client: S3Client,
    private readonly settings: S3Settings,
    app: string,
    private readonly clock: Clock,
    private readonly logger: HostLogger | undefined,
  ) {
    this.bucket = settings.bucket;
    this.base = `${settings.prefix}${app}/`;
    this.where = settings.where;
  }

  /**
   * Opens the driver and checks the bucket: a missing bucket or refused credentials fail here
   * (`invalid_config`), while a server that cannot be reached only logs a warning, since blob
   * calls fail with `backend_unavailable` until it answers and then work again by themselves.
   */
  static async open(options: S3DriverOptions): Promise<S3Driver> {
    const sdk = await loadS3Sdk();
    const client = createS3Client(sdk, options.settings);
    const driver = new S3Driver(sdk, client, options.settings, options.app, options.clock, options.logger);
    try {
      await client.send(new sdk.client.HeadBucketCommand({ Bucket: driver.bucket }), {
        abortSignal: AbortSignal.timeout(startCheckMs),
      });
    } catch (error) {
      const status = httpStatusOf(error);
      if (status === 404 || status === 403 || status === 400 || status === 301) {
        client.destroy();
        const problem =
          status === 404
            ? `the bucket "${driver.bucket}" does not exist`
            : status === 403
              ? `access to the bucket "${driver.bucket}" was refused (check the credentials and their permissions)`
              : `the bucket "${driver.bucket}" refused the request (${status}${s3ErrorName(error) ? ` ${s3ErrorName(error)}` : ""}; check the region)`;
        throw new CairnError("invalid_config", `CAIRN_BLOBS_URL (${driver.where}): ${problem}`, {
          cause: error,
        });
      }
      if (error instanceof Error && error.name === "CredentialsProviderError") {
        client.destroy();
        throw new CairnError("invalid_config", s3Failure(error, driver.where).message, { cause: error });
      }
      driver.fail(error); // logs the outage; the error itself is not thrown at start
    }
    return driver;
  }

  async write(body: Chunks, { maxSize }: { maxSize: number }): Promise<WrittenBytes> {
    const id = newId(this.clock.now());
    const source = measured(body, maxSize);
    // S3 allows 10,000 parts: objects near the size limit need larger parts.
    const partSize = Math.max(this.settings.partSize, minPartSize, Math.ceil(maxSize / maxParts));
    const upload = new this.sdk.storage.Upload({
      client: this.client,
      params: {
        Bucket: this.bucket,
        Key: this.keyOf(id),
        Body: source.stream,
        ContentType: "application/octet-stream",
      },
      partSize,
      queueSize: this.settings.queueSize,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (error) {
      // Stop reading the source. Parts already sent were aborted with the upload (or, where that
      // failed too, by the sweep); an object that a failed call completed after all is
      // unreferenced bytes, which the orphan sweep removes.
      source.stream.destroy();
      const failure = source.failure();
      // The source's own error, or payload_too_large, whatever aborting the upload then did.
      if (failure !== undefined) throw failure;
      throw this.fail(error);
    }
    this.up();
    return { id, size: source.size(), etag: source.etag() };
  }

  async read(
    id: string,
    range?: { start: number; end: number },
  ): Promise<ReadableStream<Uint8Array> | undefined> {
    if (!isId(id)) return undefined;
    let output;
    try {
      output = await this.client.send(
        new this.sdk.client.GetObjectCommand({
          Bucket: this.bucket,
          Key: this.keyOf(id),
          ...(range !== undefined && { Range: `bytes=${range.start}-${range.end}` }),
        }),
      );
    } catch (error) {
      if (s3ErrorName(error) === "NoSuchKey" || httpStatusOf(error) === 404) {
        this.up();
        return undefined;
      }
      throw this.fail(error);
    }
    this.up();
    const body = output.Body as (Readable & AsyncIterable<Uint8Array>) | undefined;
    if (body === undefined) return new ReadableStream({ start: (controller) => controller.close() });
    const fail = (error: unknown) => this.fail(error);
    if (range === undefined) return webStreamOf(body, fail);
    let window;
    try {
      window = rangeWindow(range, output.ContentRange);
    } catch (error) {
      body.destroy();
      throw this.fail(error);
    }
    return webStreamOf(body, fail, window);
  }

  async delete(id: string): Promise<void> {
    if (!isId(id)) return;
    try {
      await this.client.send(
        new this.sdk.client.DeleteObjectCommand({ Bucket: this.bucket, Key: this.keyOf(id) }),
      );
    } catch (error) {
      if (httpStatusOf(error) === 404) return;
      throw this.fail(error);
    }
    this.up();
  }

  async *list(): AsyncIterable<{ id: string; created: number }> {
    let token: string | undefined;
    do {
      let page;
      try {
        page = await this.client.send(
          new this.sdk.client.ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.base,
            ...(token !== undefined && { ContinuationToken: token }),
          }),
        );
      } catch (error) {
        throw this.fail(error);
      }
      this.up();
      for (const object of page.Contents ?? []) {
        const id = object.Key?.slice(this.base.length) ?? "";
        const created = createdOf(id);
        if (created !== undefined) yield { id, created };
      }
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  /**
   * Abort multipart uploads of this app that a crash left unfinished (their parts are billed but
   * invisible). Servers without ListMultipartUploads are skipped: there, a bucket lifecycle rule
   * (AbortIncompleteMultipartUpload) does the same.
   */
  async sweep(): Promise<void> {
    const cutoff = Date.now() - staleUploadMs;
    let keyMarker: string | undefined;
    let uploadMarker: string | undefined;
    for (;;) {
      let page;
      try {
        page = await this.client.send(
          new this.sdk.client.ListMultipartUploadsCommand({
            Bucket: this.bucket,
            Prefix: this.base,
            ...(keyMarker !== undefined && { KeyMarker: keyMarker }),
            ...(uploadMarker !== undefined && { UploadIdMarker: uploadMarker }),
          }),
        );
      } catch (error) {
        const status = httpStatusOf(error);
        if (status === 501 || status === 405 || s3ErrorName(error) === "NotImplemented") return;
        throw this.fail(error);
      }
      for (const upload of page.Uploads ?? []) {
        if (upload.Key === undefined || upload.UploadId === undefined) continue;
        if ((upload.Initiated?.getTime() ?? Infinity) > cutoff) continue;
        await this.client
          .send(
            new this.sdk.client.AbortMultipartUploadCommand({
              Bucket: this.bucket,
              Key: upload.Key,
              UploadId: upload.UploadId,
            }),
          )
          .catch((error: unknown) => {
            if (httpStatusOf(error) !== 404) throw this.fail(error);
          });
      }
      if (page.IsTruncated !== true) return;
      keyMarker = page.NextKeyMarker;
      uploadMarker = page.NextUploadIdMarker;
    }
  }

  /**
   * With directDownloads=true, a GET URL signed by S3 (the AWS presigner: SigV4 in the query) for
   * the bytes of an id, answering with the object's Content-Type. The URL names the bytes, not the
   * key: once the object is replaced or deleted (and its old bytes removed) it answers 404.
   */
  async presignRead(
    id: string,
    { expiresIn, contentType }: { expiresIn: number; contentType: string },
  ): Promise<string | undefined> {
    if (!this.settings.directDownloads || !isId(id)) return undefined;
    const command = new this.sdk.client.GetObjectCommand({
      Bucket: this.bucket,
      Key: this.keyOf(id),
      ResponseContentType: contentType,
    });
    try {
      return await this.sdk.presigner.getSignedUrl(this.client, command, { expiresIn });
    } catch (error) {
      throw this.fail(error);
    }
  }

  close(): Promise<void> {
    this.client.destroy();
    return Promise.resolve();
  }

  /** The object key of a storage id. */
  keyOf(id: string): string {
    return `${this.base}${id}`;
  }

  /** A failed call as the error to throw, logging the start of an outage once. */
  private fail(error: unknown): CairnError {
    const failure = s3Failure(error, this.where);
    if (failure.retryable && isUnreachable(error) && !this.down) {
      this.down = true;
      this.logger?.warn(
        { blobs: this.where, error: failure.message },
        "blobs: S3 is unreachable; blob reads and writes fail with backend_unavailable until it answers",
      );
    }
    return failure;
  }

  private up(): void {
    if (!this.down) return;
    this.down = false;
    this.logger?.info({ blobs: this.where }, "blobs: S3 is reachable again");
  }
}
