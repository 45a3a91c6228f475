import { CairnError } from "../sdk/errors.js";
import type { Chunks } from "./driver.js";
import type { BlobBody } from "./types.js";

const encoder = new TextEncoder();

/** Any accepted body as a sequence of byte chunks, read only as fast as the driver writes. */
export function chunksOf(body: BlobBody | AsyncIterable<Uint8Array>): Chunks {
  if (body === null || body === undefined) return once(new Uint8Array(0));
  if (typeof body === "string") return once(encoder.encode(body));
  if (body instanceof ArrayBuffer) return once(new Uint8Array(body));
  if (ArrayBuffer.isView(body)) return once(new Uint8Array(body.buffer, body.byteOffset, body.byteLength));
  if (body instanceof Blob) return fromStream(body.stream());
  if (body instanceof ReadableStream) return fromStream(body);
  if (typeof (body as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function") {
    return fromIterable(body as AsyncIterable<unknown>);
  }
  throw new CairnError(
    "invalid_argument",
    "a blob body must be a string, an ArrayBuffer or typed array, a Blob, or a ReadableStream of bytes",
  );
}

/** Give up on a body that will not be read (a put refused before its bytes were needed). */
export async function discard(body: unknown): Promise<void> {
  if (body instanceof ReadableStream && !body.locked) await body.cancel().catch(() => {});
}

function once(bytes: Uint8Array): Chunks {
  return [bytes];
}

async function* fromStream(stream: ReadableStream<unknown>): AsyncIterable<Uint8Array> {
  const reader = stream.getReader();
  let finished = false;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        finished = true;
        return;
      }
      yield bytesOf(value);
    }
  } finally {
    if (!finished) await reader.cancel().catch(() => {});
  }
}

async function* fromIterable(iterable: AsyncIterable<unknown>): AsyncIterable<Uint8Array> {
  for await (const chunk of iterable) yield bytesOf(chunk);
}

function bytesOf(chunk: unknown): Uint8Array {
  if (chunk instanceof Uint8Array) return chunk;
  if (typeof chunk === "string") return encoder.encode(chunk);
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk);
  if (ArrayBuffer.isView(chunk)) return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new CairnError("invalid_argument", "a blob body stream must yield Uint8Array chunks");
}
