import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { SqliteStore } from "../../src/store/sqlite/store.js";

// The write-ahead log restarts from its beginning only when a write finds it wholly checkpointed.
// Under writes that never pause, the checkpointing thread never catches up by itself.
describe("SQLite store: the write-ahead log under sustained writes", () => {
  it("stays bounded: the store pauses writes briefly so that the log can restart", async () => {
    const dir = mkdtempSync(join(tmpdir(), "cairn-log-"));
    const file = join(dir, "cairn.db");
    const store = SqliteStore.open(file, { restartLogFrames: 256 });
    try {
      await store.transaction((tx) =>
        tx.run("CREATE TABLE filler (id INTEGER PRIMARY KEY, body TEXT NOT NULL)"),
      );
      const body = "x".repeat(3000); // about a page per row
      let largest = 0;
      const started = performance.now();
      // Eight writers that never stop for 3 s: several commits in every checkpoint interval.
      let id = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (performance.now() - started < 3000) {
            await store.transaction((tx) =>
              tx.run("INSERT INTO filler (id, body) VALUES (?, ?)", [++id, body]),
            );
            largest = Math.max(largest, statSync(`${file}-wal`).size);
          }
        }),
      );
      const written = id * 4096;
      // Without restarts the log holds every page written: a quarter of a GB here.
      expect(written).toBeGreaterThan(16 * 1024 * 1024);
      // With them it holds what is written between two restarts: a fraction, however fast the
      // writes (about a tenth at the ~70 MB/s of this test on a small machine).
      expect(largest).toBeLessThan(written / 4);
      const rows = await store.read.get<{ n: number }>("SELECT COUNT(*) AS n FROM filler");
      expect(rows?.n).toBe(id);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 20_000);
});
