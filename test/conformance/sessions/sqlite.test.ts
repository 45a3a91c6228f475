import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SqliteStore } from "../../../src/store/sqlite/store.js";
import "../../../src/tables/migrations.js";
import { sessionsConformance } from "./suite.js";

sessionsConformance("SQLite", () => {
  const dir = mkdtempSync(join(tmpdir(), "cairn-sessions-"));
  const store = SqliteStore.open(join(dir, "cairn.db"));
  return Promise.resolve({
    store,
    async close() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
});
