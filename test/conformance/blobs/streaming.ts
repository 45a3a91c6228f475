import { expect, it } from "vitest";
import { digestOf, generated, MemoryWatch, type BlobsFixture } from "./harness.js";

const size = 64 * 1024 * 1024;
const mb = 1024 * 1024;

export function streamingCases(fixture: () => BlobsFixture): void {
  it("streams a 64 MB object in and out without holding it in memory", { timeout: 120_000 }, async () => {
    const { blobs } = fixture();
    const watch = new MemoryWatch(16);
    const source = generated(size, () => watch.sample());
    const info = await blobs.put("large/object.bin", source.stream, { contentType: "application/x-test" });
    expect(info.size).toBe(size);
    const object = await blobs.get("large/object.bin");
    expect(object?.size).toBe(size);
    const read = await digestOf(object!.body, () => watch.sample());
    expect(read).toEqual({ sha256: source.digest(), size });
    // Whatever is kept alive while streaming is a few chunks, not the object.
    expect(watch.peakArrayBuffers).toBeLessThan(32 * mb);
    expect(watch.peakRss).toBeLessThan(48 * mb);

    const tail = await blobs.get("large/object.bin", { range: { suffix: 10 } });
    expect(tail?.range).toEqual({ start: size - 10, end: size - 1 });
    expect((await tail!.bytes()).byteLength).toBe(10);
    const middle = await blobs.get("large/object.bin", { range: { start: 10 * mb, end: 30 * mb - 1 } });
    expect((await digestOf(middle!.body)).size).toBe(20 * mb);
  });

  it("a reader that stops early releases the object", async () => {
    const { blobs } = fixture();
    const source = generated(8 * mb);
    await blobs.put("partial", source.stream);
    const object = await blobs.get("partial");
    const reader = object!.body.getReader();
    await reader.read();
    await reader.cancel();
    expect(await blobs.delete("partial")).toBe(true);
  });
}
