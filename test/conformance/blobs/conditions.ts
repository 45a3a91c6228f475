import { expect, it } from "vitest";
import { failure, type BlobsFixture } from "./harness.js";

export function conditionCases(fixture: () => BlobsFixture): void {
  it('ifNoneMatch "*": of 20 concurrent first writes exactly one wins, and its bytes are the object', async () => {
    const { blobs } = fixture();
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => blobs.put("first", `writer ${i}`, { ifNoneMatch: "*" })),
    );
    const winners = results.filter((result) => result.status === "fulfilled");
    expect(winners).toHaveLength(1);
    for (const result of results) {
      if (result.status === "rejected") {
        expect(result.reason).toMatchObject({ code: "precondition_failed", status: 412 });
      }
    }
    const winner = (winners[0] as PromiseFulfilledResult<{ etag: string }>).value;
    const object = await blobs.get("first");
    expect(object?.etag).toBe(winner.etag);
    expect(await object!.text()).toMatch(/^writer \d+$/);
    // The losers' bytes were removed: only the winner's remain.
    const ids: string[] = [];
    for await (const { id } of blobs.driver.list()) ids.push(id);
    expect(ids).toHaveLength(1);
  });

  it("ifMatch: the current ETag writes; a stale one fails and changes nothing", async () => {
    const { blobs } = fixture();
    const v1 = await blobs.put("doc", "one");
    const v2 = await blobs.put("doc", "two", { ifMatch: v1.etag });
    const error = await failure(blobs.put("doc", "three", { ifMatch: v1.etag, metadata: { x: "y" } }));
    expect(error.code).toBe("precondition_failed");
    expect(error.status).toBe(412);
    expect(await blobs.head("doc")).toEqual(v2);
    expect(await (await blobs.get("doc"))!.text()).toBe("two");
    expect((await failure(blobs.put("missing", "x", { ifMatch: v2.etag }))).code).toBe("precondition_failed");
    expect(await blobs.head("missing")).toBeUndefined();
  });

  it("ifMatch under concurrent writers: of 10 writes from one ETag exactly one wins", async () => {
    const { blobs } = fixture();
    const base = await blobs.put("race", "base");
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => blobs.put("race", `writer ${i}`, { ifMatch: base.etag })),
    );
    expect(results.filter((result) => result.status === "fulfilled")).toHaveLength(1);
  });

  it("ifMatch on delete", async () => {
    const { blobs } = fixture();
    const v1 = await blobs.put("del", "one");
    const v2 = await blobs.put("del", "two");
    expect((await failure(blobs.delete("del", { ifMatch: v1.etag }))).code).toBe("precondition_failed");
    expect(await blobs.head("del")).toEqual(v2);
    expect(await blobs.delete("del", { ifMatch: v2.etag })).toBe(true);
  });

  it("conditional get and head: ifMatch fails with 412, a matching ifNoneMatch with 304", async () => {
    const { blobs } = fixture();
    const info = await blobs.put("cond", "body");
    expect(await (await blobs.get("cond", { ifMatch: info.etag }))!.text()).toBe("body");
    expect(await blobs.get("cond", { ifNoneMatch: '"other"' })).toMatchObject({ etag: info.etag });
    const stale = await failure(blobs.get("cond", { ifMatch: '"other"' }));
    expect(stale).toMatchObject({ code: "precondition_failed", status: 412 });
    const same = await failure(blobs.get("cond", { ifNoneMatch: info.etag }));
    expect(same).toMatchObject({ code: "not_modified", status: 304 });
    expect(same.details).toEqual({ etag: info.etag });
    expect((await failure(blobs.get("cond", { ifNoneMatch: "*" }))).code).toBe("not_modified");
    expect((await failure(blobs.get("cond", { ifNoneMatch: `"x", W/${info.etag}` }))).code).toBe(
      "not_modified",
    );
    expect((await failure(blobs.head("cond", { ifNoneMatch: info.etag }))).code).toBe("not_modified");
    expect((await failure(blobs.head("cond", { ifMatch: '"x"' }))).code).toBe("precondition_failed");
    expect(await blobs.get("absent", { ifMatch: info.etag })).toBeUndefined();
  });

  it("refuses malformed conditions", async () => {
    const { blobs } = fixture();
    const bad = { ifNoneMatch: '"etag"' } as unknown as { ifNoneMatch: "*" };
    expect((await failure(blobs.put("x", "y", bad))).code).toBe("invalid_argument");
    expect((await failure(blobs.put("x", "y", { ifMatch: '"a"', ifNoneMatch: "*" }))).code).toBe(
      "invalid_argument",
    );
    expect((await failure(blobs.get("x", { ifMatch: 7 as unknown as string }))).code).toBe(
      "invalid_argument",
    );
  });
}
