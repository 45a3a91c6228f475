import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, it } from "vitest";
import { PostgresStore } from "../../../src/store/postgres/store.js";
import { SqliteStore } from "../../../src/store/sqlite/store.js";
import { startS3Server, type S3TestServer } from "../../blobs/s3-server.js";
import { openBlobs } from "./harness.js";
import { blobsConformance } from "./suite.js";

/**
 * The blobs conformance suite over the S3 driver: an S3-compatible server (s3rver) started here on
 * loopback, each fixture under a key prefix of its own (so it starts empty), over a SQLite store
 * and, with CAIRN_TEST_DATABASE_URL, over PostgreSQL.
 */
let server: S3TestServer | undefined;
beforeAll(async () => {
  server = await startS3Server();
});
afterAll(async () => {
  await server?.stop();
});

const blobsUrl = () => server!.url(`run-${randomBytes(6).toString("hex")}`);

blobsConformance("S3 driver (s3rver), SQLite store", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cairn-blobs-s3-"));
  const store = SqliteStore.open(join(dir, "cairn.db"));
  return openBlobs(store, dir, { CAIRN_BLOBS_URL: blobsUrl() }, async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
});

const url = process.env.CAIRN_TEST_DATABASE_URL;
if (url === undefined) {
  describe.skip("blobs conformance: S3 driver, PostgreSQL store (set CAIRN_TEST_DATABASE_URL)", () => {
    it("skipped", () => {});
  });
} else {
  blobsConformance("S3 driver (s3rver), PostgreSQL store", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cairn-blobs-s3-"));
    const store = await PostgresStore.open({ url, schema: `cairn_test_${randomBytes(6).toString("hex")}` });
    return openBlobs(store, dir, { CAIRN_BLOBS_URL: blobsUrl() }, async () => {
      await store.dropSchema();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    });
  });
}
