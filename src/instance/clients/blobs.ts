/**
 * `ctx.blobs` inside an instance. Metadata calls are one host call each. Bodies up to 64 KB cross
 * in the call or reply itself; larger ones, and every stream, cross as a flow-controlled stream of
 * chunks, so an object of any size never has to fit in the instance's memory.
 */
import { blobObject, defaultContentType, streamOf } from "../../blobs/object.js";
import {
  blobLimits,
  type BlobBody,
  type BlobInfo,
  type BlobPutOptions,
  type Blobs,
} from "../../blobs/types.js";
import { CairnError } from "../../sdk/errors.js";
import { current } from "../invocation.js";
import { registerClient, type HostCall } from "./index.js";

type Reply = BlobInfo & {
  body: Uint8Array | ReadableStream<Uint8Array>;
  range?: { start: number; end: number };
};

export function createBlobsClient(call: HostCall): Blobs {
  const client: Blobs = {
    async put(key, body, options) {
      const withType: BlobPutOptions = {
        ...options,
        contentType: options?.contentType ?? defaultContentType(body),
      };
      const payload = await prepare(body);
      if (payload instanceof ReadableStream)
        return call("blobs.put", [key, payload, withType], [1]) as Promise<BlobInfo>;
      return call("blobs.put", [key, payload, withType]) as Promise<BlobInfo>;
    },
    async get(key, options) {
      const reply = (await call("blobs.get", [key, options])) as Reply | undefined;
      if (reply === undefined) return undefined;
      const { body, range, ...info } = reply;
      return blobObject(info, body instanceof Uint8Array ? streamOf(body) : body, range ?? undefined);
    },
    head: (key, options) => call("blobs.head", [key, options]) as Promise<BlobInfo | undefined>,
    delete: (key, options) => call("blobs.delete", [key, options]) as Promise<boolean>,
    list: (options) => call("blobs.list", [options]) as ReturnType<Blobs["list"]>,
    presign: (key, options) => call("blobs.presign", [key, options, requestOrigin()]) as Promise<string>,
  };
  return client;
}

registerClient("blobs", (_spec, call) => Object.freeze(createBlobsClient(call)));

/** Bytes to send in the call (small), or a stream to send alongside it. */
async function prepare(body: BlobBody): Promise<Uint8Array | ReadableStream<Uint8Array>> {
  if (body === null || body === undefined) return new Uint8Array(0);
  if (typeof body === "string") return bytesOrChunks(new TextEncoder().encode(body), false);
  if (body instanceof ArrayBuffer) return bytesOrChunks(new Uint8Array(body), true);
  if (ArrayBuffer.isView(body))
    return bytesOrChunks(new Uint8Array(body.buffer, body.byteOffset, body.byteLength), true);
  if (body instanceof Blob) {
    return body.size <= blobLimits.inlineBytes ? new Uint8Array(await body.arrayBuffer()) : body.stream();
  }
  if (body instanceof ReadableStream) return body;
  throw new CairnError(
    "invalid_argument",
    "a blob body must be a string, an ArrayBuffer or typed array, a Blob, or a ReadableStream of bytes",
  );
}

/** Small bytes go as they are (copied if they are a view of the caller's memory); large ones as a stream. */
function bytesOrChunks(bytes: Uint8Array, shared: boolean): Uint8Array | ReadableStream<Uint8Array> {
  if (bytes.byteLength <= blobLimits.inlineBytes) return shared ? bytes.slice() : bytes;
  return streamOf(bytes);
}

function requestOrigin(): string | undefined {
  const url = current.getStore()?.url;
  if (url === undefined) return undefined;
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}
