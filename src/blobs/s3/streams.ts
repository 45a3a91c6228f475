import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { CairnError } from "../../sdk/errors.js";
import type { Chunks } from "../driver.js";

/**
 * A response body from the SDK (a Node stream) as a web stream that reads only when asked, so a
 * slow reader leaves the bytes in the socket, not in memory. Cancelling destroys the response (the
 * socket is dropped, not drained); a failure mid-way becomes what `fail` makes of it.
 *
 * `window` keeps exactly the bytes asked for when the server sent more: `skip` bytes are dropped
 * and at most `length` passed on (some S3-compatible servers answer a range they cannot serve, or
 * misread, with more of the object; a 200 instead of a 206 is the whole object). Chunks come out
 * as plain Uint8Arrays (views of the socket's buffers, not Node Buffers).
 */
export function webStreamOf(
  body: AsyncIterable<Uint8Array> & { destroy?: (error?: Error) => void },
  fail: (error: unknown) => Error,
  window?: { skip: number; length: number },
): ReadableStream<Uint8Array> {
  const iterator = body[Symbol.asyncIterator]();
  let skip = window?.skip ?? 0;
  let left = window?.length ?? Infinity;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          for (;;) {
            const next: IteratorResult<Uint8Array, unknown> = await iterator.next();
            if (left <= 0) {
              // The range is complete: at its end (the socket goes back to the pool), or more
              // than was asked for came (the rest is not read: the response is dropped).
              if (next.done !== true) body.destroy?.();
              controller.close();
              return;
            }
            if (next.done === true) {
              if (window !== undefined) {
                throw new Error(`the object ended ${left} bytes before the end of the range`);
              }
              controller.close();
              return;
            }
            let chunk = new Uint8Array(next.value.buffer, next.value.byteOffset, next.value.byteLength);
            if (skip > 0) {
              const dropped = Math.min(skip, chunk.byteLength);
              skip -= dropped;
              chunk = chunk.subarray(dropped);
            }
            if (chunk.byteLength > left) chunk = chunk.subarray(0, left);
            if (chunk.byteLength === 0) continue;
            left -= chunk.byteLength;
            controller.enqueue(chunk);
            return;
          }
        } catch (error) {
          body.destroy?.();
          controller.error(fail(error));
        }
      },
      async cancel() {
        body.destroy?.();
        await iterator.return?.().catch(() => undefined);
      },
    },
    { highWaterMark: 0 },
  );
}

/**
 * Which bytes of a ranged GET's answer to keep: its Content-Range (absent on a 200, which is the
 * whole object) tells where the body starts.
 */
export function rangeWindow(
  asked: { start: number; end: number },
  contentRange: string | undefined,
): { skip: number; length: number } {
  const match = contentRange === undefined ? null : /^bytes (\d+)-(\d+)\//.exec(contentRange);
  const from = match === null ? 0 : Number(match[1]);
  if (from > asked.start) {
    throw new Error(`asked for bytes from ${asked.start}, the server sent them from ${from}`);
  }
  return { skip: asked.start - from, length: asked.end - asked.start + 1 };
}

/**
 * The bytes to write as a Node stream (what the multipart uploader reads), hashing and counting
 * them on the way and failing with `payload_too_large` past `maxSize`. `etag()` is the quoted MD5
 * once every byte went through; `failure()` is what reading the source threw (the real cause when
 * the upload then fails, whatever aborting it did). Destroying the stream stops reading the source.
 */
export function measured(
  body: Chunks,
  maxSize: number,
): { stream: Readable; size: () => number; etag: () => string; failure: () => Error | undefined } {
  const hash = createHash("md5");
  let size = 0;
  let failure: Error | undefined;
  async function* pass(): AsyncGenerator<Uint8Array> {
    try {
      for await (const chunk of body) {
        size += chunk.byteLength;
        if (size > maxSize) {
          throw new CairnError("payload_too_large", `the object exceeds the limit of ${maxSize} bytes`, {
            details: { limit: maxSize },
          });
        }
        hash.update(chunk);
        if (chunk.byteLength > 0) yield chunk;
      }
    } catch (error) {
      failure = error instanceof Error ? error : new Error(String(error));
      throw failure;
    }
  }
  return {
    stream: Readable.from(pass(), { objectMode: false, highWaterMark: 64 * 1024 }),
    size: () => size,
    etag: () => `"${hash.digest("hex")}"`,
    failure: () => failure,
  };
}
