import type { HostLogger } from "../log/logger.js";
import { CairnError } from "../sdk/errors.js";
import type { Clock } from "../shared/clock.js";
import type { TablesHost } from "../tables/service.js";
import type { Conditions, Stored } from "../tables/types.js";
import { chunksOf, discard } from "./body.js";
import { commitDelete, commitPut } from "./commit.js";
import { checkConditions, checkPut, checkRead, preconditionFailed } from "./conditions.js";
import type { BlobDriver, WrittenBytes } from "./driver.js";
import { checkKey } from "./keys.js";
import { listBlobs } from "./listing.js";
import { blobTable, objectPartition, toInfo, type BlobItem } from "./metadata.js";
import { blobObject, defaultContentType, streamOf } from "./object.js";
import {
  checkContentType,
  checkEtag,
  checkMetadata,
  checkPutOptions,
  etagMatches,
  resolveRange,
} from "./options.js";
import { presignedPath, presignTarget, verifyPresigned, type PresignedTarget } from "./presign.js";
import {
  blobLimits,
  type BlobBody,
  type BlobConditions,
  type BlobDeleteOptions,
  type BlobGetOptions,
  type BlobInfo,
  type BlobList,
  type BlobListOptions,
  type BlobObject,
  type BlobPutOptions,
  type Blobs,
  type PresignOptions,
} from "./types.js";

export interface BlobStoreOptions {
  app: string;
  tables: TablesHost;
  driver: BlobDriver;
  clock: Clock;
  signingKey: Buffer;
  /** Origin that presigned URLs start with (CAIRN_PUBLIC_URL); else the caller's request origin. */
  publicUrl?: string;
  maxObjectSize?: number;
  /** Unreferenced bytes younger than this are left alone by the sweep (default 1 h). */
  orphanGraceMs?: number;
  logger?: HostLogger;
}

/** Optimistic commits retried this often before an unconditional put stops guarding the old bytes. */
const commitAttempts = 8;

/**
 * The blobs of one app, on the host: metadata in the `_blobs` system table, bytes in a driver.
 * An object becomes visible when its metadata commits, after its bytes are durable; replaced
 * bytes are deleted after the commit, and bytes a crash left unreferenced are swept later.
 */
export class BlobStore implements Blobs {
  readonly app: string;
  readonly driver: BlobDriver;
  readonly maxObjectSize: number;
  /** The app's tables: metadata and outbox events live there. */
  readonly tables: TablesHost;
  private readonly clock: Clock;
  private readonly signingKey: Buffer;
  private readonly publicUrl: string | undefined;
  private readonly orphanGraceMs: number;
  private readonly logger: HostLogger | undefined;

  constructor(options: BlobStoreOptions) {
    this.app = options.app;
    this.tables = options.tables;
    this.driver = options.driver;
    this.clock = options.clock;
    this.signingKey = options.signingKey;
    this.publicUrl = options.publicUrl?.replace(/\/+$/, "");
    this.maxObjectSize = options.maxObjectSize ?? blobLimits.maxObjectSize;
    this.orphanGraceMs = options.orphanGraceMs ?? 3_600_000;
    this.logger = options.logger;
  }

  async put(
    key: string,
    body: BlobBody | AsyncIterable<Uint8Array>,
    options?: BlobPutOptions,
  ): Promise<BlobInfo> {
    return (await this.write(key, body, options)).info;
  }

  /** `put`, also telling whether the key was new; `maxSize` can lower the object size limit. */
  async write(
    key: string,
    body: BlobBody | AsyncIterable<Uint8Array>,
    options?: BlobPutOptions,
    maxSize = this.maxObjectSize,
  ): Promise<{ info: BlobInfo; created: boolean }> {
    let written: WrittenBytes | undefined;
    try {
      checkKey(key);
      const conditions = checkPutOptions(options);
      const contentType = checkContentType(conditions.contentType) ?? defaultContentType(body);
      const metadata = checkMetadata(conditions.metadata);
      let current = await this.item(key);
      checkPut(current, conditions);
      const source = chunksOf(body);
      written = await this.driver.write(source, { maxSize: Math.min(maxSize, this.maxObjectSize) });
      const item: BlobItem = {
        p: objectPartition,
        k: key,
        sid: written.id,
        size: written.size,
        etag: written.etag,
        ct: contentType,
        meta: metadata,
        mod: this.clock.now(),
      };
      let stored: Stored<BlobItem> | undefined;
      for (let attempt = 1; stored === undefined; attempt++) {
        const guard: Conditions | undefined = conditions.ifNoneMatch
          ? { ifNotExists: true }
          : attempt > commitAttempts && conditions.ifMatch === undefined
            ? undefined // heavy contention: write anyway; whatever bytes this replaces, the sweep removes
            : current === undefined
              ? { ifNotExists: true }
              : { ifVersion: current._version };
        try {
          stored = await commitPut(this.tables, item, guard);
        } catch (error) {
          if (!(error instanceof CairnError && error.code === "condition_failed")) throw error;
          if (conditions.ifNoneMatch) throw preconditionFailed("an object already exists under this key");
          if (attempt > commitAttempts * 2) {
            throw new CairnError("conflict", "the object kept changing under concurrent writes; try again", {
              retryable: true,
            });
          }
          current = await this.item(key);
          checkPut(current, conditions);
        }
      }
      const replaced = current?.sid;
      written = undefined; // committed: the bytes are the object's now
      if (replaced !== undefined && replaced !== item.sid) await this.dropBytes(replaced);
      return { info: toInfo(stored), created: current === undefined };
    } catch (error) {
      if (written !== undefined) await this.dropBytes(written.id);
      else await discard(body);
      throw error;
    }
  }

  async get(key: string, options: BlobGetOptions = {}): Promise<BlobObject | undefined> {
    const found = await this.open(key, options);
    return found && blobObject(found.info, found.body, found.range);
  }

  /** `get` without the body readers: what crosses to an instance (and what the HTTP endpoint sends). */
  async open(
    key: string,
    options: BlobGetOptions = {},
  ): Promise<
    { info: BlobInfo; body: ReadableStream<Uint8Array>; range?: { start: number; end: number } } | undefined
  > {
    checkKey(key);
    if (typeof options !== "object" || options === null)
      throw new CairnError("invalid_argument", "get options must be an object");
    checkConditions(options);
    // A concurrent overwrite may delete the bytes between reading metadata and opening them: look again.
    for (let attempt = 0; attempt < 5; attempt++) {
      const item = await this.item(key);
      if (item === undefined) return undefined;
      checkRead(item, options);
      const range = resolveRange(options.range, item.size);
      const body = item.size === 0 ? streamOf(new Uint8Array(0)) : await this.driver.read(item.sid, range);
      if (body === undefined) continue;
      return range === undefined ? { info: toInfo(item), body } : { info: toInfo(item), body, range };
    }
    throw new CairnError(
      "internal_error",
      `the bytes of blob "${key}" are missing from the ${this.driver.name} driver`,
    );
  }

  async head(key: string, options: BlobConditions = {}): Promise<BlobInfo | undefined> {
    checkKey(key);
    if (typeof options !== "object" || options === null)
      throw new CairnError("invalid_argument", "head options must be an object");
    checkConditions(options);
    const item = await this.item(key);
    if (item === undefined) return undefined;
    checkRead(item, options);
    return toInfo(item);
  }

  async delete(key: string, options: BlobDeleteOptions = {}): Promise<boolean> {
    checkKey(key);
    if (typeof options !== "object" || options === null)
      throw new CairnError("invalid_argument", "delete options must be an object");
    const ifMatch = checkEtag(options.ifMatch, "ifMatch");
    for (let attempt = 0; ; attempt++) {
      const current = await this.item(key);
      if (current === undefined) {
        if (ifMatch !== undefined) throw preconditionFailed("there is no object under this key");
        return false;
      }
      if (ifMatch !== undefined && !etagMatches(ifMatch, current.etag)) {
        throw preconditionFailed(`the object's ETag is ${current.etag}`);
      }
      try {
        await commitDelete(this.tables, current);
      } catch (error) {
        if (error instanceof CairnError && error.code === "condition_failed" && attempt < commitAttempts)
          continue;
        throw error;
      }
      await this.dropBytes(current.sid);
      return true;
    }
  }

  list(options?: BlobListOptions): Promise<BlobList> {
    return listBlobs(this.tables.tables, options);
  }

  /**
   * A presigned URL; `origin` (the caller's request origin) is used when CAIRN_PUBLIC_URL is not set.
   * A driver that offers download URLs of its own (S3 with directDownloads) signs GET URLs of
   * existing objects itself; every other URL is served by Cairn.
   */
  async presign(key: string, options: PresignOptions = {}, origin?: string): Promise<string> {
    checkKey(key);
    const now = this.clock.now();
    const target = presignTarget(this.app, key, options, now, this.maxObjectSize);
    if (target.method === "GET" && this.driver.presignRead !== undefined) {
      const item = await this.item(key);
      if (item !== undefined) {
        const expiresIn = Math.max(1, target.expires - Math.floor(now / 1000));
        const url = await this.driver.presignRead(item.sid, { expiresIn, contentType: item.ct });
        if (url !== undefined) return url;
      }
    }
    const base = this.publicUrl ?? origin?.replace(/\/+$/, "");
    if (base === undefined || base === "") {
      throw new CairnError(
        "invalid_config",
        "presign needs the server's public URL: set CAIRN_PUBLIC_URL (outside a request there is no origin to use)",
      );
    }
    return base + presignedPath(this.signingKey, target);
  }

  /** Check a request for a presigned URL (throws `invalid_signature` or `url_expired`). */
  verifyPresigned(request: { method: string; key: string; query: URLSearchParams }): PresignedTarget {
    return verifyPresigned(this.signingKey, { ...request, app: this.app }, this.clock.now());
  }

  /** Delete bytes no metadata refers to, once older than the grace period; returns how many. */
  async sweepOrphans(): Promise<number> {
    const cutoff = this.clock.now() - this.orphanGraceMs;
    let removed = 0;
    for await (const { id, created } of this.driver.list()) {
      if (created > cutoff) continue;
      const owners = await this.tables.tables.query(blobTable, id, { index: "bySid", limit: 1 });
      if (owners.items.length > 0) continue;
      await this.driver.delete(id);
      removed++;
    }
    await this.driver.sweep?.();
    if (removed > 0) this.logger?.info({ removed }, "blobs: removed unreferenced bytes");
    return removed;
  }

  private async item(key: string): Promise<Stored<BlobItem> | undefined> {
    return (await this.tables.tables.get(blobTable, { p: objectPartition, k: key })) as
      Stored<BlobItem> | undefined;
  }

  private async dropBytes(id: string): Promise<void> {
    try {
      await this.driver.delete(id);
    } catch (error) {
      // Harmless: unreferenced bytes are swept later.
      this.logger?.warn({ err: error, id }, "blobs: could not delete replaced bytes; the sweep will retry");
    }
  }
}
