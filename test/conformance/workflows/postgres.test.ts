import { randomBytes } from "node:crypto";
import pg from "pg";
import { describe, it } from "vitest";
import { workflowsConformance } from "./suite.js";

const url = process.env.CAIRN_TEST_DATABASE_URL;

if (url === undefined) {
  describe.skip("workflows conformance: PostgreSQL (set CAIRN_TEST_DATABASE_URL or run npm test with PostgreSQL up)", () => {
    it("skipped", () => {});
  });
} else {
  workflowsConformance("PostgreSQL", () => {
    const schema = `cairn_test_${randomBytes(6).toString("hex")}`;
    return Promise.resolve({
      env: { CAIRN_DATABASE_URL: url, CAIRN_DATABASE_SCHEMA: schema },
      async close() {
        const client = new pg.Client({ connectionString: url });
        await client.connect();
        await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
        await client.end();
      },
    });
  });
}
