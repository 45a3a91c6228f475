import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SqliteStore } from "../../src/store/sqlite/store.js";
import { openBlobs, publicUrl, type BlobsFixture } from "../conformance/blobs/harness.js";
import { startS3Server, type S3TestServer } from "./s3-server.js";

describe("the S3 blob driver with directDownloads=true", () => {
  let s3: S3TestServer;
  let fixture: BlobsFixture;
  let dir: string;

  beforeAll(async () => {
    s3 = await startS3Server();
    dir = mkdtempSync(join(tmpdir(), "cairn-blobs-s3-direct-"));
    const store = SqliteStore.open(join(dir, "cairn.db"));
    fixture = await openBlobs(
      store,
      dir,
      { CAIRN_BLOBS_URL: s3.url("direct", { directDownloads: "true" }) },
      () => store.close(),
    );
  });
  afterAll(async () => {
    await fixture?.close();
    rmSync(dir, { recursive: true, force: true });
    await s3?.stop();
  });

  // (s3rver accepts any SigV4 query signature, so checking signatures is left to S3 itself.)
  it("signs GET URLs with the AWS presigner for the object's bytes, served by S3", async () => {
    const { blobs } = fixture;
    await blobs.put("reports/q1.csv", "a,b\n1,2\n", { contentType: "text/csv" });
    const url = new URL(await blobs.presign("reports/q1.csv", { expiresIn: "10m" }));
    expect(url.origin).toBe(s3.endpoint);
    expect(url.searchParams.get("X-Amz-Expires")).toBe("600");
    expect(url.searchParams.get("X-Amz-Signature")).toMatch(/^[0-9a-f]{64}$/);

    const whole = await fetch(url);
    expect(whole.status).toBe(200);
    expect(whole.headers.get("content-type")).toBe("text/csv");
    expect(await whole.text()).toBe("a,b\n1,2\n");
    const part = await fetch(url, { headers: { range: "bytes=4-6" } });
    expect(part.status).toBe(206);
    expect(await part.text()).toBe("1,2");
  });

  it("names the bytes, not the key: a replaced object's old URL stops working", async () => {
    const { blobs } = fixture;
    await blobs.put("doc.txt", "first");
    const first = await blobs.presign("doc.txt");
    expect(await (await fetch(first)).text()).toBe("first");
    await blobs.put("doc.txt", "second");
    expect((await fetch(first)).status).toBe(404);
    expect(await (await fetch(await blobs.presign("doc.txt"))).text()).toBe("second");
  });

  it("keeps Cairn URLs for uploads and for keys without an object", async () => {
    const { blobs } = fixture;
    expect(await blobs.presign("later.txt")).toMatch(`${publicUrl}/_cairn/blobs/conformance/later.txt?`);
    expect(await blobs.presign("doc.txt", { method: "PUT" })).toMatch(
      `${publicUrl}/_cairn/blobs/conformance/doc.txt?`,
    );
  });
});
