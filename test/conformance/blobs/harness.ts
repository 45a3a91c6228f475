import { createHash, randomBytes } from "node:crypto";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { pino } from "pino";
import type { BlobStore } from "../../../src/blobs/blob-store.js";
import { blobsProvider } from "../../../src/blobs/service.js";
import { AppServices, type ServiceProvider } from "../../../src/host/services.js";
import type { LoadedApp } from "../../../src/runtime/app.js";
import { CairnError } from "../../../src/sdk/errors.js";
import { ManualClock } from "../../../src/shared/clock.js";
import type { Store } from "../../../src/store/types.js";
import { tablesProvider } from "../../../src/tables/service.js";

/** What the conformance suite runs against: a fresh, empty blob store, its clock, and how to dispose of it. */
export interface BlobsFixture {
  blobs: BlobStore;
  clock: ManualClock;
  close(): Promise<void>;
}

export const publicUrl = "https://blobs.example.test";

/**
 * The blobs service as the platform opens it for an app (the real tables and blobs providers) over
 * a given store and data folder. `env` chooses the driver (CAIRN_BLOBS_URL), as on a real node.
 */
export async function openBlobs(
  store: Store,
  dataDir: string,
  env: NodeJS.ProcessEnv,
  dispose: () => Promise<void>,
): Promise<BlobsFixture> {
  const clock = new ManualClock();
  const storeProvider: ServiceProvider = {
    name: "store",
    open: () => Promise.resolve({ api: store, operations: {} }),
  };
  // Two functions subscribe to the blob events, so that the events become delivery rows to check.
  const functions = [
    { name: "onCreated", trigger: { kind: "event", topic: "blob.created", filter: {} } },
    { name: "onDeleted", trigger: { kind: "event", topic: "blob.deleted", filter: {} } },
  ];
  const app = {
    name: "conformance",
    dir: dataDir,
    dataDir,
    config: { config: {} },
    functions,
  } as unknown as LoadedApp;
  const environment = {
    app,
    logger: pino({ level: "silent" }),
    env: { CAIRN_PUBLIC_URL: publicUrl, ...env },
    clock,
    // No function runs here: the events stay in the store, where the suite reads them.
    functions: { invoke: () => Promise.reject(new Error("no functions run in the blobs conformance suite")) },
  } as Parameters<typeof AppServices.open>[1];
  const services = await AppServices.open([storeProvider, tablesProvider, blobsProvider], environment);
  return {
    blobs: services.api<BlobStore>("blobs")!,
    clock,
    async close() {
      await services.close();
      await dispose();
    },
  };
}

/** The CairnError a promise rejects with (fails the test if it resolves or rejects otherwise). */
export async function failure(promise: Promise<unknown>): Promise<CairnError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof CairnError)) throw new Error(`expected a CairnError, got ${String(error)}`);
  return error;
}

/**
 * `size` bytes produced on demand in 64 KB chunks (each distinct), never all in memory at once,
 * with the SHA-256 of what was produced once it has all been read.
 */
export function generated(
  size: number,
  each?: () => void,
): { stream: ReadableStream<Uint8Array>; digest: () => string } {
  const base = randomBytes(64 * 1024);
  const hash = createHash("sha256");
  let produced = 0;
  let n = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (produced >= size) {
          controller.close();
          return;
        }
        const chunk = new Uint8Array(Math.min(base.length, size - produced));
        chunk.set(base.subarray(0, chunk.length));
        new DataView(chunk.buffer).setUint32(0, n++);
        hash.update(chunk);
        produced += chunk.length;
        controller.enqueue(chunk);
        each?.();
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, digest: () => hash.digest("hex") };
}

/** SHA-256 and size of a stream, read chunk by chunk; `each` runs after every chunk. */
export async function digestOf(
  stream: ReadableStream<Uint8Array>,
  each?: () => void,
): Promise<{ sha256: string; size: number }> {
  const hash = createHash("sha256");
  const reader = stream.getReader();
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    hash.update(value);
    size += value.byteLength;
    each?.();
  }
  return { sha256: hash.digest("hex"), size };
}

export function sha256(bytes: Uint8Array | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}

let gc: (() => void) | undefined;

/**
 * Tracks the most memory (ArrayBuffers and RSS) held above a baseline, measured after a full
 * garbage collection, so garbage awaiting collection does not count: only what is really kept.
 */
export class MemoryWatch {
  private readonly baseline: NodeJS.MemoryUsage;
  peakArrayBuffers = 0;
  peakRss = 0;
  private calls = 0;

  constructor(private readonly every = 64) {
    if (gc === undefined) {
      setFlagsFromString("--expose-gc");
      gc = runInNewContext("gc") as () => void;
    }
    gc();
    this.baseline = process.memoryUsage();
  }

  sample(): void {
    if (++this.calls % this.every !== 0) return;
    gc!();
    const now = process.memoryUsage();
    this.peakArrayBuffers = Math.max(this.peakArrayBuffers, now.arrayBuffers - this.baseline.arrayBuffers);
    this.peakRss = Math.max(this.peakRss, now.rss - this.baseline.rss);
  }
}
