import { expect, it } from "vitest";
import { blobLimits } from "../../../src/blobs/types.js";
import { failure, type BlobsFixture } from "./harness.js";

const badKeys: Array<[string, unknown]> = [
  ["empty", ""],
  ["absolute", "/etc/passwd"],
  ["a .. segment", "a/../../etc/passwd"],
  ["only ..", ".."],
  ["a . segment", "a/./b"],
  ["NUL", "a\u0000b"],
  ["a newline", "a\nb"],
  ["an unpaired surrogate", "a\ud800b"],
  ["over 1024 bytes", "k".repeat(1025)],
  ["over 1024 bytes of UTF-8", "é".repeat(512) + "x"],
  ["not a string", 42],
];

export function validationCases(fixture: () => BlobsFixture): void {
  it.each(badKeys)("refuses a key that is %s with invalid_key on every operation", async (_why, key) => {
    const { blobs } = fixture();
    const k = key as string;
    for (const attempt of [
      blobs.put(k, "x"),
      blobs.get(k),
      blobs.head(k),
      blobs.delete(k),
      blobs.presign(k, { method: "PUT" }),
    ]) {
      expect(await failure(attempt)).toMatchObject({ code: "invalid_key", status: 400 });
    }
    const ids: string[] = [];
    for await (const { id } of blobs.driver.list()) ids.push(id);
    expect(ids).toEqual([]);
  });

  it("accepts keys at the limits", async () => {
    const { blobs } = fixture();
    for (const key of [
      "k".repeat(blobLimits.keyBytes),
      "é".repeat(512),
      "..a/b..",
      "a//b",
      "dir/",
      "x\\..\\y",
    ]) {
      await blobs.put(key, "ok");
      expect(await (await blobs.get(key))!.text()).toBe("ok");
    }
  });

  it("limits metadata to 2 KB of names and values, with plain names", async () => {
    const { blobs } = fixture();
    const fits = { a: "v".repeat(blobLimits.metadataBytes - 1) };
    expect((await blobs.put("m", "x", { metadata: fits })).metadata).toEqual(fits);
    const big = await failure(
      blobs.put("m2", "x", { metadata: { a: "v".repeat(blobLimits.metadataBytes) } }),
    );
    expect(big).toMatchObject({ code: "metadata_too_large", status: 400 });
    for (const metadata of [{ "bad name": "x" }, { ok: 1 }, ["x"], "x"]) {
      const error = await failure(
        blobs.put("m3", "x", { metadata: metadata as unknown as Record<string, string> }),
      );
      expect(error.code).toBe("invalid_argument");
    }
    expect(await blobs.head("m2")).toBeUndefined();
  });

  it("checks the content type", async () => {
    const { blobs } = fixture();
    for (const contentType of ["", "text/plain\r\nx-evil: 1", "ü/x", "x".repeat(257), 5]) {
      expect((await failure(blobs.put("ct", "x", { contentType: contentType as string }))).code).toBe(
        "invalid_argument",
      );
    }
  });

  it("refuses a body that is not bytes", async () => {
    const { blobs } = fixture();
    const error = await failure(blobs.put("b", { not: "bytes" } as unknown as string));
    expect(error.code).toBe("invalid_argument");
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(42);
        controller.close();
      },
    });
    expect((await failure(blobs.put("b", stream as ReadableStream<Uint8Array>))).code).toBe(
      "invalid_argument",
    );
    expect(await blobs.head("b")).toBeUndefined();
  });

  it("fails a put past the object size limit and keeps nothing of it", async () => {
    const { blobs } = fixture();
    const limit = 1000;
    const error = await failure(blobs.write("big", "x".repeat(limit + 1), undefined, limit));
    expect(error).toMatchObject({ code: "payload_too_large", status: 413 });
    expect(await blobs.head("big")).toBeUndefined();
    const ids: string[] = [];
    for await (const { id } of blobs.driver.list()) ids.push(id);
    expect(ids).toEqual([]);
    expect((await blobs.write("fits", "x".repeat(limit), undefined, limit)).info.size).toBe(limit);
  });

  it("a source stream that fails leaves nothing behind", async () => {
    const { blobs } = fixture();
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 3) controller.enqueue(new Uint8Array(1000));
        else controller.error(new Error("the client went away"));
      },
    });
    await expect(blobs.put("broken", stream)).rejects.toThrow("the client went away");
    expect(await blobs.head("broken")).toBeUndefined();
    const ids: string[] = [];
    for await (const { id } of blobs.driver.list()) ids.push(id);
    expect(ids).toEqual([]);
  });
}
