import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "vitest";
import { PostgresStore } from "../../../src/store/postgres/store.js";
import { SqliteStore } from "../../../src/store/sqlite/store.js";
import { openBlobs } from "./harness.js";
import { blobsConformance } from "./suite.js";

blobsConformance("folder driver, SQLite store", async () => {
  const dir = mkdtempSync(join(tmpdir(), "cairn-blobs-"));
  const store = SqliteStore.open(join(dir, "cairn.db"));
  return openBlobs(store, dir, {}, async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
});

const url = process.env.CAIRN_TEST_DATABASE_URL;
if (url === undefined) {
  describe.skip("blobs conformance: folder driver, PostgreSQL store (set CAIRN_TEST_DATABASE_URL)", () => {
    it("skipped", () => {});
  });
} else {
  blobsConformance("folder driver (CAIRN_BLOBS_URL=file://), PostgreSQL store", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cairn-blobs-"));
    const store = await PostgresStore.open({ url, schema: `cairn_test_${randomBytes(6).toString("hex")}` });
    return openBlobs(
      store,
      join(dir, "data"),
      { CAIRN_BLOBS_URL: `file://${join(dir, "shared")}` },
      async () => {
        await store.dropSchema();
        await store.close();
        rmSync(dir, { recursive: true, force: true });
      },
    );
  });
}
