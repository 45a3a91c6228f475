import type { IncomingMessage } from "node:http";

export type BodyResult =
  { ok: true; body: Uint8Array | undefined } | { ok: false; tooLarge: boolean; error?: Error };

/** Whether a request carries a body at all (most GETs do not, and skip reading entirely). */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  if (length !== undefined) return length !== "0";
  return req.headers["transfer-encoding"] !== undefined;
}

/** Buffer a request body up to `limit` bytes; stop reading as soon as it is known to be larger. */
export function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  const declared = req.headers["content-length"];
  if (declared !== undefined && Number(declared) > limit)
    return Promise.resolve({ ok: false, tooLarge: true });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        cleanup();
        req.pause();
        resolve({ ok: false, tooLarge: true });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      if (size === 0) resolve({ ok: true, body: undefined });
      else {
        // A fresh buffer of exactly the body: it is transferred to the instance, and chunks may be
        // views into shared pools holding other bytes.
        const body = new Uint8Array(size);
        let offset = 0;
        for (const chunk of chunks) {
          body.set(chunk, offset);
          offset += chunk.length;
        }
        resolve({ ok: true, body });
      }
    };
    const onError = (error: Error) => {
      cleanup();
      resolve({ ok: false, tooLarge: false, error });
    };
    const cleanup = () => {
      req.off("data", onData);
      req.off("end", onEnd);
      req.off("error", onError);
    };
    req.on("data", onData);
    req.on("end", onEnd);
    req.on("error", onError);
  });
}
