import { expect, it, vi } from "vitest";
import type { BlobList, BlobListOptions } from "../../../src/blobs/types.js";
import { failure, type BlobsFixture } from "./harness.js";

const keys = [
  "a.txt",
  "b/1",
  "b/2",
  "c/x/1",
  "c/x/2",
  "c/y",
  "d",
  "photos/2024/jan/1.jpg",
  "photos/2024/jan/2.jpg",
  "photos/2024/feb/1.jpg",
  "photos/2025/a.jpg",
  "photos/index.html",
  "z",
];

async function putAll(fixture: BlobsFixture, list: string[]): Promise<void> {
  for (let i = 0; i < list.length; i += 25) {
    await Promise.all(list.slice(i, i + 25).map((key) => fixture.blobs.put(key, key)));
  }
}

/** Every page of a listing, followed by cursor. */
async function pages(fixture: BlobsFixture, options: BlobListOptions): Promise<BlobList[]> {
  const out: BlobList[] = [];
  let cursor: string | undefined;
  do {
    const page = await fixture.blobs.list({ ...options, cursor });
    out.push(page);
    cursor = page.cursor;
    if (out.length > 100) throw new Error("the listing does not end");
  } while (cursor !== undefined);
  return out;
}

/** Objects and prefixes of a page, in the order they would be walked. */
function entries(page: BlobList): string[] {
  return [...page.objects.map((object) => object.key), ...page.prefixes].sort(byUtf8);
}

function byUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

export function listingCases(fixture: () => BlobsFixture): void {
  it("lists everything in key order, with each object's description", async () => {
    await putAll(fixture(), keys);
    const page = await fixture().blobs.list();
    expect(page.objects.map((object) => object.key)).toEqual([...keys].sort(byUtf8));
    expect(page.prefixes).toEqual([]);
    expect(page.cursor).toBeUndefined();
    expect(page.objects[0]).toMatchObject({ key: "a.txt", size: 5, contentType: "text/plain;charset=utf-8" });
    expect(page.objects[0]!.lastModified).toBeInstanceOf(Date);
  });

  it("lists by prefix", async () => {
    await putAll(fixture(), keys);
    const page = await fixture().blobs.list({ prefix: "photos/2024/" });
    expect(page.objects.map((object) => object.key)).toEqual([
      "photos/2024/feb/1.jpg",
      "photos/2024/jan/1.jpg",
      "photos/2024/jan/2.jpg",
    ]);
    expect((await fixture().blobs.list({ prefix: "nothing/" })).objects).toEqual([]);
    expect((await fixture().blobs.list({ prefix: "c/x/1" })).objects.map((o) => o.key)).toEqual(["c/x/1"]);
  });

  it("groups keys by a delimiter into common prefixes", async () => {
    await putAll(fixture(), keys);
    const top = await fixture().blobs.list({ delimiter: "/" });
    expect(top.objects.map((object) => object.key)).toEqual(["a.txt", "d", "z"]);
    expect(top.prefixes).toEqual(["b/", "c/", "photos/"]);
    const photos = await fixture().blobs.list({ prefix: "photos/", delimiter: "/" });
    expect(photos.objects.map((object) => object.key)).toEqual(["photos/index.html"]);
    expect(photos.prefixes).toEqual(["photos/2024/", "photos/2025/"]);
    const months = await fixture().blobs.list({ prefix: "photos/2024/", delimiter: "/" });
    expect(months.prefixes).toEqual(["photos/2024/feb/", "photos/2024/jan/"]);
    const dashes = await fixture().blobs.list({ prefix: "photos/", delimiter: "/jan/" });
    expect(dashes.prefixes).toEqual(["photos/2024/jan/"]);
  });

  it("pages with limit and cursor, each entry exactly once", async () => {
    await putAll(fixture(), keys);
    for (const options of [
      {},
      { delimiter: "/" },
      { prefix: "photos/" },
      { prefix: "photos/", delimiter: "/" },
    ]) {
      const all = await fixture().blobs.list(options);
      for (const limit of [1, 2, 3, 5]) {
        const walked = await pages(fixture(), { ...options, limit });
        for (const page of walked.slice(0, -1))
          expect(page.objects.length + page.prefixes.length).toBe(limit);
        expect(walked.flatMap(entries)).toEqual(entries(all));
      }
    }
  });

  it("skips a common prefix that spans several pages of keys, in few queries", async () => {
    const many = Array.from({ length: 40 }, (_, i) => `big/${String(i).padStart(3, "0")}`);
    await putAll(fixture(), ["a", ...many, "big0", "c"]);
    const query = vi.spyOn(fixture().blobs.tables.tables, "query");
    const walked = await pages(fixture(), { delimiter: "/", limit: 2 });
    expect(walked.map(entries)).toEqual([
      ["a", "big/"],
      ["big0", "c"],
    ]);
    // Two pages: one query up to "big/" and one past it each, not one per key under big/.
    expect(query.mock.calls.length).toBeLessThanOrEqual(4);
    query.mockRestore();
    const inside = await pages(fixture(), { prefix: "big/", limit: 15 });
    expect(inside.flatMap((page) => page.objects.map((object) => object.key))).toEqual(many);
    expect(inside).toHaveLength(3);
  });

  it("refuses a cursor from another listing, or a made-up one", async () => {
    await putAll(fixture(), keys);
    const page = await fixture().blobs.list({ prefix: "photos/", limit: 1 });
    const other = await failure(fixture().blobs.list({ prefix: "b/", cursor: page.cursor }));
    expect(other.code).toBe("invalid_argument");
    expect((await failure(fixture().blobs.list({ cursor: "garbage" }))).code).toBe("invalid_argument");
    for (const limit of [0, 1001, 1.5]) {
      expect((await failure(fixture().blobs.list({ limit }))).code).toBe("invalid_argument");
    }
  });
}
