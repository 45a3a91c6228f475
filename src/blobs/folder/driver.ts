import { createHash, randomBytes } from "node:crypto";
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { mkdir, open, opendir, rename, rm, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { CairnError } from "../../sdk/errors.js";
import type { Clock } from "../../shared/clock.js";
import type { BlobDriver, Chunks, WrittenBytes } from "../driver.js";
import { streamOf } from "../object.js";
import { blobLimits } from "../types.js";
import { fileStream, syncDir, writeAll } from "./files.js";
import { createdOf, fileOf, isId, newId } from "./ids.js";

/**
 * Reads of at most this many bytes happen at once, on the calling thread, as SQLite's do: an open,
 * a stat, a read and a close of a small file cost less there than four trips through the thread
 * pool (a 64 KB blob served from a function: ~1,000 µs of the server's CPU before, ~620 after).
 */
const smallReadBytes = blobLimits.inlineBytes;

/**
 * The bytes of a small blob (or its range): null when the file does not exist, undefined when the
 * read is too large to do here.
 */
function readSmall(
  path: string,
  range: { start: number; end: number } | undefined,
): Uint8Array | null | undefined {
  if (range !== undefined && range.end - range.start + 1 > smallReadBytes) return undefined;
  let descriptor: number;
  try {
    descriptor = openSync(path, "r");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
  try {
    const start = range?.start ?? 0;
    const end = range?.end ?? fstatSync(descriptor).size - 1;
    const length = end - start + 1;
    if (length > smallReadBytes) return undefined;
    const bytes = new Uint8Array(Math.max(0, length));
    let done = 0;
    while (done < bytes.byteLength) {
      const read = readSync(descriptor, bytes, done, bytes.byteLength - done, start + done);
      if (read === 0) throw new Error("the blob file ended early (it was truncated on disk)");
      done += read;
    }
    return bytes;
  } finally {
    closeSync(descriptor);
  }
}

/** Partial writes untouched this long (by file time) are left over from a crash and removed. */
const staleTempMs = 24 * 3_600_000;

/**
 * The embedded driver: one folder. A write goes to tmp/ (fsync'd), is renamed into objects/ under
 * a new id and the directory is fsync'd, so an id either holds every byte or does not exist.
 */
export class FolderDriver implements BlobDriver {
  readonly name = "folder";
  private readonly objects: string;
  private readonly tmp: string;
  private readonly knownDirs = new Set<string>();

  private constructor(
    readonly root: string,
    private readonly clock: Clock,
  ) {
    this.objects = join(root, "objects");
    this.tmp = join(root, "tmp");
  }

  static async open(root: string, clock: Clock): Promise<FolderDriver> {
    const driver = new FolderDriver(root, clock);
    try {
      await mkdir(driver.objects, { recursive: true });
      await mkdir(driver.tmp, { recursive: true });
    } catch (error) {
      throw new CairnError(
        "backend_unavailable",
        `cannot use the blob folder ${root}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    return driver;
  }

  async write(body: Chunks, { maxSize }: { maxSize: number }): Promise<WrittenBytes> {
    const temp = join(this.tmp, `${randomBytes(12).toString("hex")}.part`);
    const file = await open(temp, "wx");
    const hash = createHash("md5");
    let size = 0;
    try {
      for await (const chunk of body) {
        size += chunk.byteLength;
        if (size > maxSize) {
          throw new CairnError("payload_too_large", `the object exceeds the limit of ${maxSize} bytes`, {
            details: { limit: maxSize },
          });
        }
        hash.update(chunk);
        await writeAll(file, chunk);
      }
      await file.sync();
      await file.close();
    } catch (error) {
      await file.close().catch(() => {});
      await rm(temp, { force: true });
      throw error;
    }
    const id = newId(this.clock.now());
    const target = fileOf(this.objects, id);
    try {
      await this.ensureDir(dirname(target));
      await rename(temp, target);
      await syncDir(dirname(target));
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    return { id, size, etag: `"${hash.digest("hex")}"` };
  }

  async read(
    id: string,
    range?: { start: number; end: number },
  ): Promise<ReadableStream<Uint8Array> | undefined> {
    if (!isId(id)) return undefined;
    const path = fileOf(this.objects, id);
    const small = readSmall(path, range);
    if (small !== undefined) return small === null ? undefined : streamOf(small);
    let file;
    try {
      file = await open(path, "r");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
    try {
      const end = range === undefined ? (await file.stat()).size - 1 : range.end;
      return fileStream(file, range?.start ?? 0, end);
    } catch (error) {
      await file.close();
      throw error;
    }
  }

  async delete(id: string): Promise<void> {
    if (!isId(id)) return;
    await rm(fileOf(this.objects, id), { force: true });
  }

  async *list(): AsyncIterable<{ id: string; created: number }> {
    for await (const dir of await opendir(this.objects)) {
      if (!dir.isDirectory()) continue;
      for await (const entry of await opendir(join(this.objects, dir.name))) {
        const created = createdOf(entry.name);
        if (created !== undefined && entry.name.startsWith(dir.name)) yield { id: entry.name, created };
      }
    }
  }

  /** Remove partial writes a crash left behind (untouched for a day). */
  async sweep(): Promise<void> {
    const cutoff = Date.now() - staleTempMs;
    for await (const entry of await opendir(this.tmp)) {
      if (!entry.name.endsWith(".part")) continue;
      const path = join(this.tmp, entry.name);
      const info = await stat(path).catch(() => undefined);
      if (info !== undefined && info.mtimeMs < cutoff) await rm(path, { force: true });
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Create an id's sub-directory once, durably (its entry in objects/ is fsync'd too). */
  private async ensureDir(dir: string): Promise<void> {
    if (this.knownDirs.has(dir)) return;
    const created = await mkdir(dir, { recursive: true });
    if (created !== undefined) await syncDir(this.objects);
    this.knownDirs.add(dir);
  }
}
