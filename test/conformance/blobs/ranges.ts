import { expect, it } from "vitest";
import { failure, type BlobsFixture } from "./harness.js";

export function rangeCases(fixture: () => BlobsFixture): void {
  const text = "0123456789abcdefghij"; // 20 bytes

  async function read(range: Parameters<BlobsFixture["blobs"]["get"]>[1]) {
    const object = await fixture().blobs.get("r", range);
    return { text: await object!.text(), range: object!.range, size: object!.size };
  }

  it("reads start-end, open-ended and suffix ranges", async () => {
    await fixture().blobs.put("r", text);
    expect(await read({ range: { start: 2, end: 5 } })).toEqual({
      text: "2345",
      range: { start: 2, end: 5 },
      size: 20,
    });
    expect(await read({ range: { start: 15 } })).toEqual({
      text: "fghij",
      range: { start: 15, end: 19 },
      size: 20,
    });
    expect(await read({ range: { suffix: 3 } })).toEqual({
      text: "hij",
      range: { start: 17, end: 19 },
      size: 20,
    });
    expect(await read({ range: { start: 0, end: 0 } })).toMatchObject({ text: "0" });
  });

  it("clamps an end past the object, and a suffix longer than it", async () => {
    await fixture().blobs.put("r", text);
    expect(await read({ range: { start: 18, end: 500 } })).toMatchObject({
      text: "ij",
      range: { start: 18, end: 19 },
    });
    expect(await read({ range: { suffix: 500 } })).toMatchObject({ text, range: { start: 0, end: 19 } });
  });

  it("refuses a range that starts past the end with range_not_satisfiable (416)", async () => {
    const { blobs } = fixture();
    await blobs.put("r", text);
    const error = await failure(blobs.get("r", { range: { start: 20 } }));
    expect(error).toMatchObject({ code: "range_not_satisfiable", status: 416, details: { size: 20 } });
    expect((await failure(blobs.get("r", { range: { suffix: 0 } }))).code).toBe("range_not_satisfiable");
    await blobs.put("empty", "");
    expect((await failure(blobs.get("empty", { range: { start: 0 } }))).code).toBe("range_not_satisfiable");
  });

  it("refuses malformed ranges", async () => {
    const { blobs } = fixture();
    await blobs.put("r", text);
    for (const range of [{ start: -1 }, { start: 5, end: 2 }, { start: 1.5 }, { suffix: -2 }, "bytes=0-1"]) {
      const error = await failure(blobs.get("r", { range: range as { start: number } }));
      expect(error.code).toBe("invalid_argument");
    }
  });
}
