import type { Operation } from "../host/services.js";
import { CairnError } from "../sdk/errors.js";
import type { BlobStore } from "./blob-store.js";
import { readAll } from "./object.js";
import {
  blobLimits,
  type BlobConditions,
  type BlobDeleteOptions,
  type BlobGetOptions,
  type BlobListOptions,
  type BlobPutOptions,
  type PresignOptions,
} from "./types.js";

/**
 * The operations instances call as "blobs.<op>". Bodies cross the thread boundary as bytes when
 * small and as streams (ReadableStream values, carried by the instance's stream channel) when not.
 */
export function blobOperations(blobs: BlobStore): Record<string, Operation> {
  return {
    put: ([key, body, options]) => {
      if (body !== undefined && !(body instanceof Uint8Array) && !(body instanceof ReadableStream)) {
        throw new CairnError("invalid_argument", "blobs.put: the body must be bytes or a stream");
      }
      return blobs.put(key as string, body, options as BlobPutOptions);
    },
    get: async ([key, options]) => {
      const found = await blobs.open(key as string, options as BlobGetOptions);
      if (found === undefined) return undefined;
      const length = found.range === undefined ? found.info.size : found.range.end - found.range.start + 1;
      // Small objects go back in the reply itself: one message instead of a stream's round trips.
      const body = length <= blobLimits.inlineBytes ? await readAll(found.body) : found.body;
      return { ...found.info, body, range: found.range };
    },
    head: ([key, options]) => blobs.head(key as string, options as BlobConditions),
    delete: ([key, options]) => blobs.delete(key as string, options as BlobDeleteOptions),
    list: ([options]) => blobs.list(options as BlobListOptions),
    presign: ([key, options, origin]) =>
      blobs.presign(
        key as string,
        options as PresignOptions,
        typeof origin === "string" ? origin : undefined,
      ),
  };
}
