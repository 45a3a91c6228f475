import { randomBytes } from "node:crypto";
import { describe, it } from "vitest";
import { PostgresStore } from "../../../src/store/postgres/store.js";
import "../../../src/tables/migrations.js";
import { tablesConformance } from "./suite.js";

const url = process.env.CAIRN_TEST_DATABASE_URL;

if (url === undefined) {
  describe.skip("tables conformance: PostgreSQL (set CAIRN_TEST_DATABASE_URL or run npm test with PostgreSQL up)", () => {
    it("skipped", () => {});
  });
} else {
  tablesConformance("PostgreSQL", async () => {
    const store = await PostgresStore.open({ url, schema: `cairn_test_${randomBytes(6).toString("hex")}` });
    return {
      store,
      async close() {
        await store.dropSchema();
        await store.close();
      },
    };
  });
}
