import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { expect, it } from "vitest";
import type { BlobsFixture } from "./harness.js";

const md5 = (text: string) => `"${createHash("md5").update(text).digest("hex")}"`;

async function ids(fixture: BlobsFixture): Promise<string[]> {
  const out: string[] = [];
  for await (const { id } of fixture.blobs.driver.list()) out.push(id);
  return out;
}

export function objectCases(fixture: () => BlobsFixture): void {
  it("round-trips bytes, content type, metadata, ETag and time", async () => {
    const { blobs, clock } = fixture();
    const info = await blobs.put("docs/hello.txt", "Hello, blobs!", {
      contentType: "text/plain",
      metadata: { author: "ada", "x-version": "1" },
    });
    expect(info).toEqual({
      key: "docs/hello.txt",
      size: 13,
      etag: md5("Hello, blobs!"),
      contentType: "text/plain",
      metadata: { author: "ada", "x-version": "1" },
      lastModified: new Date(clock.now()),
    });
    expect(await blobs.head("docs/hello.txt")).toEqual(info);
    const object = await blobs.get("docs/hello.txt");
    expect(object).toMatchObject(info);
    expect(object?.range).toBeUndefined();
    expect(await object!.text()).toBe("Hello, blobs!");
  });

  it("misses a key that was never put", async () => {
    const { blobs } = fixture();
    expect(await blobs.get("nothing")).toBeUndefined();
    expect(await blobs.head("nothing")).toBeUndefined();
    expect(await blobs.delete("nothing")).toBe(false);
  });

  it("accepts every body kind, with a content type that follows it", async () => {
    const { blobs } = fixture();
    const bytes = new Uint8Array([1, 2, 3, 4]);
    expect((await blobs.put("k/string", "text")).contentType).toBe("text/plain;charset=utf-8");
    expect((await blobs.put("k/bytes", bytes)).contentType).toBe("application/octet-stream");
    expect((await blobs.put("k/view", new DataView(bytes.buffer, 1, 2))).size).toBe(2);
    expect((await blobs.put("k/buffer", bytes.buffer)).size).toBe(4);
    expect((await blobs.put("k/blob", new Blob(["<p>hi</p>"], { type: "text/html" }))).contentType).toBe(
      "text/html",
    );
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array([104, 105]));
        controller.enqueue(new Uint8Array([33]));
        controller.close();
      },
    });
    expect((await blobs.put("k/stream", stream)).size).toBe(3);
    expect((await blobs.put("k/iterable", Readable.from([Buffer.from("a"), Buffer.from("b")]))).size).toBe(2);
    expect((await blobs.put("k/empty", null)).size).toBe(0);
    expect(await (await blobs.get("k/stream"))!.text()).toBe("hi!");
    expect(await (await blobs.get("k/iterable"))!.text()).toBe("ab");
    expect(await (await blobs.get("k/view"))!.bytes()).toEqual(new Uint8Array([2, 3]));
    const empty = await blobs.get("k/empty");
    expect(empty?.size).toBe(0);
    expect(await empty!.bytes()).toEqual(new Uint8Array(0));
    await blobs.put("k/json", JSON.stringify({ a: [1, 2] }), { contentType: "application/json" });
    expect(await (await blobs.get("k/json"))!.json()).toEqual({ a: [1, 2] });
  });

  it("overwrites: the new object replaces the old, whose bytes are deleted", async () => {
    const { blobs } = fixture();
    const first = await blobs.put("over", "first version", { metadata: { v: "1" } });
    const before = await ids(fixture());
    const second = await blobs.put("over", "second", { contentType: "text/x-second" });
    expect(second.etag).not.toBe(first.etag);
    expect(await blobs.head("over")).toEqual(second);
    expect(second.metadata).toEqual({});
    expect(await (await blobs.get("over"))!.text()).toBe("second");
    const after = await ids(fixture());
    expect(after).toHaveLength(1);
    expect(before).not.toContain(after[0]);
  });

  it("deletes an object and its bytes", async () => {
    const { blobs } = fixture();
    await blobs.put("gone", "bye");
    expect(await blobs.delete("gone")).toBe(true);
    expect(await blobs.get("gone")).toBeUndefined();
    expect(await blobs.delete("gone")).toBe(false);
    expect(await ids(fixture())).toEqual([]);
  });

  it("keeps keys apart that differ only in case, Unicode form or trailing slash", async () => {
    const { blobs } = fixture();
    const keys = [
      "Photo.JPG",
      "photo.jpg",
      "caf\u00e9",
      "cafe\u0301",
      "dir",
      "dir/",
      "a b/c+d?e#f%20",
      "🚀/x",
    ];
    for (const key of keys) await blobs.put(key, `value of ${key}`);
    for (const key of keys) expect(await (await blobs.get(key))!.text()).toBe(`value of ${key}`);
  });

  it("sees a concurrent overwrite either before or after, never a mix", async () => {
    const { blobs } = fixture();
    const a = "a".repeat(300_000);
    const b = "b".repeat(300_000);
    await blobs.put("mix", a);
    const reads: Promise<string | undefined>[] = [];
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < 10; i++) {
      writes.push(blobs.put("mix", i % 2 === 0 ? b : a));
      reads.push(blobs.get("mix").then((object) => object?.text()));
    }
    await Promise.all(writes);
    for (const text of await Promise.all(reads)) expect(text === a || text === b).toBe(true);
  });
}
