/**
 * Shapes shared by the host and the instance client (no host imports): the object `get` returns
 * with its body readers, and how a body's default content type is chosen.
 */
import type { BlobBody, BlobInfo, BlobObject } from "./types.js";

export function blobObject(
  info: BlobInfo,
  body: ReadableStream<Uint8Array>,
  range: { start: number; end: number } | undefined,
): BlobObject {
  const object: BlobObject = {
    ...info,
    body,
    text: async () => new TextDecoder().decode(await readAll(body)),
    json: async <T>() => JSON.parse(new TextDecoder().decode(await readAll(body))) as T,
    bytes: () => readAll(body),
    arrayBuffer: async () => {
      const bytes = await readAll(body);
      const own =
        bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.byteLength ? bytes : bytes.slice();
      return own.buffer as ArrayBuffer;
    },
  };
  if (range !== undefined) object.range = range;
  return object;
}

/** Read a whole stream into one buffer. */
export async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const reader = stream.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    size += value.byteLength;
  }
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.byteLength;
  }
  return out;
}

/** Streams made by streamOf that nobody has read from yet, with the bytes they hold. */
const unread = new WeakMap<object, Uint8Array>();

/** A stream of the given bytes (one chunk). */
export function streamOf(bytes: Uint8Array): ReadableStream<Uint8Array> {
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        unread.delete(stream);
        if (bytes.byteLength > 0) controller.enqueue(bytes);
        controller.close();
      },
    },
    // Pulled only when read, so that an unread stream is known to be unread.
    { highWaterMark: 0 },
  );
  unread.set(stream, bytes);
  return stream;
}

/**
 * The bytes behind a stream from streamOf that has not been read or locked: a response whose body is
 * such a stream (an object from `ctx.blobs.get`, handed on as it is) sends them in one piece instead
 * of chunk by chunk. Anything else: undefined.
 */
export function unreadBytes(value: unknown): Uint8Array | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const bytes = unread.get(value);
  if (bytes === undefined || (value as ReadableStream).locked) return undefined;
  return bytes;
}

/** The content type a body implies when `put` is given none. */
export function defaultContentType(body: BlobBody | AsyncIterable<Uint8Array>): string {
  if (typeof body === "string") return "text/plain;charset=utf-8";
  if (typeof Blob !== "undefined" && body instanceof Blob && body.type !== "") return body.type;
  return "application/octet-stream";
}
