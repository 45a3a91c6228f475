import type { FileHandle } from "node:fs/promises";
import { open } from "node:fs/promises";

/** Bytes per read: large enough for throughput, small enough to keep memory flat. */
export const readChunkBytes = 256 * 1024;

/** Make a directory's entries (a rename into it, a new sub-directory) durable. */
export async function syncDir(dir: string): Promise<void> {
  if (process.platform === "win32") return; // directories cannot be opened for fsync there
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function writeAll(file: FileHandle, chunk: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < chunk.byteLength) {
    const { bytesWritten } = await file.write(chunk, offset, chunk.byteLength - offset, null);
    offset += bytesWritten;
  }
}

/**
 * Bytes start..end (inclusive) of an open file as a stream that reads only when asked and owns the
 * handle: it is closed at the end, on an error, or when the reader cancels. Every chunk is a fresh
 * buffer of exactly its size (safe to transfer to another thread).
 */
export function fileStream(file: FileHandle, start: number, end: number): ReadableStream<Uint8Array> {
  let position = start;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await file.close();
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const wanted = Math.min(readChunkBytes, end - position + 1);
        if (wanted <= 0) {
          await close();
          controller.close();
          return;
        }
        const buffer = new Uint8Array(wanted);
        const { bytesRead } = await file.read(buffer, 0, wanted, position);
        if (bytesRead === 0) throw new Error("the blob file ended early (it was truncated on disk)");
        position += bytesRead;
        controller.enqueue(bytesRead === wanted ? buffer : buffer.slice(0, bytesRead));
      } catch (error) {
        await close().catch(() => {});
        controller.error(error);
      }
    },
    async cancel() {
      await close();
    },
  });
}
